#include "auditship/metrics/metrics_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "auditship/common/json_writer.h"
#include "auditship/common/log.h"
#include "auditship/common/thread_name.h"

namespace auditship::metrics {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr int kThreads = 2;
// A client gets this long to send its request and read the answer; a stuck scraper cannot
// hold a connection (and its memory) forever.
constexpr auto kRequestTimeout = std::chrono::seconds(10);

struct Routes {
  Registry& registry;
  std::vector<ReadinessCheck> checks;

  http::response<http::string_body> answer(const http::request<http::string_body>& req) const {
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::server, "auditship");
    res.keep_alive(false);
    std::string_view target(req.target().data(), req.target().size());
    target = target.substr(0, target.find('?'));
    auto json = [&](http::status status, std::string body) {
      res.result(status);
      res.set(http::field::content_type, "application/json");
      res.body() = std::move(body);
    };
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      json(http::status::method_not_allowed, "{\"error\":\"only GET\"}");
    } else if (target == "/metrics") {
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = registry.render_prometheus();
    } else if (target == "/health") {
      json(http::status::ok, "{\"status\":\"alive\"}");
    } else if (target == "/ready") {
      std::string failing;
      for (const auto& c : checks) {
        std::string why = c.failure();
        if (why.empty()) continue;
        failing += failing.empty() ? "" : ",";
        json::append_string(failing, c.name);
        failing += ':';
        json::append_string(failing, why);
      }
      if (failing.empty()) json(http::status::ok, "{\"status\":\"ready\"}");
      else json(http::status::service_unavailable, "{\"status\":\"not_ready\",\"failing\":{" + failing + "}}");
    } else {
      json(http::status::not_found, "{\"error\":\"not found; try /metrics, /health or /ready\"}");
    }
    if (req.method() == http::verb::head) res.body().clear();
    res.prepare_payload();
    return res;
  }
};

// One connection, one request: the session object owns everything its pending operation touches.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Routes& routes) : stream_(std::move(socket)), routes_(routes) {}

  void start() {
    stream_.expires_after(kRequestTimeout);
    http::async_read(stream_, buffer_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted)
      return;
    if (ec) {
      res_ = {http::status::bad_request, 11};
      res_.body() = "bad request\n";
      res_.keep_alive(false);
      res_.prepare_payload();
    } else {
      res_ = routes_.answer(req_);
    }
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  const Routes& routes_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

}  // namespace

struct MetricsServer::Impl {
  asio::io_context io{kThreads};
  tcp::acceptor acceptor{asio::make_strand(io)};
  Routes routes;
  std::vector<std::thread> threads;

  Impl(Registry& registry, std::vector<ReadinessCheck> checks) : routes{registry, std::move(checks)} {}

  void accept() {
    acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;  // closed by the destructor
      if (!ec) std::make_shared<Session>(std::move(socket), routes)->start();
      else log::warn("metrics server: accept failed", {{"error", ec.message()}});
      accept();
    });
  }
};

bool split_host_port(const std::string& listen, std::string& host, std::uint16_t& port) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) return false;
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned long p = 0;
  for (char c : listen.substr(colon + 1)) {
    if (c < '0' || c > '9') return false;
    p = p * 10 + static_cast<unsigned long>(c - '0');
    if (p > 65535) return false;
  }
  port = static_cast<std::uint16_t>(p);
  return true;
}

Result<MetricsServerPtr> MetricsServer::start(const std::string& listen, std::vector<ReadinessCheck> checks,
                                              Registry& registry) {
  std::string host;
  std::uint16_t port = 0;
  if (!split_host_port(listen, host, port)) return Error{"metrics.listen '" + listen + "' is not host:port"};
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Error{"metrics.listen '" + listen + "': '" + host + "' is not an IP address"};
  auto impl = std::make_unique<Impl>(registry, std::move(checks));
  tcp::endpoint endpoint(address, port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error{"metrics server cannot listen on " + listen + ": " + ec.message()};
  impl->accept();
  for (int i = 0; i < kThreads; ++i) {
    impl->threads.emplace_back([io = &impl->io] {
      name_this_thread("as-metrics");
      io->run();
    });
  }
  MetricsServerPtr server(new MetricsServer(std::move(impl)));
  log::info("metrics server listening", {{"address", server->address()}});
  return server;
}

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  impl_->io.stop();  // sessions in progress are abandoned: nothing they hold outlives the io_context
  for (auto& t : impl_->threads) t.join();
}

std::string MetricsServer::address() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  if (ec) return {};
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

}  // namespace auditship::metrics
