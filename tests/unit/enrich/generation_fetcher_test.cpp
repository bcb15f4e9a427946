// GenerationFetcher against the fake endpoint on loopback with real TLS.
#include "auditship/enrich/generation_fetcher.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "auditship/common/metrics.h"
#include "enrich_test_support.h"
#include "support/connect_proxy.h"
#include "support/fake_generation_server.h"

namespace auditship::enrich {
namespace {

using namespace std::chrono_literals;
using testing::FakeAction;
using testing::FakeBehavior;
using testing::FakeGenerationServer;
using testing::FakeServerOptions;
using testing::wait_for;

constexpr const char* kKey = "sk-or-v1-fetchertestkey0123456789";

class FetcherTest : public ::testing::Test {
 protected:
  // The fetcher's thread writes results_: stop it before the members it writes go away.
  void TearDown() override { fetcher_.reset(); }
  void start(FakeServerOptions options, const std::function<void(EnrichConfig&)>& tweak = {},
             ApiKeys keys = ApiKeys::from_pairs({{"default", kKey}})) {
    server_ = std::make_unique<FakeGenerationServer>(std::move(options));
    config_.enabled = true;
    config_.endpoint = server_->url();
    config_.ca_file = server_->ca_file();
    config_.initial_delay = 0ms;
    config_.horizon = 5000ms;
    config_.max_rps = 1000;
    config_.request_timeout = 2000ms;
    if (tweak) tweak(config_);
    auto f = GenerationFetcher::make(config_, std::move(keys),
                                     [this](const std::string& id, LookupResultPtr r) {
                                       std::lock_guard lk(mu_);
                                       results_[id] = std::move(r);
                                       ++callbacks_;
                                     });
    ASSERT_TRUE(f) << f.error();
    fetcher_ = std::move(f.value());
  }
  void lookup(const std::vector<std::string>& ids, ApiKeys::Index key = 0) {
    std::vector<LookupRequest> reqs;
    for (const auto& id : ids) reqs.push_back({id, key, std::chrono::steady_clock::now()});
    fetcher_->submit(std::move(reqs));
  }
  LookupResultPtr wait_result(const std::string& id, std::chrono::milliseconds timeout = 10s) {
    wait_for(
        [&] {
          std::lock_guard lk(mu_);
          return results_.count(id) != 0;
        },
        timeout);
    std::lock_guard lk(mu_);
    auto it = results_.find(id);
    return it == results_.end() ? nullptr : it->second;
  }
  void forget(const std::string& id) {
    std::lock_guard lk(mu_);
    results_.erase(id);
  }

  EnrichConfig config_;
  std::unique_ptr<FakeGenerationServer> server_;
  GenerationFetcherPtr fetcher_;
  std::mutex mu_;
  std::map<std::string, LookupResultPtr> results_;
  int callbacks_ = 0;
};

TEST_F(FetcherTest, ServesExactValuesAndCachesRepeats) {
  start({});
  lookup({"gen-a", "gen-b", "gen-a"});
  for (const char* id : {"gen-a", "gen-b"}) {
    auto r = wait_result(id);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, LookupStatus::kOk);
    EXPECT_EQ(r->total_cost, FakeGenerationServer::expected(id).total_cost);
    EXPECT_NE(r->openrouter.find("\"model\":\"" + FakeGenerationServer::expected(id).model + "\""), std::string::npos);
    EXPECT_EQ(r->attempts, 1u);
  }
  const auto hits_before = metrics::Registry::global().counter_total("auditship_enrich_cache_hits_total");
  forget("gen-a");
  lookup({"gen-a"});
  ASSERT_TRUE(wait_result("gen-a"));
  EXPECT_EQ(server_->requests_for("gen-a"), 1u);  // the repeat came from the cache
  EXPECT_EQ(metrics::Registry::global().counter_total("auditship_enrich_cache_hits_total"), hits_before + 1);
  for (const auto& req : server_->requests()) EXPECT_EQ(req.key_hash, FakeGenerationServer::key_hash(kKey));
}

// A connection keeps its request between lookups (only the target changes): a lookup for
// another key on the same connection must still carry its own key.
TEST_F(FetcherTest, EachLookupCarriesItsOwnKeyOnASharedConnection) {
  constexpr const char* kOtherKey = "sk-or-v1-fetchertestotherkey98765";
  start({}, [](EnrichConfig& c) { c.pool_size = 1; },
        ApiKeys::from_pairs({{"default", kKey}, {"team-b", kOtherKey}}));
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back("gen-key-" + std::to_string(i));
    lookup({ids.back()}, static_cast<ApiKeys::Index>(i % 2));
    ASSERT_TRUE(wait_result(ids.back()));  // one at a time: each goes out on the one connection
  }
  for (int i = 0; i < 6; ++i) {
    const auto hash = FakeGenerationServer::key_hash(i % 2 ? kOtherKey : kKey);
    std::size_t seen = 0;
    for (const auto& req : server_->requests())
      if (req.id == ids[i]) {
        EXPECT_EQ(req.key_hash, hash) << ids[i];
        ++seen;
      }
    EXPECT_EQ(seen, 1u) << ids[i];
  }
  EXPECT_EQ(server_->connections(), 1u);
}

TEST_F(FetcherTest, NotFoundUntilReadyResolvesAfterRetries) {
  FakeServerOptions o;
  o.not_found_first = 3;
  start(o);
  lookup({"gen-late"});
  auto r = wait_result("gen-late");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, LookupStatus::kOk);
  EXPECT_EQ(r->attempts, 4u);
  EXPECT_EQ(server_->requests_for("gen-late"), 4u);
}

TEST_F(FetcherTest, NeverFoundBecomesNotFoundAtHorizon) {
  FakeServerOptions o;
  o.never_found = {"gen-missing*"};
  start(o, [](EnrichConfig& c) { c.horizon = 2000ms; });
  const auto t0 = std::chrono::steady_clock::now();
  lookup({"gen-missing-1"});
  auto r = wait_result("gen-missing-1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, LookupStatus::kNotFound);
  EXPECT_EQ(r->http_status, 404);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 2000ms);
  EXPECT_GE(r->attempts, 4u);  // 0, .25, .75, 1.75, 2.0
}

TEST_F(FetcherTest, NeverExceedsMaxRps) {
  start({}, [](EnrichConfig& c) {
    c.max_rps = 20;
    c.pool_size = 8;
  });
  std::vector<std::string> ids;
  for (int i = 0; i < 60; ++i) ids.push_back("gen-rps-" + std::to_string(i));
  lookup(ids);
  ASSERT_TRUE(wait_for([&] { return server_->request_count() == 60; }, 10s));
  auto reqs = server_->requests();
  std::sort(reqs.begin(), reqs.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
  std::size_t worst = 0;
  for (std::size_t i = 0, j = 0; i < reqs.size(); ++i) {
    while (reqs[i].at - reqs[j].at >= 1s) ++j;
    worst = std::max(worst, i - j + 1);
  }
  // 20/s plus one for the window edge; the requests take ~3 s, not 0.
  EXPECT_LE(worst, 21u);
  EXPECT_GE(reqs.back().at - reqs.front().at, 2500ms);
}

TEST_F(FetcherTest, RetryAfterIsHonoured) {
  FakeServerOptions o;
  o.script = [](std::string_view, int nth) -> std::optional<FakeBehavior> {
    if (nth == 0) return FakeBehavior{FakeAction::kTooManyRequests, 429, "1", ""};
    return std::nullopt;
  };
  start(o);
  lookup({"gen-429"});
  auto r = wait_result("gen-429");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, LookupStatus::kOk);
  auto reqs = server_->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_GE(reqs[1].at - reqs[0].at, 950ms);
}

TEST_F(FetcherTest, HangGarbageAnd5xxAreRetriedOnFreshConnections) {
  FakeServerOptions o;
  o.script = [](std::string_view id, int nth) -> std::optional<FakeBehavior> {
    if (nth > 0) return std::nullopt;
    if (id == "gen-hang") return FakeBehavior{FakeAction::kHang};
    if (id == "gen-bad") return FakeBehavior{FakeAction::kMalformed};
    if (id == "gen-big") return FakeBehavior{FakeAction::kOversized};
    if (id == "gen-502") return FakeBehavior{FakeAction::kStatus, 502};
    if (id == "gen-nocost") return FakeBehavior{FakeAction::kNoCost};
    return std::nullopt;
  };
  start(o, [](EnrichConfig& c) { c.request_timeout = 300ms; });
  lookup({"gen-hang", "gen-bad", "gen-big", "gen-502", "gen-nocost"});
  for (const char* id : {"gen-hang", "gen-bad", "gen-big", "gen-502", "gen-nocost"}) {
    auto r = wait_result(id);
    ASSERT_TRUE(r) << id;
    EXPECT_EQ(r->status, LookupStatus::kOk) << id;
    EXPECT_EQ(r->total_cost, FakeGenerationServer::expected(id).total_cost) << id;
    EXPECT_EQ(r->attempts, 2u) << id;
  }
}

TEST_F(FetcherTest, PersistentTimeoutsResolveAsTimeout) {
  FakeServerOptions o;
  o.script = [](std::string_view, int) -> std::optional<FakeBehavior> { return FakeBehavior{FakeAction::kHang}; };
  start(o, [](EnrichConfig& c) {
    c.request_timeout = 200ms;
    c.horizon = 1000ms;
  });
  lookup({"gen-stuck"});
  auto r = wait_result("gen-stuck");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, LookupStatus::kTimeout);
}

TEST_F(FetcherTest, UnauthorizedIsFinalAndLoggedOncePerKey) {
  testing::LogCapture capture;
  FakeServerOptions o;
  o.accepted_keys = {"sk-or-v1-someoneelse"};
  start(o);
  lookup({"gen-u1", "gen-u2", "gen-u3"});
  for (const char* id : {"gen-u1", "gen-u2", "gen-u3"}) {
    auto r = wait_result(id);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, LookupStatus::kUnauthorized);
    EXPECT_EQ(r->attempts, 1u);
  }
  const std::string logs = capture.contents();
  EXPECT_EQ(testing::count_occurrences(logs, "refuses lookups with this key"), 1u) << logs;
  EXPECT_NE(logs.find("\"key_name\":\"default\""), std::string::npos);
  EXPECT_EQ(logs.find(kKey), std::string::npos);
  EXPECT_EQ(metrics::Registry::global().render_prometheus().find(kKey), std::string::npos);
}

TEST_F(FetcherTest, VerifiesCertificateByDefault) {
  testing::LogCapture capture;
  FakeServerOptions o;
  // No ca_file: the self-signed certificate is not trusted, so no lookup succeeds.
  start(o, [](EnrichConfig& c) {
    c.ca_file.clear();
    c.horizon = 600ms;
  });
  lookup({"gen-untrusted"});
  auto r = wait_result("gen-untrusted");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, LookupStatus::kError);
  EXPECT_EQ(server_->request_count(), 0u);
  const std::string logs = capture.contents();
  EXPECT_EQ(testing::count_occurrences(logs, "cannot reach the generation endpoint"), 1u) << logs;
  EXPECT_NE(logs.find("\"step\":\"TLS handshake\""), std::string::npos) << logs;
}

// The endpoint (here: its proxy) stops answering, then comes back: one warning when it goes,
// one line when it returns, however many attempts fail in between; every failure is counted.
TEST_F(FetcherTest, AnUnreachableEndpointIsLoggedOnceWhenItGoesAndOnceWhenItReturns) {
  testing::LogCapture capture;
  testing::ConnectProxy proxy;
  proxy.set_hang_up(true);
  start({}, [&](EnrichConfig& c) {
    c.proxy = proxy.url();
    c.horizon = 8000ms;
  });
  auto failures = [] { return metrics::Registry::global().counter("auditship_enrich_connection_failures_total", "").value(); };
  const auto before = failures();
  lookup({"gen-down-1"});
  ASSERT_TRUE(wait_for([&] { return failures() - before >= 3; }, 8s)) << failures() - before;
  proxy.set_hang_up(false);
  auto r = wait_result("gen-down-1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, LookupStatus::kOk);
  EXPECT_GE(r->attempts, 4u);
  const std::string logs = capture.contents();
  EXPECT_EQ(testing::count_occurrences(logs, "cannot reach the generation endpoint"), 1u) << logs;
  EXPECT_NE(logs.find("\"step\":\"proxy tunnel\""), std::string::npos) << logs;
  EXPECT_EQ(testing::count_occurrences(logs, "reachable again"), 1u) << logs;
}

// A host that reaches the internet only through an HTTP proxy: each connection is a CONNECT
// tunnel (with the proxy's credentials), TLS and the API key stay end to end with the endpoint.
TEST_F(FetcherTest, GoesThroughAConnectProxyWithItsCredentials) {
  testing::LogCapture capture;
  testing::ConnectProxy proxy("Basic dXNlcjpwQHNz");  // user:p@ss
  start({}, [&](EnrichConfig& c) { c.proxy = proxy.url("user:p%40ss"); });
  lookup({"gen-p1", "gen-p2", "gen-p3"});
  for (const char* id : {"gen-p1", "gen-p2", "gen-p3"}) {
    auto r = wait_result(id);
    ASSERT_TRUE(r) << id;
    EXPECT_EQ(r->status, LookupStatus::kOk);
    EXPECT_EQ(r->total_cost, FakeGenerationServer::expected(id).total_cost);
  }
  EXPECT_EQ(server_->request_count(), 3u);
  const std::string url = server_->url();
  const std::string endpoint = url.substr(8, url.find('/', 8) - 8);  // 127.0.0.1:port
  ASSERT_GE(proxy.tunnels(), 1u);
  EXPECT_LE(proxy.tunnels(), 3u) << "one tunnel per connection, not per lookup";
  for (const auto& t : proxy.targets()) EXPECT_EQ(t, endpoint);
  for (const auto& a : proxy.authorizations()) EXPECT_EQ(a, "Basic dXNlcjpwQHNz");
  const std::string logs = capture.contents();
  EXPECT_NE(logs.find("lookups go through an HTTP proxy"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("p@ss"), std::string::npos) << "the proxy password is never logged";
  EXPECT_EQ(logs.find("p%40ss"), std::string::npos);
}

TEST_F(FetcherTest, AProxyRefusingTheTunnelIsRetriedLoggedOnceAndNeverReachesTheEndpoint) {
  testing::LogCapture capture;
  testing::ConnectProxy proxy("Basic dXNlcjpwQHNz");
  start({}, [&](EnrichConfig& c) {
    c.proxy = proxy.url("user:wrong");
    c.horizon = 1500ms;
  });
  auto refusals = [] { return metrics::Registry::global().counter("auditship_enrich_proxy_refusals_total", "").value(); };
  const auto refusals_before = refusals();
  lookup({"gen-r1", "gen-r2"});
  for (const char* id : {"gen-r1", "gen-r2"}) {
    auto r = wait_result(id);
    ASSERT_TRUE(r) << id;
    EXPECT_EQ(r->status, LookupStatus::kError);
    EXPECT_GE(r->attempts, 2u) << "a refused tunnel is retried like a network error";
  }
  EXPECT_EQ(server_->request_count(), 0u);
  EXPECT_GE(proxy.refused(), 4u);
  EXPECT_EQ(refusals() - refusals_before, proxy.refused());
  const std::string logs = capture.contents();
  EXPECT_EQ(testing::count_occurrences(logs, "the proxy refuses to open a tunnel"), 1u) << logs;
  EXPECT_NE(logs.find("\"http_status\":407"), std::string::npos) << logs;
}

TEST_F(FetcherTest, PlainHttpWorksForTests) {
  FakeServerOptions o;
  o.tls = false;
  start(o);
  lookup({"gen-plain"});
  auto r = wait_result("gen-plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, LookupStatus::kOk);
}

}  // namespace
}  // namespace auditship::enrich
