#include "support/connect_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string_view>

namespace auditship::testing {
namespace {

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// The request head (up to the blank line), or empty if the client went away or sent too much.
std::string read_head(int fd) {
  std::string head;
  char c;
  while (head.size() < 8192) {
    if (::recv(fd, &c, 1, 0) != 1) return {};
    head += c;
    if (head.size() >= 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0) return head;
  }
  return {};
}

std::string header_value(const std::string& head, std::string_view name) {
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    const std::size_t start = pos + 2, end = head.find("\r\n", start);
    const std::string line = head.substr(start, end - start);
    const auto colon = line.find(':');
    if (colon != std::string::npos && colon == name.size() &&
        ::strncasecmp(line.data(), name.data(), name.size()) == 0) {
      std::size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      return line.substr(v);
    }
    pos = end;
  }
  return {};
}

int connect_to(const std::string& target) {
  const auto colon = target.rfind(':');
  if (colon == std::string::npos) return -1;
  std::string host = target.substr(0, colon);
  // *.test is reserved for testing (RFC 6761): here every such name is this host, so a test can
  // give the endpoint a name that only the proxy resolves.
  if (host == "localhost" || (host.size() > 5 && host.compare(host.size() - 5, 5, ".test") == 0)) host = "127.0.0.1";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(target.substr(colon + 1))));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return -1;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

ConnectProxy::ConnectProxy(std::string required_authorization) : required_(std::move(required_authorization)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_, 64) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("ConnectProxy: cannot listen on 127.0.0.1");
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

ConnectProxy::~ConnectProxy() {
  stopping_ = true;
  ::shutdown(listener_, SHUT_RDWR);
  acceptor_.join();
  ::close(listener_);
  {
    std::lock_guard lk(mu_);
    for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : threads_) t.join();
}

std::string ConnectProxy::url(const std::string& userinfo) const {
  return "http://" + (userinfo.empty() ? std::string() : userinfo + "@") + "127.0.0.1:" + std::to_string(port_);
}

std::vector<std::string> ConnectProxy::targets() const {
  std::lock_guard lk(mu_);
  return targets_;
}

std::vector<std::string> ConnectProxy::authorizations() const {
  std::lock_guard lk(mu_);
  return authorizations_;
}

void ConnectProxy::track(int fd) {
  std::lock_guard lk(mu_);
  open_.insert(fd);
}

void ConnectProxy::untrack(int fd) {
  std::lock_guard lk(mu_);
  open_.erase(fd);
}

void ConnectProxy::accept_loop() {
  while (!stopping_) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) continue;
    track(client);
    std::lock_guard lk(mu_);
    threads_.emplace_back([this, client] { serve(client); });
  }
}

void ConnectProxy::serve(int client) {
  if (hang_up_) {
    untrack(client);
    ::close(client);
    return;
  }
  const std::string head = read_head(client);
  const auto sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
  const std::string method = head.substr(0, sp1);
  const std::string target = sp1 == std::string::npos ? std::string() : head.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string auth = header_value(head, "Proxy-Authorization");
  {
    std::lock_guard lk(mu_);
    targets_.push_back(target);
    authorizations_.push_back(auth);
  }
  if (head.empty() || method != "CONNECT") {
    write_all(client, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  } else if (!required_.empty() && auth != required_) {
    ++refused_;
    write_all(client,
              "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n"
              "Content-Length: 0\r\nConnection: close\r\n\r\n");
  } else if (const int upstream = connect_to(target); upstream < 0) {
    write_all(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  } else {
    track(upstream);
    ++tunnels_;
    if (write_all(client, "HTTP/1.1 200 Connection established\r\n\r\n")) relay(client, upstream);
    untrack(upstream);
    ::close(upstream);
  }
  untrack(client);
  ::close(client);
}

void ConnectProxy::relay(int a, int b) {
  char buf[16384];
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  while (!stopping_) {
    if (::poll(fds, 2, 100) < 0) return;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
      if (n <= 0 || !write_all(fds[1 - i].fd, std::string_view(buf, static_cast<std::size_t>(n)))) return;
    }
  }
}

}  // namespace auditship::testing
