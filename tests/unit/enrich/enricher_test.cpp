// The Enrich stage end to end in-process: batches in, enriched batches (and events) out,
// against the fake endpoint on loopback with real TLS.
#include "auditship/enrich/enricher.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>
#include <mutex>
#include <thread>

#include "auditship/common/metrics.h"
#include "enrich_test_support.h"
#include "support/fake_generation_server.h"

namespace auditship::enrich {
namespace {

using namespace std::chrono_literals;
using testing::audit_line;
using testing::FakeGenerationServer;
using testing::FakeServerOptions;
using testing::make_batch;
using testing::wait_for;

constexpr const char* kKey = "sk-or-v1-enrichertestkey9876543210";
constexpr const char* kKeyB = "sk-or-v1-secondkeyforappb55555555";

// Everything `next` received, in order.
struct Sink {
  std::mutex mu;
  std::vector<BatchPtr> batches;
  void take(BatchPtr b) {
    std::lock_guard lk(mu);
    batches.push_back(std::move(b));
  }
  std::size_t size() {
    std::lock_guard lk(mu);
    return batches.size();
  }
  // Every shipped payload, as text.
  std::vector<std::string> payloads() {
    std::lock_guard lk(mu);
    std::vector<std::string> out;
    for (const auto& b : batches)
      for (const auto& r : b->records)
        if (r.disposition == Disposition::kShip) out.emplace_back(b->payload(r));
    return out;
  }
};

struct Shipped {
  std::string status;
  double total_cost = -1;
  std::string model;
  bool has_openrouter = false;
};

Shipped inspect(const std::string& payload) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(payload);
  Shipped s;
  std::string_view v;
  if (doc["enrichment"]["status"].get_string().get(v) == simdjson::SUCCESS) s.status = v;
  double d = 0;
  if (doc["total_cost"].get_double().get(d) == simdjson::SUCCESS) s.total_cost = d;
  simdjson::dom::object o;
  if (doc["openrouter"].get_object().get(o) == simdjson::SUCCESS) {
    s.has_openrouter = true;
    if (o["model"].get_string().get(v) == simdjson::SUCCESS) s.model = v;
  }
  return s;
}

class EnricherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("AUDITSHIP_TEST_KEY", kKey, 1);
    ::setenv("AUDITSHIP_TEST_KEY_B", kKeyB, 1);
  }
  void TearDown() override {
    if (enricher_) enricher_->stop();
  }
  void start(FakeServerOptions options, const std::function<void(EnrichConfig&)>& tweak = {}) {
    server_ = std::make_unique<FakeGenerationServer>(std::move(options));
    config_.enabled = true;
    config_.endpoint = server_->url();
    config_.ca_file = server_->ca_file();
    config_.api_key_env = "AUDITSHIP_TEST_KEY";
    config_.initial_delay = 0ms;
    config_.horizon = 2000ms;
    config_.max_rps = 1000;
    config_.request_timeout = 1000ms;
    if (tweak) tweak(config_);
    auto e = Enricher::make(config_, [this](BatchPtr b) { sink_.take(std::move(b)); });
    ASSERT_TRUE(e) << e.error();
    enricher_ = std::move(e.value());
  }

  EnrichConfig config_;
  std::unique_ptr<FakeGenerationServer> server_;
  Sink sink_;
  EnricherPtr enricher_;
};

TEST_F(EnricherTest, HoldShipsExactServedValuesAndExplainsSkips) {
  FakeServerOptions o;
  o.never_found = {"gen-gone"};
  start(o);
  enricher_->process(make_batch({audit_line("gen-1"), audit_line("gen-2"), R"({"no_id":true})",
                                 R"({"generation_id":"gen-paid","total_cost":0.5})", audit_line("gen-gone")}));
  ASSERT_TRUE(wait_for([&] { return sink_.size() == 1; }, 10s));
  auto p = sink_.payloads();
  ASSERT_EQ(p.size(), 5u);
  for (int i : {0, 1}) {
    const std::string id = "gen-" + std::to_string(i + 1);
    Shipped s = inspect(p[i]);
    EXPECT_EQ(s.status, "ok") << p[i];
    EXPECT_EQ(s.total_cost, FakeGenerationServer::expected(id).total_cost);
    EXPECT_EQ(s.model, FakeGenerationServer::expected(id).model);
  }
  EXPECT_EQ(p[2], R"({"no_id":true,"enrichment":{"status":"skipped","reason":"no_generation_id"}})");
  EXPECT_EQ(inspect(p[3]).status, "skipped");
  EXPECT_EQ(inspect(p[3]).total_cost, 0.5);
  Shipped gone = inspect(p[4]);
  EXPECT_EQ(gone.status, "not_found");
  EXPECT_EQ(gone.total_cost, 0);  // the app's own value stays; the status says why
  EXPECT_FALSE(gone.has_openrouter);
  EXPECT_EQ(server_->requests_for("gen-paid"), 0u);
}

TEST_F(EnricherTest, BatchesOfOneSourceLeaveInOrder) {
  FakeServerOptions o;
  o.not_found_first = 0;
  o.script = [](std::string_view id, int nth) -> std::optional<testing::FakeBehavior> {
    if (id == "gen-slow" && nth < 3) return testing::FakeBehavior{testing::FakeAction::kNotFound};
    return std::nullopt;
  };
  start(o);
  auto source = std::make_shared<SourceFile>();
  source->id = 7;
  enricher_->process(make_batch({audit_line("gen-slow")}, source));
  enricher_->process(make_batch({audit_line("gen-fast")}, source));
  auto other = std::make_shared<SourceFile>();
  other->id = 8;
  enricher_->process(make_batch({audit_line("gen-other")}, other));
  // Another source is not held up by the slow one.
  ASSERT_TRUE(wait_for([&] { return sink_.size() >= 1; }, 5s));
  {
    std::lock_guard lk(sink_.mu);
    EXPECT_EQ(sink_.batches[0]->source->id, 8u);
  }
  ASSERT_TRUE(wait_for([&] { return sink_.size() == 3; }, 10s));
  auto p = sink_.payloads();
  EXPECT_NE(p[1].find("gen-slow"), std::string::npos);
  EXPECT_NE(p[2].find("gen-fast"), std::string::npos);
  EXPECT_EQ(inspect(p[1]).status, "ok");
}

TEST_F(EnricherTest, DuplicatesWithinWindowAreDroppedAndCounted) {
  start({});
  const auto before = metrics::Registry::global().counter_total("auditship_enrich_deduplicated_total");
  enricher_->process(make_batch({audit_line("gen-dup"), audit_line("gen-dup")}));
  enricher_->process(make_batch({audit_line("gen-dup")}));
  ASSERT_TRUE(wait_for([&] { return sink_.size() == 2; }, 10s));
  std::lock_guard lk(sink_.mu);
  EXPECT_EQ(sink_.batches[0]->records[0].disposition, Disposition::kShip);
  EXPECT_EQ(sink_.batches[0]->records[1].disposition, Disposition::kDrop);
  EXPECT_EQ(sink_.batches[1]->records[0].disposition, Disposition::kDrop);
  EXPECT_EQ(metrics::Registry::global().counter_total("auditship_enrich_deduplicated_total"), before + 2);
  EXPECT_EQ(server_->requests_for("gen-dup"), 1u);
}

TEST_F(EnricherTest, FullHoldBufferBlocksProcess) {
  FakeServerOptions o;
  o.latency = 400ms;
  start(o, [](EnrichConfig& c) { c.hold_max_records = 2; });
  enricher_->process(make_batch({audit_line("gen-h1"), audit_line("gen-h2")}));
  const auto t0 = std::chrono::steady_clock::now();
  enricher_->process(make_batch({audit_line("gen-h3")}));  // must wait for the first batch to leave
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);
  // Room is made when the first batch leaves the buffer, just before `next` receives it.
  EXPECT_TRUE(wait_for([&] { return sink_.size() >= 1; }, 2s));
  enricher_->drain(5s);
  EXPECT_EQ(sink_.size(), 2u);
  for (const auto& p : sink_.payloads()) EXPECT_EQ(inspect(p).status, "ok") << p;
}

TEST_F(EnricherTest, FollowUpShipsRecordsNowAndEventsLater) {
  FakeServerOptions o;
  o.latency = 200ms;
  o.never_found = {"gen-f-missing"};
  start(o, [](EnrichConfig& c) {
    c.mode = "follow_up";
    c.horizon = 1000ms;
  });
  auto source = std::make_shared<SourceFile>();
  source->id = 3;
  enricher_->process(make_batch({audit_line("gen-f1"), audit_line("gen-f2"), audit_line("gen-f-missing")}, source));
  ASSERT_EQ(sink_.size(), 1u);  // synchronously, before any lookup could answer
  for (const auto& p : sink_.payloads()) EXPECT_EQ(inspect(p).status, "pending") << p;
  enricher_->drain(10s);
  std::lock_guard lk(sink_.mu);
  std::map<std::string, std::string> events;
  for (std::size_t i = 1; i < sink_.batches.size(); ++i) {
    const auto& b = sink_.batches[i];
    EXPECT_EQ(b->source, nullptr);
    for (const auto& r : b->records) events[std::string(b->field(r.generation_id))] = std::string(b->payload(r));
  }
  ASSERT_EQ(events.size(), 3u);
  for (const char* id : {"gen-f1", "gen-f2"}) {
    Shipped s = inspect(events[id]);
    EXPECT_EQ(s.status, "ok");
    EXPECT_EQ(s.total_cost, FakeGenerationServer::expected(id).total_cost);
  }
  EXPECT_EQ(inspect(events["gen-f-missing"]).status, "not_found");
  EXPECT_NE(events["gen-f1"].find("\"type\":\"enrichment\""), std::string::npos);
}

// Lookups resolve one by one; their events wait up to 50 ms for each other instead of leaving
// as one batch (and one Kafka message set) per event.
TEST_F(EnricherTest, FollowUpEventsResolvingCloseTogetherShipTogether) {
  FakeServerOptions o;
  o.latency = 20ms;
  start(o, [](EnrichConfig& c) { c.mode = "follow_up"; });
  auto source = std::make_shared<SourceFile>();
  constexpr int kRecords = 10;
  for (int i = 0; i < kRecords; ++i) {  // one record every 2 ms: lookups resolve ~2 ms apart
    enricher_->process(make_batch({audit_line("gen-together-" + std::to_string(i))}, source));
    std::this_thread::sleep_for(2ms);
  }
  enricher_->drain(10s);
  std::lock_guard lk(sink_.mu);
  std::size_t event_batches = 0, events = 0;
  for (const auto& b : sink_.batches) {
    if (b->source) continue;
    ++event_batches;
    events += b->records.size();
  }
  EXPECT_EQ(events, static_cast<std::size_t>(kRecords));
  // One batch when the ~20 ms of resolutions fall in one 50 ms wait; a slow machine may
  // split them, but not into one batch per event.
  EXPECT_LE(event_batches, 3u);
}

// The call ended before its record was read: a timestamp ahead of the agent's clock (skew,
// or a local time without its zone) must not postpone the lookup until that time.
TEST_F(EnricherTest, TimestampsAheadOfTheClockOrWithoutZoneAreLookedUpNow) {
  start({});
  const std::string rest = R"(,"model_requested":"openrouter/auto","total_cost":0})";
  enricher_->process(make_batch({R"({"timestamp":"2099-01-01T00:00:00Z","generation_id":"gen-ahead")" + rest,
                                 R"({"timestamp":"2099-01-01T00:00:00","generation_id":"gen-zoneless")" + rest}));
  ASSERT_TRUE(wait_for([&] { return sink_.size() == 1; }, 10s)) << "a lookup waited for its timestamp";
  for (const auto& p : sink_.payloads()) EXPECT_EQ(inspect(p).status, "ok") << p;
  EXPECT_EQ(server_->requests_for("gen-ahead"), 1u);
  EXPECT_EQ(server_->requests_for("gen-zoneless"), 1u);
}

TEST_F(EnricherTest, DrainGivesUpAsTimeout) {
  FakeServerOptions o;
  o.never_found = {"gen-forever"};
  start(o, [](EnrichConfig& c) { c.horizon = 60000ms; });
  enricher_->process(make_batch({audit_line("gen-forever")}));
  enricher_->drain(500ms);
  ASSERT_EQ(sink_.size(), 1u);
  EXPECT_EQ(inspect(sink_.payloads()[0]).status, "timeout");
}

TEST_F(EnricherTest, PicksKeyPerRecordAndNeverLeaksKeys) {
  testing::LogCapture capture;
  ::setenv("AUDITSHIP_TEST_KEY_C", "sk-or-v1-notacceptedbytheserver000", 1);
  FakeServerOptions o;
  o.accepted_keys = {kKey, kKeyB};
  start(o, [](EnrichConfig& c) {
    c.api_keys = {{"app-b", "env:AUDITSHIP_TEST_KEY_B"}, {"app-c", "env:AUDITSHIP_TEST_KEY_C"}};
    c.key_field = "metadata.app";
  });
  enricher_->process(make_batch({audit_line("gen-ka"), audit_line("gen-kb", R"("metadata":{"app":"app-b"})"),
                                 audit_line("gen-kc", R"("metadata":{"app":"app-c"})"),
                                 audit_line("gen-kc2", R"("metadata":{"app":"app-c"})")}));
  enricher_->drain(10s);
  auto p = sink_.payloads();
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(inspect(p[0]).status, "ok");
  EXPECT_EQ(inspect(p[1]).status, "ok");
  EXPECT_EQ(inspect(p[2]).status, "unauthorized");
  EXPECT_EQ(inspect(p[3]).status, "unauthorized");
  for (const auto& r : server_->requests()) {
    if (r.id == "gen-ka") {
      EXPECT_EQ(r.key_hash, FakeGenerationServer::key_hash(kKey));
    }
    if (r.id == "gen-kb") {
      EXPECT_EQ(r.key_hash, FakeGenerationServer::key_hash(kKeyB));
    }
  }
  const std::string logs = capture.contents();
  EXPECT_EQ(testing::count_occurrences(logs, "refuses lookups with this key"), 1u) << logs;
  EXPECT_NE(logs.find("app-c"), std::string::npos);
  std::string everything = logs + metrics::Registry::global().render_prometheus();
  for (const auto& s : p) everything += s;
  for (const char* secret : {kKey, kKeyB, "sk-or-v1-notacceptedbytheserver000", "sk-or-v1"})
    EXPECT_EQ(everything.find(secret), std::string::npos) << secret;
}

TEST_F(EnricherTest, MissingKeyIsAConfigErrorWithoutTheValue) {
  EnrichConfig c;
  c.enabled = true;
  c.api_key_env = "AUDITSHIP_TEST_KEY_UNSET";
  auto e = Enricher::make(c, [](BatchPtr) {});
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().find("AUDITSHIP_TEST_KEY_UNSET"), std::string::npos);
}

}  // namespace
}  // namespace auditship::enrich
