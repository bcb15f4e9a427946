#include "fake_generation_server.h"

#include <utility>  // before asio: awaitable.hpp uses std::exchange

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include "auditship/common/hash.h"
#include "auditship/common/json_writer.h"

namespace auditship::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

struct CertPem {
  std::string cert, key;
};

// A fresh P-256 key and a self-signed certificate for localhost / 127.0.0.1, valid one day.
CertPem make_self_signed() {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  X509* x = X509_new();
  if (!pkey || !x) throw std::runtime_error("openssl: key or certificate allocation failed");
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), static_cast<long>(::getpid()) ^ std::rand());
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  const std::pair<int, const char*> exts[] = {{NID_basic_constraints, "critical,CA:TRUE"},
                                              {NID_key_usage, "critical,digitalSignature,keyCertSign"},
                                              // generation.test: a name only the tests' ConnectProxy resolves (an agent behind a
                                              // proxy never resolves the endpoint itself).
                                              {NID_subject_alt_name, "DNS:localhost,DNS:generation.test,IP:127.0.0.1"}};
  for (const auto& [nid, value] : exts) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, pkey, EVP_sha256());
  CertPem pem;
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  pem.cert.assign(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  n = BIO_get_mem_data(bio, &data);
  pem.key.assign(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  X509_free(x);
  EVP_PKEY_free(pkey);
  return pem;
}

std::string query_id(std::string_view target) {
  auto pos = target.find("id=");
  if (pos == std::string_view::npos) return {};
  std::string_view raw = target.substr(pos + 3);
  raw = raw.substr(0, raw.find('&'));
  std::string id;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size()) {
      id += static_cast<char>(std::stoi(std::string(raw.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      id += raw[i];
    }
  }
  return id;
}

bool matches(const std::vector<std::string>& patterns, std::string_view id) {
  for (const auto& p : patterns) {
    if (!p.empty() && p.back() == '*' ? id.substr(0, p.size() - 1) == std::string_view(p).substr(0, p.size() - 1)
                                      : id == p)
      return true;
  }
  return false;
}

void field(std::string& out, const char* key) {
  if (out.back() != '{') out += ',';
  json::append_string(out, key);
  out += ':';
}

}  // namespace

std::uint64_t FakeGenerationServer::key_hash(std::string_view key) { return fnv1a64(key); }

FakeGeneration FakeGenerationServer::expected(std::string_view id) {
  const std::uint64_t h = fnv1a64(id);
  FakeGeneration g;
  g.total_cost = static_cast<double>(h % 1000000 + 1) / 1e8;
  g.latency = static_cast<double>(h % 5000) + 0.5;
  g.model = "fake/model-" + std::to_string(h % 7);
  g.provider_name = "FakeProvider";
  g.tokens_prompt = static_cast<std::int64_t>(h % 1000);
  g.tokens_completion = static_cast<std::int64_t>((h >> 10) % 1000);
  g.streamed = (h & 1) != 0;
  return g;
}

std::string FakeGenerationServer::generation_body(std::string_view id, bool with_cost) {
  const FakeGeneration g = expected(id);
  std::string o = "{\"data\":{";
  field(o, "id"), json::append_string(o, id);
  field(o, "upstream_id"), o += "\"chatcmpl-fake\"";
  field(o, "total_cost");
  if (with_cost) json::append_number(o, g.total_cost);
  else o += "null";
  field(o, "cache_discount"), o += "null";
  field(o, "upstream_inference_cost"), o += "0";
  field(o, "usage");
  if (with_cost) json::append_number(o, g.total_cost);
  else o += "0";
  field(o, "created_at"), o += "\"2026-08-21T18:40:12.481Z\"";
  field(o, "model"), json::append_string(o, g.model);
  field(o, "provider_name"), json::append_string(o, g.provider_name);
  field(o, "router"), o += "null";
  field(o, "api_type"), o += "\"completions\"";
  field(o, "app_id"), o += "918273";
  field(o, "origin"), o += "\"https://example.test\"";
  field(o, "streamed"), o += g.streamed ? "true" : "false";
  field(o, "cancelled"), o += "false";
  field(o, "is_byok"), o += "false";
  field(o, "latency"), json::append_number(o, g.latency);
  field(o, "generation_time"), json::append_number(o, static_cast<std::int64_t>(g.latency) / 2);
  field(o, "moderation_latency"), o += "null";
  field(o, "finish_reason"), o += "\"stop\"";
  field(o, "native_finish_reason"), o += "\"end_turn\"";
  field(o, "tokens_prompt"), json::append_number(o, g.tokens_prompt);
  field(o, "tokens_completion"), json::append_number(o, g.tokens_completion);
  field(o, "native_tokens_prompt"), json::append_number(o, g.tokens_prompt + 3);
  field(o, "native_tokens_completion"), json::append_number(o, g.tokens_completion + 1);
  field(o, "native_tokens_reasoning"), o += "0";
  field(o, "native_tokens_cached"), o += "5";
  field(o, "native_tokens_completion_images"), o += "null";
  field(o, "data_region"), o += "\"global\"";
  field(o, "provider_responses"), o += "[{\"status\":200,\"latency\":12.5}]";
  field(o, "some_future_field"), o += "{\"nested\":[1,2,3]}";
  o += "}}";
  return o;
}

struct FakeGenerationServer::Impl {
  explicit Impl(FakeServerOptions o) : options(std::move(o)) {}

  FakeServerOptions options;
  ssl::context ssl_ctx{ssl::context::tls_server};
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  std::string dir, ca_path;
  std::uint16_t port = 0;

  mutable std::mutex mu;
  std::vector<FakeRequest> log;
  std::map<std::string, int, std::less<>> seen;
  std::atomic<std::size_t> connections{0};

  // Decides the answer; returns the status (0 = hang) and fills the response.
  int decide(const http::request<http::string_body>& req, http::response<http::string_body>& res) {
    const std::string id = query_id(std::string_view(req.target().data(), req.target().size()));
    const auto auth_field = req[http::field::authorization];
    const std::string_view auth(auth_field.data(), auth_field.size());
    const std::string_view key = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : std::string_view{};
    int nth = 0;
    {
      std::lock_guard lk(mu);
      nth = seen[id]++;
    }
    FakeBehavior b;
    bool key_ok = options.accepted_keys.empty();
    for (const auto& k : options.accepted_keys) key_ok = key_ok || k == key;
    if (!key_ok) {
      b.action = FakeAction::kStatus;
      b.status = 401;
    } else if (auto scripted = options.script ? options.script(id, nth) : std::nullopt) {
      b = *scripted;
    } else if (nth < options.not_found_first || matches(options.never_found, id)) {
      b.action = FakeAction::kNotFound;
    }
    res.set(http::field::content_type, "application/json");
    int status = 200;
    switch (b.action) {
      case FakeAction::kServe: res.body() = generation_body(id); break;
      case FakeAction::kNoCost: res.body() = generation_body(id, false); break;
      case FakeAction::kNotFound:
        status = 404;
        res.body() = "{\"error\":{\"code\":404,\"message\":\"Generation " + id + " not found\",\"metadata\":null}}";
        break;
      case FakeAction::kTooManyRequests:
        status = 429;
        if (!b.retry_after.empty()) res.set(http::field::retry_after, b.retry_after);
        if (!b.ratelimit_reset.empty()) res.set("X-RateLimit-Reset", b.ratelimit_reset);
        res.body() = "{\"error\":{\"code\":429,\"message\":\"Rate limit exceeded\"}}";
        break;
      case FakeAction::kStatus:
        status = b.status;
        res.body() = "{\"error\":{\"code\":" + std::to_string(status) + ",\"message\":\"scripted\"}}";
        break;
      case FakeAction::kHang: status = 0; break;
      case FakeAction::kMalformed: res.body() = "{\"data\":{\"id\":\"" + id + "\",\"total_cost\":0.1,"; break;
      case FakeAction::kOversized:
        res.body() = "{\"data\":{\"id\":\"" + id + "\",\"pad\":\"" + std::string(2u << 20, 'x') + "\"}}";
        break;
    }
    {
      std::lock_guard lk(mu);
      log.push_back(FakeRequest{id, key_hash(key), std::chrono::steady_clock::now(), status});
    }
    if (status != 0) res.result(static_cast<unsigned>(status));
    return status;
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream& stream, beast::tcp_stream& tcp) {
    beast::flat_buffer buffer;
    asio::steady_timer delay(ioc);
    for (;;) {
      boost::system::error_code ec;
      http::request<http::string_body> req;
      tcp.expires_never();
      co_await http::async_read(stream, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      http::response<http::string_body> res{http::status::ok, req.version()};
      const int status = decide(req, res);
      if (status == 0) {
        // Hang: answer nothing; the session ends when the client gives up and closes.
        http::request<http::string_body> more;
        co_await http::async_read(stream, buffer, more, asio::redirect_error(asio::use_awaitable, ec));
        co_return;
      }
      if (options.latency.count() > 0) {
        delay.expires_after(options.latency);
        co_await delay.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !req.keep_alive()) co_return;
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    if (options.tls) {
      beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), ssl_ctx);
      boost::system::error_code ec;
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
      co_await stream.async_handshake(ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      co_await serve(stream, beast::get_lowest_layer(stream));
    } else {
      beast::tcp_stream stream(std::move(socket));
      co_await serve(stream, stream);
    }
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) continue;
      ++connections;
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(ioc, session(std::move(socket)), asio::detached);
    }
  }
};

FakeGenerationServer::FakeGenerationServer(FakeServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  Impl& s = *impl_;
  char tmpl[] = "/tmp/auditship-fakegen-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  s.dir = tmpl;
  s.ca_path = s.dir + "/ca.pem";
  const CertPem pem = make_self_signed();
  std::ofstream(s.ca_path) << pem.cert;
  s.ssl_ctx.use_certificate_chain(asio::buffer(pem.cert));
  s.ssl_ctx.use_private_key(asio::buffer(pem.key), ssl::context::pem);
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  s.acceptor.open(ep.protocol());
  s.acceptor.set_option(tcp::acceptor::reuse_address(true));
  s.acceptor.bind(ep);
  s.acceptor.listen(asio::socket_base::max_listen_connections);
  s.port = s.acceptor.local_endpoint().port();
  asio::co_spawn(s.ioc, s.accept_loop(), asio::detached);
  for (int i = 0; i < std::max(1, s.options.threads); ++i) s.threads.emplace_back([&s] { s.ioc.run(); });
}

FakeGenerationServer::~FakeGenerationServer() {
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  std::remove(impl_->ca_path.c_str());
  ::rmdir(impl_->dir.c_str());
}

std::string FakeGenerationServer::url() const {
  return std::string(impl_->options.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(impl_->port) +
         "/api/v1/generation";
}
std::string FakeGenerationServer::ca_file() const { return impl_->ca_path; }
std::uint16_t FakeGenerationServer::port() const { return impl_->port; }

std::vector<FakeRequest> FakeGenerationServer::requests() const {
  std::lock_guard lk(impl_->mu);
  return impl_->log;
}
std::size_t FakeGenerationServer::connections() const { return impl_->connections.load(); }
std::size_t FakeGenerationServer::request_count() const {
  std::lock_guard lk(impl_->mu);
  return impl_->log.size();
}
std::size_t FakeGenerationServer::requests_for(std::string_view id) const {
  std::lock_guard lk(impl_->mu);
  std::size_t n = 0;
  for (const auto& r : impl_->log) n += r.id == id;
  return n;
}

}  // namespace auditship::testing
