#pragma once
// Real child processes for integration tests: the agent binary, the mock cluster, tools.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace auditship::testing {

class Process {
 public:
  struct Options {
    std::string stdout_file;  // empty: a pipe readable with read_line()
    std::string stderr_file;  // empty: inherit the test's stderr
    bool stdin_pipe = false;  // write_line() feeds it
    std::vector<std::string> env;  // extra NAME=VALUE entries
  };
  Process(const std::string& binary, const std::vector<std::string>& args, const Options& options);
  Process(const std::string& binary, const std::vector<std::string>& args) : Process(binary, args, Options{}) {}
  ~Process();  // SIGKILLs a child still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  // A line from the child's stdout pipe, or nullopt at EOF / timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  void write_line(const std::string& line);
  void signal(int sig);
  // Exit code (or 128+signal); nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  [[nodiscard]] bool running();
  // Resident set size in bytes from /proc, 0 if gone.
  [[nodiscard]] std::uint64_t rss_bytes() const;
  // user+system CPU seconds so far (from /proc/PID/stat).
  [[nodiscard]] double cpu_seconds() const;

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1, stdin_fd_ = -1;
  std::string buffer_;
  std::optional<int> status_;
};

// Runs a command to completion, capturing stdout and stderr; `env` adds NAME=VALUE entries.
struct Captured {
  int exit_code = -1;
  std::string out, err;
};
Captured run_and_capture(const std::string& binary, const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60),
                         const std::vector<std::string>& env = {});

// Polls `pred` every 20 ms until it holds or `timeout` passes; returns its last value.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

}  // namespace auditship::testing
