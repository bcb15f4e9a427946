#include "support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/temp_dir.h"

namespace auditship::testing {

Process::Process(const std::string& binary, const std::vector<std::string>& args, const Options& options) {
  int out_pipe[2] = {-1, -1}, in_pipe[2] = {-1, -1};
  if (options.stdout_file.empty() && ::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  if (options.stdin_pipe && ::pipe2(in_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  std::vector<std::string> argv_s{binary};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork");
  if (pid_ == 0) {
    if (options.stdout_file.empty()) {
      ::dup2(out_pipe[1], STDOUT_FILENO);
    } else {
      int fd = ::open(options.stdout_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, STDOUT_FILENO);
    }
    if (!options.stderr_file.empty()) {
      int fd = ::open(options.stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, STDERR_FILENO);
    }
    if (options.stdin_pipe) ::dup2(in_pipe[0], STDIN_FILENO);
    else {
      int fd = ::open("/dev/null", O_RDONLY);
      ::dup2(fd, STDIN_FILENO);
    }
    for (const auto& e : options.env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  if (out_pipe[1] >= 0) ::close(out_pipe[1]);
  if (in_pipe[0] >= 0) ::close(in_pipe[0]);
  stdout_fd_ = out_pipe[0];
  stdin_fd_ = in_pipe[1];
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(10));
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
}

std::optional<std::string> Process::read_line(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || stdout_fd_ < 0) return std::nullopt;
    pollfd pfd{stdout_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

void Process::write_line(const std::string& line) {
  std::string l = line + "\n";
  if (::write(stdin_fd_, l.data(), l.size()) != static_cast<ssize_t>(l.size())) throw std::runtime_error("write");
}

void Process::signal(int sig) {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool Process::running() { return pid_ > 0 && !wait(std::chrono::milliseconds(0)); }

std::uint64_t Process::rss_bytes() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

double Process::cpu_seconds() const {
  std::string stat = read_file("/proc/" + std::to_string(pid_) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

Captured run_and_capture(const std::string& binary, const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout, const std::vector<std::string>& env) {
  TempDir dir;
  Captured c;
  {
    Process p(binary, args, {.stdout_file = dir.file("out"), .stderr_file = dir.file("err"), .env = env});
    auto code = p.wait(timeout);
    c.exit_code = code ? *code : -1;
  }
  c.out = read_file(dir.file("out"));
  c.err = read_file(dir.file("err"));
  return c;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace auditship::testing
