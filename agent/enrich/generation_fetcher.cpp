#include "auditship/enrich/generation_fetcher.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <queue>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "auditship/common/log.h"
#include "auditship/common/metrics.h"
#include "auditship/common/thread_name.h"
#include "auditship/enrich/id_cache.h"
#include "auditship/enrich/proxy.h"
#include "auditship/enrich/rate_limiter.h"

namespace auditship::enrich {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Everything runs on one io_context: naming its executor type instead of the type-erased
// any_io_executor saves a copy and an indirect call in every handler (a few % of a lookup).
using Executor = asio::io_context::executor_type;
using TcpStream = beast::basic_stream<tcp, Executor>;
using TlsStream = beast::ssl_stream<TcpStream>;
template <class T>
using Awaitable = asio::awaitable<T, Executor>;
constexpr asio::use_awaitable_t<Executor> kUseAwaitable;
using Resolver = asio::ip::basic_resolver<tcp, Executor>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor>;

// A generation body is a few KB; anything near this is garbage, and reading it whole would
// let a broken endpoint make us buffer without bound.
constexpr std::size_t kMaxBodyBytes = 1 << 20;
// 404 = "not materialized yet": usually seconds, sometimes a minute (docs §4).
constexpr auto kNotReadyBase = 250ms;
constexpr auto kNotReadyCap = 60s;
// Transient failures (408/429/5xx/network): jittered so a fleet of agents does not retry in step.
constexpr auto kTransientBase = 500ms;
constexpr auto kTransientCap = 30s;
// Seed: "total_cost missing → retry after 1–2 s".
constexpr auto kMissingCostMin = 1000ms;
constexpr auto kMissingCostMax = 2000ms;
// A Retry-After or reset further out than this is treated as this (a bad header must not park us for days).
constexpr auto kMaxThrottle = 10min;
// Records arrive spread out (1,000/s is one due lookup per millisecond). Launching each at its
// own instant costs a timer wake-up per lookup; waiting up to this long after the first is due
// sends those due meanwhile together. Small next to initial_delay and to a lookup's latency.
constexpr auto kLaunchCoalesce = 20ms;
// A lookup still waiting for a token or a free connection this long after its horizon gives
// up without another attempt (the grace lets the usual last attempt at the horizon go out).
constexpr auto kExpiryGrace = 500ms;

struct Endpoint {
  bool tls = true;
  std::string host, port, path, host_header;
};

Result<Endpoint> parse_endpoint(std::string_view url) {
  Endpoint ep;
  if (url.rfind("https://", 0) == 0) {
    url.remove_prefix(8);
  } else if (url.rfind("http://", 0) == 0) {
    ep.tls = false;
    url.remove_prefix(7);
  } else {
    return Error{"enrich.endpoint must start with https:// or http://"};
  }
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  ep.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  ep.host_header = std::string(authority);
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    ep.host = std::string(authority.substr(0, colon));
    ep.port = std::string(authority.substr(colon + 1));
  } else {
    ep.host = std::string(authority);
    ep.port = ep.tls ? "443" : "80";
  }
  if (!ep.host.empty() && ep.host.front() == '[' && ep.host.back() == ']') ep.host = ep.host.substr(1, ep.host.size() - 2);
  if (ep.host.empty() || ep.port.empty()) return Error{"enrich.endpoint has no host"};
  return ep;
}

void append_query_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data()) return std::nullopt;
  return v;
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Conn {
  std::unique_ptr<TlsStream> tls;
  std::unique_ptr<TcpStream> plain;
  beast::flat_buffer buffer;
  bool connected = false;
  // The request is kept with its connection: only the target changes from one lookup to the
  // next (and the Authorization header when the key does), not five header allocations.
  http::request<http::empty_body> request;
  std::optional<ApiKeys::Index> request_key;
  TcpStream& tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};
using ConnPtr = std::unique_ptr<Conn>;

enum class Failure { kNone, kTimeout, kNetwork, kGarbage };

struct Reply {
  Failure failure = Failure::kNone;
  int status = 0;
  bool keep_alive = false;
  std::string body;
  std::string retry_after;
  std::string ratelimit_reset;
};

Failure classify(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return Failure::kTimeout;
  if (ec.category() == boost::system::error_code(http::error::bad_version).category()) return Failure::kGarbage;
  return Failure::kNetwork;
}

struct Job {
  ApiKeys::Index key = 0;
  SteadyClock::time_point deadline;
  std::uint64_t serial = 0;  // this job among all jobs ever made for the id (expiry entries)
  std::uint64_t seq = 0;  // matches the live heap entry; older entries are stale
  bool in_flight = false;
  // What the job resolves as if its horizon passes while it waits: the last attempt's outcome,
  // or timeout if it never got one (rate limit or in-flight cap saturated).
  LookupStatus expired_status = LookupStatus::kTimeout;
  std::uint32_t attempts = 0;
  std::uint32_t not_ready = 0;
  std::uint32_t transient = 0;
  int last_http = 0;
  bool last_timed_out = false;
};

struct Due {
  SteadyClock::time_point at;
  std::uint64_t seq;
  std::string id;
  bool operator>(const Due& o) const { return at > o.at; }
};

struct FetchMetrics {
  std::array<metrics::Counter*, 8> lookups{};
  metrics::Counter& retries;
  metrics::Counter& cache_hits;
  metrics::Counter& proxy_refusals;
  metrics::Counter& connection_failures;
  metrics::Gauge& in_flight;
  metrics::Histogram& latency;

  explicit FetchMetrics(metrics::Registry& r)
      : retries(r.counter("auditship_enrich_retries_total", "Generation lookups retried")),
        cache_hits(r.counter("auditship_enrich_cache_hits_total", "Generation lookups answered from the cache")),
        proxy_refusals(r.counter("auditship_enrich_proxy_refusals_total",
                                 "Tunnels the proxy refused to open (CONNECT answered other than 200)")),
        connection_failures(r.counter("auditship_enrich_connection_failures_total",
                                      "Connections to the endpoint (or its proxy) that could not be opened")),
        in_flight(r.gauge("auditship_enrich_in_flight", "Generation requests outstanding")),
        latency(r.histogram("auditship_enrich_latency_seconds", "Duration of one generation request",
                            {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})) {
    for (std::size_t i = 0; i < lookups.size(); ++i)
      lookups[i] = &r.counter("auditship_enrich_lookups_total", "Generation lookups resolved, by outcome",
                              {{"status", std::string(status_name(static_cast<LookupStatus>(i)))}});
  }
};

}  // namespace

struct GenerationFetcher::Impl {
  Impl(const EnrichConfig& cfg, ApiKeys k, ResultFn fn, Endpoint e, std::optional<Proxy> px)
      : config(cfg),
        keys(std::move(k)),
        on_result(std::move(fn)),
        ep(std::move(e)),
        proxy(std::move(px)),
        tunnel_target(authority(ep.host, ep.port)),
        cap(std::max<std::size_t>(1, std::min(cfg.max_in_flight, cfg.pool_size))),
        limiter(cfg.max_rps, SteadyClock::now()),
        cache(cfg.cache_size, cfg.cache_ttl),
        parser(field_mask(cfg.fields)),
        metrics(metrics::Registry::global()) {}

  // Declared first so it is destroyed last: sockets and timers below must die before it.
  ssl::context ssl_ctx{ssl::context::tls_client};
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  Timer wake{ioc.get_executor()};

  const EnrichConfig config;
  const ApiKeys keys;
  const ResultFn on_result;
  const Endpoint ep;
  const std::optional<Proxy> proxy;
  const std::string tunnel_target;  // host:port the proxy is asked to CONNECT to
  const std::size_t cap;
  RateLimiter limiter;
  LruTtlCache<LookupResultPtr> cache;
  GenerationParser parser;
  FetchMetrics metrics;

  std::unordered_map<std::string, Job> jobs;  // pending ids
  std::priority_queue<Due, std::vector<Due>, std::greater<>> heap;
  // (deadline + grace, serial, id) per job: a saturated endpoint (down, hanging, rate limited)
  // must not hold records past their horizon waiting for an attempt.
  std::priority_queue<Due, std::vector<Due>, std::greater<>> expiries;
  std::vector<ConnPtr> idle;
  std::size_t in_flight = 0;
  std::uint64_t next_seq = 0;
  std::set<std::pair<ApiKeys::Index, int>> refusals_logged;
  std::set<unsigned> proxy_refusals_logged;  // by HTTP status
  bool reachable = true;  // false from a failed connection until one opens: one line each way
  std::uint64_t id_mismatches = 0;
  std::mt19937_64 rng{std::random_device{}()};
  std::string target_buf;
  bool stopping = false;
  std::thread thread;

  Status setup_tls() {
    if (!ep.tls) return {};
    boost::system::error_code ec;
    if (!config.tls_verify) {
      ssl_ctx.set_verify_mode(ssl::verify_none);
      log::warn("enrich: TLS certificate verification is OFF (enrich.tls_verify=false); lookups and API keys "
                "are exposed to anyone who can intercept traffic to the endpoint",
                {{"host", ep.host}});
      return {};
    }
    ssl_ctx.set_verify_mode(ssl::verify_peer);
    if (!config.ca_file.empty()) ssl_ctx.load_verify_file(config.ca_file, ec);
    else ssl_ctx.set_default_verify_paths(ec);
    if (ec) return Error{"enrich.ca_file: cannot load CA certificates from '" + config.ca_file + "': " + ec.message()};
    return {};
  }

  void start() {
    asio::co_spawn(ioc.get_executor(), schedule(), asio::detached);
    thread = std::thread([this] {
      name_this_thread("as-enrich-fetch");
      for (;;) {
        try {
          ioc.run();
          return;
        } catch (const std::exception& e) {
          log::error("enrich: fetcher handler failed", {{"error", e.what()}});
        }
      }
    });
  }

  void stop() noexcept {
    if (!thread.joinable()) return;
    asio::post(ioc, [this] { stopping = true; });
    // Pending coroutines are destroyed with the io_context; no result is reported after this.
    ioc.stop();
    thread.join();
    idle.clear();
  }

  ConnPtr take_conn() {
    if (!idle.empty()) {
      ConnPtr c = std::move(idle.back());
      idle.pop_back();
      return c;
    }
    auto c = std::make_unique<Conn>();
    c->request.method(http::verb::get);
    c->request.version(11);
    c->request.set(http::field::host, ep.host_header);
    c->request.set(http::field::user_agent, "auditship/" AUDITSHIP_VERSION);
    c->request.set(http::field::accept, "application/json");
    c->request.keep_alive(true);
    if (ep.tls) {
      c->tls = std::make_unique<TlsStream>(ioc.get_executor(), ssl_ctx);
      boost::system::error_code ec;
      asio::ip::make_address(ep.host, ec);
      // SNI carries host names only; an IP literal is matched against the certificate's IP SANs.
      if (ec) SSL_set_tlsext_host_name(c->tls->native_handle(), ep.host.c_str());
      if (config.tls_verify) c->tls->set_verify_callback(ssl::host_name_verification(ep.host));
    } else {
      c->plain = std::make_unique<TcpStream>(ioc.get_executor());
    }
    return c;
  }

  // The request target for `id`, in a buffer reused by every request (valid until the next call).
  beast::string_view target(const std::string& id) {
    target_buf.assign(ep.path);
    target_buf += ep.path.find('?') == std::string::npos ? "?id=" : "&id=";
    append_query_escaped(target_buf, id);
    return {target_buf.data(), target_buf.size()};
  }

  template <class Stream>
  Awaitable<void> write_read(Stream& stream, Conn& c, http::request<http::empty_body>& req,
                                   http::response_parser<http::string_body>& parser, boost::system::error_code& ec) {
    c.tcp().expires_after(config.request_timeout);
    co_await http::async_write(stream, req, asio::redirect_error(kUseAwaitable, ec));
    if (ec) co_return;
    c.tcp().expires_after(config.request_timeout);
    co_await http::async_read(stream, c.buffer, parser, asio::redirect_error(kUseAwaitable, ec));
  }

  // A connection that could not be opened: counted, and logged when the endpoint goes from
  // reachable to not (not once per attempt: lookups retry it many times a second).
  Reply unreachable(const char* step, const boost::system::error_code& ec, Reply r) {
    metrics.connection_failures.inc();
    if (reachable) {
      reachable = false;
      log::warn("enrich: cannot reach the generation endpoint; lookups are retried until their horizon",
                {{"step", step}, {"endpoint", tunnel_target}, {"via", proxy ? proxy->display() : std::string("direct")},
                 {"error", ec.message()}});
    }
    return r;
  }

  // Asks the proxy for a tunnel to the endpoint; TLS then runs inside it, end to end.
  Awaitable<Failure> open_tunnel(Conn& c, boost::system::error_code& ec) {
    http::request<http::empty_body> req{http::verb::connect, tunnel_target, 11};
    req.set(http::field::host, tunnel_target);
    req.set(http::field::user_agent, "auditship/" AUDITSHIP_VERSION);
    if (!proxy->authorization.empty()) req.set(http::field::proxy_authorization, proxy->authorization);
    c.tcp().expires_after(config.request_timeout);
    co_await http::async_write(c.tcp(), req, asio::redirect_error(kUseAwaitable, ec));
    if (ec) co_return classify(ec);
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // a 200 to CONNECT has no body: the tunnel starts right after the header
    c.tcp().expires_after(config.request_timeout);
    co_await http::async_read_header(c.tcp(), c.buffer, parser, asio::redirect_error(kUseAwaitable, ec));
    if (ec) co_return classify(ec);
    const auto& res = parser.get();
    // Nothing may follow the 200 before our TLS hello: bytes there are not from the endpoint.
    if (res.result() == http::status::ok) co_return c.buffer.size() == 0 ? Failure::kNone : Failure::kGarbage;
    metrics.proxy_refusals.inc();
    if (proxy_refusals_logged.insert(res.result_int()).second)
      log::error("enrich: the proxy refuses to open a tunnel to the endpoint; lookups are retried until their horizon",
                 {{"proxy", proxy->display()}, {"from", proxy->source}, {"http_status", res.result_int()},
                  {"reason", std::string(res.reason())}, {"endpoint", tunnel_target}});
    co_return Failure::kNetwork;
  }

  Awaitable<Reply> exchange(Conn& c, const std::string& id, ApiKeys::Index key) {
    Reply r;
    boost::system::error_code ec;
    auto fail = [&r, &ec] {
      r.failure = classify(ec);
      return r;
    };
    if (!c.connected) {
      Resolver resolver(ioc.get_executor());
      auto endpoints = co_await resolver.async_resolve(proxy ? proxy->host : ep.host, proxy ? proxy->port : ep.port,
                                                       asio::redirect_error(kUseAwaitable, ec));
      if (ec) co_return unreachable("DNS lookup", ec, fail());
      c.tcp().expires_after(config.request_timeout);
      co_await c.tcp().async_connect(endpoints, asio::redirect_error(kUseAwaitable, ec));
      if (ec) co_return unreachable("connect", ec, fail());
      if (proxy) {
        r.failure = co_await open_tunnel(c, ec);
        if (ec) co_return unreachable("proxy tunnel", ec, r);
        if (r.failure != Failure::kNone) co_return r;  // refused: logged by open_tunnel
      }
      if (c.tls) {
        c.tcp().expires_after(config.request_timeout);
        co_await c.tls->async_handshake(ssl::stream_base::client, asio::redirect_error(kUseAwaitable, ec));
        if (ec) co_return unreachable("TLS handshake", ec, fail());
      }
      c.connected = true;
      if (!reachable) {
        reachable = true;
        log::info("enrich: the generation endpoint is reachable again", {{"endpoint", tunnel_target}});
      }
    }
    http::request<http::empty_body>& req = c.request;
    req.target(target(id));
    if (c.request_key != key) {
      // The only place key material leaves this process.
      req.set(http::field::authorization, "Bearer " + keys.secret(key));
      c.request_key = key;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    if (c.tls) co_await write_read(*c.tls, c, req, parser, ec);
    else co_await write_read(*c.plain, c, req, parser, ec);
    if (ec) co_return fail();
    c.tcp().expires_never();
    auto& res = parser.get();
    r.status = static_cast<int>(res.result_int());
    r.keep_alive = res.keep_alive();
    r.retry_after = std::string(res[http::field::retry_after]);
    r.ratelimit_reset = std::string(res["X-RateLimit-Reset"]);
    r.body = std::move(res.body());
    co_return r;
  }

  Awaitable<void> schedule() {
    for (;;) {
      if (stopping) co_return;
      const auto now = SteadyClock::now();
      auto wait_until = SteadyClock::time_point::max();
      expire(now);
      if (!expiries.empty()) wait_until = expiries.top().at;
      while (!heap.empty()) {
        auto it = jobs.find(heap.top().id);
        if (it != jobs.end() && it->second.seq == heap.top().seq) break;
        heap.pop();
      }
      if (!heap.empty()) {
        if (heap.top().at > now) {
          // Never early, up to kLaunchCoalesce late: the lookups that fall due meanwhile go out
          // in the same turn instead of one timer wake-up each.
          wait_until = std::min(wait_until, heap.top().at + kLaunchCoalesce);
        } else if (in_flight < cap) {
          const auto delay = limiter.delay(now);
          if (delay <= SteadyClock::duration::zero()) {
            limiter.take(now);
            std::string id = heap.top().id;
            heap.pop();
            launch(std::move(id));
            continue;
          }
          wait_until = std::min(wait_until, now + delay);
        }
        // else: at the in-flight cap; a finishing request wakes us.
      }
      wake.expires_at(wait_until);
      boost::system::error_code ec;
      co_await wake.async_wait(asio::redirect_error(kUseAwaitable, ec));
    }
  }

  void expire(SteadyClock::time_point now) {
    while (!expiries.empty() && expiries.top().at <= now) {
      const Due e = expiries.top();
      expiries.pop();
      auto it = jobs.find(e.id);
      // Gone, a later job for the id, or in flight (its reply resolves it: past the deadline
      // retry() gives up).
      if (it == jobs.end() || it->second.serial != e.seq || it->second.in_flight) continue;
      resolve(e.id, it->second, it->second.expired_status, nullptr);
    }
  }

  void launch(std::string id) {
    jobs.at(id).in_flight = true;
    ++in_flight;
    metrics.in_flight.set(static_cast<double>(in_flight));
    asio::co_spawn(ioc.get_executor(), attempt(std::move(id)), asio::detached);
  }

  Awaitable<void> attempt(std::string id) {
    const ApiKeys::Index key = jobs.at(id).key;
    ConnPtr conn = take_conn();
    const auto started = SteadyClock::now();
    Reply reply = co_await exchange(*conn, id, key);
    metrics.latency.observe(std::chrono::duration<double>(SteadyClock::now() - started).count());
    std::optional<ParsedGeneration> parsed;
    if (reply.failure == Failure::kNone && reply.status == 200) {
      parsed = parser.parse(reply.body);
      if (!parsed) reply.failure = Failure::kGarbage;
    }
    // A connection that failed, hung or sent garbage is in an unknown state: close it (by
    // dropping it) so the retry goes out on another.
    if (reply.failure == Failure::kNone && reply.keep_alive) idle.push_back(std::move(conn));
    --in_flight;
    metrics.in_flight.set(static_cast<double>(in_flight));
    if (stopping) co_return;
    on_reply(id, reply, parsed);
    wake.cancel();
  }

  SteadyClock::duration jittered(SteadyClock::duration base) {
    std::uniform_int_distribution<std::int64_t> dist(base.count() / 2, base.count());
    return SteadyClock::duration(dist(rng));
  }

  static SteadyClock::duration backoff(SteadyClock::duration base, SteadyClock::duration cap, std::uint32_t n) {
    auto d = base;
    for (std::uint32_t i = 0; i < n && d < cap; ++i) d *= 2;
    return std::min(d, cap);
  }

  void on_reply(const std::string& id, const Reply& reply, std::optional<ParsedGeneration>& parsed) {
    auto it = jobs.find(id);
    if (it == jobs.end()) return;
    Job& job = it->second;
    job.in_flight = false;
    ++job.attempts;
    job.last_http = reply.status;
    job.last_timed_out = reply.failure == Failure::kTimeout;
    const auto now = SteadyClock::now();
    const LookupStatus transient_final = [&] { return job.last_timed_out ? LookupStatus::kTimeout : LookupStatus::kError; }();
    if (reply.failure != Failure::kNone) {
      if (reply.failure == Failure::kGarbage) job.last_http = 0;
      return retry(id, job, now, jittered(backoff(kTransientBase, kTransientCap, job.transient++)), transient_final);
    }
    switch (reply.status) {
      case 200:
        if (parsed->total_cost >= 0) return resolve_ok(id, job, std::move(*parsed));
        {
          std::uniform_int_distribution<std::int64_t> dist(kMissingCostMin.count(), kMissingCostMax.count());
          return retry(id, job, now, std::chrono::milliseconds(dist(rng)), LookupStatus::kError);
        }
      case 404: return retry(id, job, now, backoff(kNotReadyBase, kNotReadyCap, job.not_ready++), LookupStatus::kNotFound);
      case 401:
      case 403: return refuse(id, job, LookupStatus::kUnauthorized);
      case 402: return refuse(id, job, LookupStatus::kPaymentRequired);
      case 429: {
        const auto until = throttle_until(reply, now);
        limiter.throttle(now, until);
        ++job.transient;
        return retry(id, job, now, until - now, LookupStatus::kError);
      }
      case 408:
      case 500:
      case 502:
      case 503:
      case 524:
      case 529:
        if (auto s = parse_int(reply.retry_after); s && reply.status == 503)
          return retry(id, job, now, std::min<SteadyClock::duration>(std::chrono::seconds(*s), kMaxThrottle), LookupStatus::kError);
        return retry(id, job, now, jittered(backoff(kTransientBase, kTransientCap, job.transient++)), LookupStatus::kError);
      default: return resolve(id, job, LookupStatus::kError, nullptr);
    }
  }

  SteadyClock::time_point throttle_until(const Reply& reply, SteadyClock::time_point now) const {
    SteadyClock::duration wait = 1s;
    if (auto s = parse_int(reply.retry_after)) {
      wait = std::chrono::seconds(std::max<std::int64_t>(0, *s));
    } else if (auto reset = parse_int(reply.ratelimit_reset)) {
      // The unit is undocumented: epoch milliseconds are > 1e12, epoch seconds are not.
      const std::int64_t reset_ms = *reset > 1'000'000'000'000 ? *reset : *reset * 1000;
      wait = std::chrono::milliseconds(std::max<std::int64_t>(0, reset_ms - unix_ms_now()));
    }
    return now + std::min<SteadyClock::duration>(wait, kMaxThrottle);
  }

  void retry(const std::string& id, Job& job, SteadyClock::time_point now, SteadyClock::duration delay,
             LookupStatus if_expired) {
    if (now >= job.deadline) return resolve(id, job, if_expired, nullptr);
    job.expired_status = if_expired;
    // One last attempt exactly at the horizon rather than none after the previous one.
    const auto at = std::min(now + delay, job.deadline);
    job.seq = ++next_seq;
    heap.push(Due{at, job.seq, id});
    metrics.retries.inc();
  }

  void refuse(const std::string& id, Job& job, LookupStatus status) {
    if (refusals_logged.insert({job.key, job.last_http}).second)
      log::error("enrich: the generation endpoint refuses lookups with this key; records ship with status " +
                     std::string(status_name(status)) +
                     ". A lookup must use the key that made the call (see enrich.api_keys / key_field)",
                 {{"key_name", keys.name(job.key)}, {"http_status", job.last_http}});
    resolve(id, job, status, nullptr);
  }

  void resolve_ok(const std::string& id, Job& job, ParsedGeneration g) {
    if (!g.served_id.empty() && g.served_id != id && id_mismatches++ == 0)
      log::warn("enrich: the endpoint answered with another generation id; joining on the id queried",
                {{"queried", id}, {"served", g.served_id}});
    resolve(id, job, LookupStatus::kOk, &g);
  }

  void resolve(const std::string& id, Job& job, LookupStatus status, ParsedGeneration* g) {
    auto result = std::make_shared<LookupResult>();
    result->status = status;
    result->attempts = job.attempts;
    result->http_status = job.last_http;
    result->resolved_at_ms = unix_ms_now();
    if (g) {
      result->total_cost = g->total_cost;
      result->openrouter = std::move(g->openrouter);
    }
    metrics.lookups[static_cast<std::size_t>(status)]->inc();
    if (status == LookupStatus::kOk) cache.put(id, result, SteadyClock::now());
    const std::string key = id;  // `id` may live in the map entry erased next
    jobs.erase(key);
    on_result(key, std::move(result));
  }

  void accept(std::vector<LookupRequest>& requests) {
    const auto now = SteadyClock::now();
    for (auto& r : requests) {
      if (jobs.count(r.id) != 0) continue;  // already pending: its result answers this one too
      if (const LookupResultPtr* hit = cache.get(r.id, now)) {
        metrics.cache_hits.inc();
        on_result(r.id, *hit);
        continue;
      }
      Job job;
      job.key = r.key;
      const auto at = std::max(r.not_before, now);
      job.deadline = at + config.horizon;
      job.seq = ++next_seq;
      job.serial = job.seq;
      heap.push(Due{at, job.seq, r.id});
      expiries.push(Due{job.deadline + kExpiryGrace, job.serial, r.id});
      jobs.emplace(std::move(r.id), job);
    }
    wake.cancel();
  }
};

GenerationFetcher::GenerationFetcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GenerationFetcher::~GenerationFetcher() { stop(); }

namespace {

Result<std::optional<Proxy>> proxy_for(const EnrichConfig& config, const Endpoint& ep) {
  return choose_proxy(config.proxy, ep.host, ep.tls, [](const char* name) { return std::getenv(name); });
}

}  // namespace

Result<std::string> GenerationFetcher::route(const EnrichConfig& config) {
  auto ep = parse_endpoint(config.endpoint);
  if (!ep) return Error{ep.error()};
  auto proxy = proxy_for(config, *ep);
  if (!proxy) return Error{proxy.error()};
  if (!*proxy) return std::string("directly");
  return "through the HTTP proxy " + (*proxy)->display() + " (from " + (*proxy)->source + ")";
}

Result<GenerationFetcherPtr> GenerationFetcher::make(const EnrichConfig& config, ApiKeys keys, ResultFn on_result) {
  auto ep = parse_endpoint(config.endpoint);
  if (!ep) return Error{ep.error()};
  auto proxy = proxy_for(config, *ep);
  if (!proxy) return Error{proxy.error()};
  if (*proxy)
    log::info("enrich: lookups go through an HTTP proxy", {{"proxy", (*proxy)->display()}, {"from", (*proxy)->source}});
  auto impl = std::make_unique<Impl>(config, std::move(keys), std::move(on_result), std::move(ep.value()),
                                     std::move(proxy.value()));
  if (auto st = impl->setup_tls(); !st) return Error{st.error()};
  impl->start();
  return GenerationFetcherPtr(new GenerationFetcher(std::move(impl)));
}

void GenerationFetcher::submit(std::vector<LookupRequest> requests) {
  if (requests.empty()) return;
  asio::post(impl_->ioc, [impl = impl_.get(), reqs = std::move(requests)]() mutable { impl->accept(reqs); });
}

void GenerationFetcher::stop() noexcept {
  if (impl_) impl_->stop();
}

}  // namespace auditship::enrich
