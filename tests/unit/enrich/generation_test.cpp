// Pure parts of the Enrich stage: parsing answers, rewriting records, the rate limiter, caches, config.
#include "auditship/enrich/generation.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <deque>

#include "auditship/enrich/enrich_config.h"
#include "auditship/enrich/id_cache.h"
#include "auditship/enrich/rate_limiter.h"

namespace auditship::enrich {
namespace {

using namespace std::chrono_literals;

TEST(GenerationParserTest, ReadsLenientlyAndKeepsNulls) {
  GenerationParser parser(field_mask(all_generation_fields()));
  auto g = parser.parse(
      R"({"data":{"id":"gen-1","total_cost":0.004206,"cache_discount":null,"latency":1200,"usage":0.004206,)"
      R"("model":"m/x","streamed":true,"brand_new_key":{"a":[1]},"tokens_prompt":42},"extra":1})");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->total_cost, 0.004206);
  EXPECT_EQ(g->served_id, "gen-1");
  EXPECT_EQ(g->openrouter,
            R"({"total_cost":0.004206,"cache_discount":null,"usage":0.004206,"model":"m/x","tokens_prompt":42,)"
            R"("latency":1200,"streamed":true})");
}

TEST(GenerationParserTest, SelectsFieldsAndReportsMissingCost) {
  GenerationParser parser(field_mask({"model"}));
  auto g = parser.parse(R"({"data":{"id":"gen-1","total_cost":null,"model":"m"}})");
  ASSERT_TRUE(g);
  EXPECT_LT(g->total_cost, 0);
  EXPECT_EQ(g->openrouter, R"({"model":"m"})");
  EXPECT_FALSE(parser.parse(R"({"data":{"id":"gen-1",)"));
  EXPECT_FALSE(parser.parse(R"({"error":{"code":404}})"));
}

// A successful lookup as the fetcher reports it.
LookupResult found(int attempts, double total_cost) {
  LookupResult ok;
  ok.status = LookupStatus::kOk;
  ok.attempts = attempts;
  ok.resolved_at_ms = 1'700'000'000'123;
  ok.total_cost = total_cost;
  ok.openrouter = R"({"model":"m"})";
  return ok;
}

TEST(RecordRewriterTest, ReplacesCostAndAppendsObjects) {
  RecordRewriter rw;
  const LookupResult ok = found(2, 0.25);
  std::string out;
  ASSERT_TRUE(rw.rewrite(R"({"a":1, "total_cost" : 0 ,"b":"x"})", ok, {}, out));
  EXPECT_EQ(out,
            R"({"a":1, "total_cost" : 0.25 ,"b":"x","openrouter":{"model":"m"},)"
            R"("enrichment":{"status":"ok","attempts":2,"resolved_at":"2023-11-14T22:13:20.123Z"}})");
  out.clear();
  ASSERT_TRUE(rw.rewrite(R"({})", ok, {}, out));
  EXPECT_EQ(out.substr(0, 40), R"({"total_cost":0.25,"openrouter":{"model")");

  LookupResult nf;
  nf.status = LookupStatus::kNotFound;
  nf.attempts = 7;
  nf.http_status = 404;
  out.clear();
  ASSERT_TRUE(rw.rewrite(R"({"total_cost":0})", nf, {}, out));
  EXPECT_NE(out.find(R"("total_cost":0,"enrichment":{"status":"not_found","attempts":7)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("http_status":404)"), std::string::npos);

  LookupResult skipped;
  skipped.status = LookupStatus::kSkipped;
  out.clear();
  ASSERT_TRUE(rw.rewrite(R"({"x":1})", skipped, "no_generation_id", out));
  EXPECT_EQ(out, R"({"x":1,"enrichment":{"status":"skipped","reason":"no_generation_id"}})");
  out.clear();
  EXPECT_FALSE(rw.rewrite("[1,2]", ok, {}, out));
  EXPECT_TRUE(out.empty());
}

// Found by tests/fuzz/generation_fuzz.cpp: a record that already had `enrichment` got a
// second member of that name appended, and consumers disagree on which one wins.
TEST(RecordRewriterTest, ReplacesTheAppsOwnAgentKeysInsteadOfDuplicatingThem) {
  RecordRewriter rw;
  const LookupResult ok = found(1, 0.5);
  std::string out;
  ASSERT_TRUE(rw.rewrite(R"({"enrichment":"app's", "openrouter" : {"x":[1,{"y":2}]}, "total_cost":{"usd":1},"z":0})",
                         ok, {}, out));
  EXPECT_EQ(out, R"({"enrichment":{"status":"ok","attempts":1,"resolved_at":"2023-11-14T22:13:20.123Z"}, )"
                 R"("openrouter" : {"model":"m"}, "total_cost":0.5,"z":0})");
  LookupResult skipped;
  skipped.status = LookupStatus::kSkipped;
  out.clear();
  // Not ok: `openrouter` and `total_cost` stay the app's; `enrichment` is still the agent's.
  ASSERT_TRUE(rw.rewrite(R"({"openrouter":[1],"enrichment":[2]})", skipped, "r", out));
  EXPECT_EQ(out, R"({"openrouter":[1],"enrichment":{"status":"skipped","reason":"r"}})");
}

TEST(RecordRewriterTest, ReadsKeyField) {
  RecordRewriter rw;
  EXPECT_EQ(rw.string_at(R"({"metadata":{"app":"billing"}})", {"metadata", "app"}), "billing");
  EXPECT_FALSE(rw.string_at(R"({"metadata":{"app":1}})", {"metadata", "app"}));
  EXPECT_FALSE(rw.string_at(R"({"x":1})", {"metadata", "app"}));
}

TEST(RateLimiterTest, NeverExceedsRateInAnyWindow) {
  auto t = SteadyClock::time_point{} + 1h;
  RateLimiter limiter(50, t);
  std::deque<SteadyClock::time_point> starts;
  const auto end = t + 5s;
  std::size_t max_in_window = 0;
  while (t < end) {
    auto d = limiter.delay(t);
    if (d > SteadyClock::duration::zero()) {
      t += d;
      continue;
    }
    limiter.take(t);
    starts.push_back(t);
    while (t - starts.front() >= 1s) starts.pop_front();
    max_in_window = std::max(max_in_window, starts.size());
  }
  EXPECT_LE(max_in_window, 51u);
  EXPECT_GE(max_in_window, 48u);
}

TEST(RateLimiterTest, ThrottleWaitsHalvesAndRecovers) {
  auto t = SteadyClock::time_point{} + 1h;
  RateLimiter limiter(100, t);
  limiter.throttle(t, t + 2s);
  EXPECT_EQ(limiter.rate(), 50);
  EXPECT_GE(limiter.delay(t + 1s), 900ms);
  (void)limiter.delay(t + 4s);  // 2 s after the pause: +2 x 10 % of max
  EXPECT_NEAR(limiter.rate(), 70, 0.5);
  (void)limiter.delay(t + 60s);
  EXPECT_EQ(limiter.rate(), 100);
}

TEST(IdCacheTest, LruEvictsAndExpires) {
  LruTtlCache<int> cache(2, 10s);
  const auto t = SteadyClock::time_point{} + 1h;
  cache.put("a", 1, t);
  cache.put("b", 2, t);
  ASSERT_NE(cache.get("a", t), nullptr);  // a is now most recent
  cache.put("c", 3, t);                   // evicts b
  EXPECT_EQ(cache.get("b", t), nullptr);
  EXPECT_EQ(*cache.get("a", t + 5s), 1);
  EXPECT_EQ(cache.get("a", t + 11s), nullptr);
}

TEST(IdCacheTest, RecentIdsForgetsAfterWindow) {
  RecentIds recent(10s, 100);
  const auto t = SteadyClock::time_point{} + 1h;
  EXPECT_FALSE(recent.seen("a", t));
  EXPECT_TRUE(recent.seen("a", t + 9s));
  EXPECT_FALSE(recent.seen("a", t + 11s));
}

TEST(EnrichConfigTest, ValidateReportsEveryProblem) {
  EnrichConfig c;
  c.enabled = true;
  c.mode = "later";
  c.when = "sometimes";
  c.max_rps = 0;
  c.fields = {"model", "nope"};
  c.api_keys = {{"a", "sk-or-v1-pasted"}};
  std::vector<config::Problem> problems;
  std::map<std::string, int> lines;
  config::Checker check(problems, lines, "enrich");
  c.validate(check);
  std::string all;
  for (const auto& p : problems) all += p.path + ": " + p.message + "\n";
  EXPECT_EQ(problems.size(), 6u) << all;
  EXPECT_EQ(all.find("sk-or-v1-pasted"), std::string::npos);
}

}  // namespace
}  // namespace auditship::enrich
