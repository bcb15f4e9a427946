#pragma once
// A forward proxy on 127.0.0.1 (port 0) that speaks the CONNECT method, as Squid or a corporate
// egress proxy does for HTTPS: it reads `CONNECT host:port`, checks Proxy-Authorization when
// told to, answers 200 and relays bytes both ways (or 407 / 405 / 502 and closes). It never sees
// inside the tunnel; names ending in .test lead to 127.0.0.1. Records every CONNECT for the test. A thread per connection; thread-safe
// accessors.
#include <atomic>
#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace auditship::testing {

class ConnectProxy {
 public:
  // `required_authorization`: the exact Proxy-Authorization value to accept ("Basic ..."), or
  // empty to accept any request.
  explicit ConnectProxy(std::string required_authorization = {});
  ~ConnectProxy();
  ConnectProxy(const ConnectProxy&) = delete;
  ConnectProxy& operator=(const ConnectProxy&) = delete;

  // http://[userinfo@]127.0.0.1:port
  [[nodiscard]] std::string url(const std::string& userinfo = {}) const;
  [[nodiscard]] std::vector<std::string> targets() const;  // every CONNECT target, in order
  [[nodiscard]] std::vector<std::string> authorizations() const;  // Proxy-Authorization of each
  [[nodiscard]] std::size_t tunnels() const { return tunnels_.load(); }  // answered 200
  [[nodiscard]] std::size_t refused() const { return refused_.load(); }  // answered 407
  // While true, every connection is closed as soon as it is accepted (a proxy going down).
  void set_hang_up(bool on) { hang_up_ = on; }

 private:
  void accept_loop();
  void serve(int client);
  void relay(int a, int b);
  void track(int fd);
  void untrack(int fd);

  const std::string required_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false}, hang_up_{false};
  std::atomic<std::size_t> tunnels_{0}, refused_{0};
  mutable std::mutex mu_;
  std::vector<std::string> targets_, authorizations_;
  std::set<int> open_;  // sockets to shut down on destruction
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace auditship::testing
