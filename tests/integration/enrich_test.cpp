// Enrichment through the real `auditship` binary: the mock cluster as its own process, the
// fake generation endpoint (HTTPS, certificate generated at start and passed as enrich.ca_file)
// in this process so the test can script it and read its request log, and the API key given
// to the agent only through its environment.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <set>
#include <thread>

#include "support/agent.h"
#include "support/audit_records.h"
#include "support/cluster.h"
#include "support/connect_proxy.h"
#include "support/fake_generation_server.h"
#include "support/temp_dir.h"

namespace auditship::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kTopic = "openrouter-audit";
constexpr const char* kDeadLetters = "openrouter-audit-dlq";
constexpr const char* kKeyVar = "AUDITSHIP_IT_OPENROUTER_KEY";
constexpr const char* kKey = "sk-or-v1-integration-secret-7f3a9c1e5b";

// support's audit line, with the generation id the test chooses (duplicates, late ids, ...).
std::string line_with_id(const std::string& tag, std::uint64_t seq, const std::string& id) {
  std::string line = audit_line(tag, seq, 60);
  const std::string from = "\"generation_id\":\"gen-" + tag + "-" + std::to_string(seq) + "\"";
  line.replace(line.find(from), from.size(), "\"generation_id\":\"" + id + "\"");
  return line;
}

void append_lines(const std::string& path, const std::string& tag, std::uint64_t from,
                  const std::vector<std::string>& ids) {
  std::string text;
  for (std::size_t i = 0; i < ids.size(); ++i) text += line_with_id(tag, from + i, ids[i]);
  write_file(path, text, true);
}

// One shipped record or enrichment event, as the consumer sees it.
struct Shipped {
  std::string type;  // "enrichment" for follow_up events, else empty
  std::string tag, id, status;
  std::uint64_t seq = 0;
  std::int64_t attempts = -1, http_status = 0;
  double total_cost = -1;
  bool has_openrouter = false;
  double or_total_cost = -1, or_latency = -1;
  std::string or_model, or_provider;
  std::int64_t or_tokens_prompt = -1, or_tokens_completion = -1;
  bool or_streamed = false;
};

// Leaves `out` as it is when the field is absent or of another type.
template <class T>
void get_into(simdjson::simdjson_result<simdjson::dom::element> field, T& out) {
  if (field.get(out) != simdjson::SUCCESS) return;
}

std::vector<Shipped> parse_all(const std::vector<Message>& messages) {
  std::vector<Shipped> out;
  simdjson::dom::parser p;
  for (const auto& m : messages) {
    Shipped s;
    simdjson::dom::element doc;
    if (p.parse(m.value).get(doc)) {
      ADD_FAILURE() << "unparsable: " << m.value;
      continue;
    }
    std::string_view sv;
    if (!doc["type"].get(sv)) s.type = sv;
    if (!doc["file"].get(sv)) s.tag = sv;
    if (!doc["generation_id"].get(sv)) s.id = sv;
    get_into(doc["seq"], s.seq);
    get_into(doc["total_cost"], s.total_cost);
    simdjson::dom::object e;
    if (!doc["enrichment"].get(e)) {
      if (!e["status"].get(sv)) s.status = sv;
      get_into(e["attempts"], s.attempts);
      get_into(e["http_status"], s.http_status);
    }
    simdjson::dom::object o;
    if (!doc["openrouter"].get(o)) {
      s.has_openrouter = true;
      get_into(o["total_cost"], s.or_total_cost);
      get_into(o["latency"], s.or_latency);
      if (!o["model"].get(sv)) s.or_model = sv;
      if (!o["provider_name"].get(sv)) s.or_provider = sv;
      double d = -1;
      if (!o["tokens_prompt"].get(d)) s.or_tokens_prompt = static_cast<std::int64_t>(d);
      if (!o["tokens_completion"].get(d)) s.or_tokens_completion = static_cast<std::int64_t>(d);
      get_into(o["streamed"], s.or_streamed);
    }
    out.push_back(std::move(s));
  }
  return out;
}

// Exactly what the endpoint served for `s.id`, in `openrouter` and in top-level total_cost.
void expect_served_values(const Shipped& s) {
  const FakeGeneration g = FakeGenerationServer::expected(s.id);
  EXPECT_EQ(s.status, "ok") << s.id;
  EXPECT_TRUE(s.has_openrouter) << s.id;
  EXPECT_EQ(s.total_cost, g.total_cost) << s.id;
  EXPECT_EQ(s.or_total_cost, g.total_cost) << s.id;
  EXPECT_EQ(s.or_latency, g.latency) << s.id;
  EXPECT_EQ(s.or_model, g.model) << s.id;
  EXPECT_EQ(s.or_provider, g.provider_name) << s.id;
  EXPECT_EQ(s.or_tokens_prompt, g.tokens_prompt) << s.id;
  EXPECT_EQ(s.or_tokens_completion, g.tokens_completion) << s.id;
  EXPECT_EQ(s.or_streamed, g.streamed) << s.id;
}

// The most requests the server saw in any 1 s window.
std::size_t busiest_second(std::vector<FakeRequest> reqs) {
  std::sort(reqs.begin(), reqs.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
  std::size_t worst = 0;
  for (std::size_t i = 0, j = 0; i < reqs.size(); ++i) {
    while (reqs[i].at - reqs[j].at >= seconds(1)) ++j;
    worst = std::max(worst, i - j + 1);
  }
  return worst;
}

std::uint64_t committed_offset(const std::string& state_dir, const std::string& path) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  const std::string file = state_dir + "/checkpoints.json";
  if (!fs::exists(file) || p.parse(read_file(file)).get(doc)) return 0;
  simdjson::dom::array files;
  if (doc["files"].get(files)) return 0;
  for (auto f : files) {
    std::string_view fp;
    std::uint64_t offset = 0;
    if (!f["path"].get(fp) && fp == path && !f["offset"].get(offset)) return offset;
  }
  return 0;
}

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

class EnrichTest : public ::testing::Test {
 protected:
  EnrichTest() : cluster_(8), records_(cluster_.bootstrap(), kTopic), dead_(cluster_.bootstrap(), kDeadLetters) {
    dir_.subdir("logs");
  }

  std::string log_path() const { return dir_.file("logs/app.jsonl"); }

  // `enrich` lines are indented under `enrich:` after the endpoint, CA and key settings.
  std::string config(const std::string& endpoint, const std::string& ca_file, const std::string& enrich,
                     const std::string& pipeline = {}) const {
    std::string yaml = "enrich:\n  enabled: true\n  endpoint: \"" + endpoint + "\"\n  api_key_env: " + kKeyVar + "\n";
    if (!ca_file.empty()) yaml += "  ca_file: \"" + ca_file + "\"\n";
    yaml += "  initial_delay: 0ms\n";
    std::size_t start = 0;
    while (start < enrich.size()) {
      auto nl = enrich.find('\n', start);
      if (nl == std::string::npos) nl = enrich.size();
      yaml += "  " + enrich.substr(start, nl - start) + "\n";
      start = nl + 1;
    }
    return test_config(dir_.file("logs") + "/*.jsonl", dir_.file("state"), cluster_.bootstrap(), yaml, pipeline);
  }

  std::unique_ptr<Agent> start_agent(const std::string& yaml, std::vector<std::string> args = {},
                                     const std::string& key = kKey) {
    return std::make_unique<Agent>(dir_, yaml, std::move(args), std::vector<std::string>{std::string(kKeyVar) + "=" + key});
  }

  // The key must appear nowhere the agent writes: its log, its stdout, both topics.
  void expect_key_nowhere(const Agent& agent, const std::string& key = kKey) {
    EXPECT_EQ(agent.log().find(key), std::string::npos) << "key in the agent's log";
    EXPECT_EQ(read_file(dir_.file("agent.out")).find(key), std::string::npos) << "key on the agent's stdout";
    for (const TopicFollower* t : {&records_, &dead_})
      for (const auto& m : t->messages()) {
        EXPECT_EQ(m.value.find(key), std::string::npos) << m.value;
        EXPECT_EQ(m.key.find(key), std::string::npos) << m.key;
        for (const auto& [h, v] : m.headers) EXPECT_EQ(v.find(key), std::string::npos) << h;
      }
  }

  TempDir dir_;
  MockCluster cluster_;
  TopicFollower records_, dead_;
};

// Resolvable ids carry exactly the served values; ids that 404 a few times resolve after
// retries; ids that never resolve ship as not_found after the horizon; the endpoint sees at
// most max_rps and each id once (plus its retries); checkpoints reach the end; the key leaks nowhere.
TEST_F(EnrichTest, HoldShipsServedValuesRetriesLateIdsAndGivesUpAtHorizon) {
  FakeServerOptions o;
  o.never_found = {"gen-never-*"};
  o.script = [](std::string_view id, int nth) -> std::optional<FakeBehavior> {
    if (id.rfind("gen-late-", 0) == 0 && nth < 2) return FakeBehavior(FakeAction::kNotFound);
    return std::nullopt;
  };
  FakeGenerationServer server(o);
  constexpr double kMaxRps = 40;
  std::vector<std::string> ids;
  for (int i = 0; i < 240; ++i) ids.push_back("gen-ok-" + std::to_string(i));
  for (int i = 0; i < 20; ++i) ids.push_back("gen-late-" + std::to_string(i));
  for (int i = 0; i < 10; ++i) ids.push_back("gen-never-" + std::to_string(i));
  // Interleave so late and missing ids sit in the same batches as good ones.
  std::vector<std::string> order;
  for (std::size_t i = 0; i < 240; ++i) {
    order.push_back(ids[i]);
    if (i % 8 == 0 && 240 + i / 8 < ids.size()) order.push_back(ids[240 + i / 8]);
  }
  ASSERT_EQ(order.size(), ids.size());
  append_lines(log_path(), "a", 0, order);
  const std::uint64_t file_size = fs::file_size(log_path());

  auto agent = start_agent(config(server.url(), server.ca_file(),
                                  "horizon: 10s\nmax_rps: 40\nrequest_timeout: 2s\ndedup_window: 0s"));
  ASSERT_TRUE(records_.wait_for(order.size(), seconds(60)))
      << "got " << records_.count() << " of " << order.size() << "\n" << agent->log();
  ASSERT_TRUE(eventually([&] { return committed_offset(dir_.file("state"), log_path()) == file_size; }, seconds(10)))
      << "checkpoint " << committed_offset(dir_.file("state"), log_path()) << " of " << file_size;
  std::this_thread::sleep_for(seconds(1));  // anything extra would show up now
  EXPECT_EQ(agent->stop(), 0) << agent->log();

  Delivery d = summarize(records_.messages());
  EXPECT_EQ(d.total, order.size());
  EXPECT_EQ(d.duplicates(), 0u);
  EXPECT_EQ(d.order_violations, 0u);
  EXPECT_TRUE(d.missing("a", order.size()).empty());
  EXPECT_EQ(dead_.count(), 0u);
  std::map<std::string, int> statuses;
  for (const Shipped& s : parse_all(records_.messages())) {
    statuses[s.status]++;
    if (s.id.rfind("gen-never-", 0) == 0) {
      EXPECT_EQ(s.status, "not_found") << s.id;
      EXPECT_EQ(s.http_status, 404) << s.id;
      EXPECT_FALSE(s.has_openrouter) << s.id;
      EXPECT_EQ(s.total_cost, 0) << "the app's own value stays: never a made-up cost";
      EXPECT_GE(s.attempts, 3) << s.id;
    } else {
      expect_served_values(s);
      EXPECT_EQ(s.attempts, s.id.rfind("gen-late-", 0) == 0 ? 3 : 1) << s.id;
    }
  }
  EXPECT_EQ(statuses["ok"], 260);
  EXPECT_EQ(statuses["not_found"], 10);

  const auto reqs = server.requests();
  // What the token bucket allows in any second: a second of refill plus a full bucket (50 ms
  // worth, README), and one more seen at the server because the trip there moved a request
  // across the window edge (seen under CI load: 42 at max_rps 40).
  const auto allowed = static_cast<std::size_t>(kMaxRps * 1.05) + 1;
  EXPECT_LE(busiest_second(reqs), allowed) << "max_rps, a 50 ms burst, and one at the window edge";
  for (const auto& id : ids) {
    if (id.rfind("gen-ok-", 0) == 0) {
      EXPECT_EQ(server.requests_for(id), 1u) << id;
    } else if (id.rfind("gen-late-", 0) == 0) {
      EXPECT_EQ(server.requests_for(id), 3u) << id;
    }
  }
  for (const auto& r : reqs) EXPECT_EQ(r.key_hash, FakeGenerationServer::key_hash(kKey));
  expect_key_nowhere(*agent);
  std::printf("hold: %zu records, %zu requests, busiest second %zu (max_rps %.0f)\n", order.size(), reqs.size(),
              busiest_second(reqs), kMaxRps);
}

// The same generation_id in many records (app retries, or a log written twice): with the
// dedup window each id ships once; without it every copy ships with the same values. Either
// way the endpoint sees each id once: repeats merge into the pending lookup or hit the cache.
class EnrichDedupTest : public EnrichTest, public ::testing::WithParamInterface<bool> {};

TEST_P(EnrichDedupTest, DuplicateIdsAreLookedUpOnce) {
  const bool dedup = GetParam();
  FakeServerOptions o;
  o.latency = milliseconds(20);
  FakeGenerationServer server(o);
  std::vector<std::string> first, second;
  for (int i = 0; i < 150; ++i) first.push_back("gen-dup-" + std::to_string(i));
  // Each id again: half while its lookup may still be pending (same write), half later, when cached.
  for (int i = 0; i < 150; i += 2) first.push_back("gen-dup-" + std::to_string(i));
  for (int i = 1; i < 150; i += 2) second.push_back("gen-dup-" + std::to_string(i));
  append_lines(log_path(), "a", 0, first);
  auto agent = start_agent(config(server.url(), server.ca_file(),
                                  std::string("max_rps: 200\ndedup_window: ") + (dedup ? "10m" : "0s")));
  const std::size_t expect_first = dedup ? 150 : first.size();
  ASSERT_TRUE(records_.wait_for(expect_first, seconds(60))) << records_.count() << "\n" << agent->log();
  append_lines(log_path(), "a", first.size(), second);
  const std::size_t total = first.size() + second.size();
  const std::uint64_t file_size = fs::file_size(log_path());
  if (!dedup) {
    ASSERT_TRUE(records_.wait_for(total, seconds(60))) << records_.count();
  }
  // Dropped duplicates are acknowledged without shipping: the checkpoint still reaches the end.
  ASSERT_TRUE(eventually([&] { return committed_offset(dir_.file("state"), log_path()) == file_size; }, seconds(30)))
      << "checkpoint " << committed_offset(dir_.file("state"), log_path()) << " of " << file_size;
  std::this_thread::sleep_for(seconds(1));
  EXPECT_EQ(agent->stop(), 0);

  const auto shipped = parse_all(records_.messages());
  EXPECT_EQ(shipped.size(), dedup ? 150u : total);
  std::map<std::string, int> copies;
  for (const Shipped& s : shipped) {
    expect_served_values(s);
    copies[s.id]++;
  }
  EXPECT_EQ(copies.size(), 150u);
  for (const auto& [id, n] : copies) EXPECT_EQ(n, dedup ? 1 : 2) << id;
  for (const auto& [id, n] : copies) EXPECT_EQ(server.requests_for(id), 1u) << id;
  EXPECT_EQ(server.request_count(), 150u);
}

INSTANTIATE_TEST_SUITE_P(DedupWindow, EnrichDedupTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "On" : "Off"; });

// A key the endpoint refuses: every record ships as unauthorized, the refusal is logged once
// (not per record), and the wrong key itself appears nowhere.
TEST_F(EnrichTest, WrongKeyShipsUnauthorizedAndLogsOnce) {
  FakeServerOptions o;
  o.accepted_keys = {"sk-or-v1-the-right-one"};
  FakeGenerationServer server(o);
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.push_back("gen-k-" + std::to_string(i));
  append_lines(log_path(), "a", 0, ids);
  auto agent = start_agent(config(server.url(), server.ca_file(), "max_rps: 200"));
  ASSERT_TRUE(records_.wait_for(ids.size(), seconds(60))) << records_.count() << "\n" << agent->log();
  EXPECT_EQ(agent->stop(), 0);
  for (const Shipped& s : parse_all(records_.messages())) {
    EXPECT_EQ(s.status, "unauthorized") << s.id;
    EXPECT_EQ(s.http_status, 401) << s.id;
    EXPECT_EQ(s.attempts, 1) << s.id;
    EXPECT_FALSE(s.has_openrouter);
  }
  EXPECT_EQ(count_of(agent->log(), "refuses lookups with this key"), 1u) << agent->log();
  EXPECT_NE(agent->log().find("\"key_name\":\"default\""), std::string::npos) << "names the key, not its value";
  expect_key_nowhere(*agent);
}

// A host whose only way out is an HTTP proxy named in the service's environment: the agent
// reads HTTPS_PROXY, tunnels every connection with CONNECT and the proxy's credentials, and never
// resolves the endpoint's name itself (generation.test exists only for the proxy). The records
// carry the served values; the proxy password and the API key appear nowhere.
TEST_F(EnrichTest, ThroughTheProxyInHttpsProxyEveryLookupTunnels) {
  testing::ConnectProxy proxy("Basic dXNlcjpwQHNz");  // user:p@ss
  FakeGenerationServer server;
  const std::string endpoint = "generation.test:" + std::to_string(server.port());
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.push_back("gen-px-" + std::to_string(i));
  append_lines(log_path(), "a", 0, ids);
  auto agent = std::make_unique<Agent>(
      dir_, config("https://" + endpoint + "/api/v1/generation", server.ca_file(), "max_rps: 500"),
      std::vector<std::string>{},
      std::vector<std::string>{std::string(kKeyVar) + "=" + kKey, "HTTPS_PROXY=" + proxy.url("user:p%40ss"),
                               "NO_PROXY=internal.corp,localhost"});
  ASSERT_TRUE(records_.wait_for(ids.size(), seconds(60))) << records_.count() << "\n" << agent->log();
  EXPECT_EQ(agent->stop(), 0);
  for (const Shipped& s : parse_all(records_.messages())) {
    EXPECT_EQ(s.status, "ok") << s.id;
    EXPECT_EQ(s.total_cost, FakeGenerationServer::expected(s.id).total_cost) << s.id;
  }
  EXPECT_EQ(server.request_count(), ids.size());
  ASSERT_GE(proxy.tunnels(), 1u);
  for (const auto& t : proxy.targets()) EXPECT_EQ(t, endpoint);
  EXPECT_NE(agent->log().find("lookups go through an HTTP proxy"), std::string::npos) << agent->log();
  EXPECT_NE(agent->log().find("\"from\":\"HTTPS_PROXY\""), std::string::npos) << agent->log();
  EXPECT_EQ(agent->log().find("p@ss"), std::string::npos) << "the proxy password is never logged";
  EXPECT_EQ(agent->log().find("p%40ss"), std::string::npos);
  expect_key_nowhere(*agent);
}

// follow_up: records ship at once with status pending, while the endpoint still answers 404
// for everything; once it answers, one enrichment event per id follows with the served values.
// Events have no file offsets; checkpoints do not wait for them; --once waits for them.
TEST_F(EnrichTest, FollowUpShipsRecordsAtOnceAndEventsLater) {
  std::atomic<bool> ready{false};
  FakeServerOptions o;
  o.script = [&ready](std::string_view, int) -> std::optional<FakeBehavior> {
    if (!ready.load()) return FakeBehavior(FakeAction::kNotFound);
    return std::nullopt;
  };
  FakeGenerationServer server(o);
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) ids.push_back("gen-f-" + std::to_string(i % 250));  // 50 repeats
  append_lines(log_path(), "a", 0, ids);
  const std::uint64_t file_size = fs::file_size(log_path());
  auto agent = start_agent(config(server.url(), server.ca_file(),
                                  "mode: follow_up\nmax_rps: 500\nhorizon: 60s\ndedup_window: 0s"),
                           {"--once"});
  ASSERT_TRUE(records_.wait_for(ids.size(), seconds(60))) << records_.count() << "\n" << agent->log();
  ASSERT_TRUE(eventually([&] { return committed_offset(dir_.file("state"), log_path()) == file_size; }, seconds(10)))
      << "checkpoints follow the records, not their events";
  EXPECT_TRUE(agent->process().running()) << "--once waits for the enrichment events";
  for (const Shipped& s : parse_all(records_.messages())) {
    EXPECT_TRUE(s.type.empty());
    EXPECT_EQ(s.status, "pending") << s.id;
    EXPECT_FALSE(s.has_openrouter);
    EXPECT_EQ(s.total_cost, 0);
  }
  ready = true;
  ASSERT_TRUE(records_.wait_for(ids.size() + 250, seconds(60))) << records_.count() << "\n" << agent->log();
  auto code = agent->process().wait(seconds(30));
  ASSERT_TRUE(code.has_value()) << "--once did not exit";
  EXPECT_EQ(*code, 0) << agent->log();

  const auto messages = records_.messages();
  EXPECT_EQ(messages.size(), ids.size() + 250);
  std::map<std::string, int> events;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const Shipped s = parse_all({messages[i]}).at(0);
    if (s.type != "enrichment") continue;
    events[s.id]++;
    expect_served_values(s);
    EXPECT_EQ(messages[i].key, s.id) << "events are keyed by generation_id";
    EXPECT_EQ(messages[i].headers.count("offset"), 0u) << "an event has no file offset";
    EXPECT_EQ(messages[i].headers.count("source"), 0u);
  }
  EXPECT_EQ(events.size(), 250u);
  for (const auto& [id, n] : events) EXPECT_EQ(n, 1) << id;
  std::map<std::string, int> served;  // 200 answers per id: repeats merged or cached
  for (const auto& r : server.requests()) served[r.id] += r.status == 200;
  EXPECT_EQ(served.size(), 250u);
  for (const auto& [id, n] : served) EXPECT_EQ(n, 1) << id;
  expect_key_nowhere(*agent);
}

// The endpoint refuses connections, or accepts and never answers: hold mode ships every
// record by the horizon (status error / timeout), loses nothing, and commits offsets only
// once records shipped.
class EnrichDownTest : public EnrichTest, public ::testing::WithParamInterface<bool> {};

TEST_P(EnrichDownTest, ShippingDoesNotStallBeyondTheHorizon) {
  const bool hang = GetParam();
  std::unique_ptr<FakeGenerationServer> server;
  std::string url = "https://127.0.0.1:1/api/v1/generation", ca;
  if (hang) {
    FakeServerOptions o;
    o.script = [](std::string_view, int) -> std::optional<FakeBehavior> { return FakeBehavior(FakeAction::kHang); };
    server = std::make_unique<FakeGenerationServer>(o);
    url = server->url();
    ca = server->ca_file();
  }
  append_records(log_path(), "a", 0, 3000, 60);
  const std::uint64_t file_size = fs::file_size(log_path());
  const auto t0 = Clock::now();
  auto agent = start_agent(config(url, ca, "horizon: 3s\nrequest_timeout: 1s\nmax_rps: 1000"));
  // Nothing ships and nothing is committed before the lookups give up.
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_EQ(records_.count(), 0u);
  EXPECT_EQ(committed_offset(dir_.file("state"), log_path()), 0u);
  ASSERT_TRUE(records_.wait_for(3000, seconds(30))) << records_.count() << "\n" << agent->log();
  const double took = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(eventually([&] { return committed_offset(dir_.file("state"), log_path()) == file_size; }, seconds(10)));
  EXPECT_EQ(agent->stop(), 0);
  Delivery d = summarize(records_.messages());
  EXPECT_TRUE(d.missing("a", 3000).empty());
  EXPECT_EQ(d.duplicates(), 0u);
  // error after failed attempts; timeout when the horizon passed before any (or the last timed out).
  std::map<std::string, int> statuses;
  for (const Shipped& s : parse_all(records_.messages())) statuses[s.status]++;
  EXPECT_EQ(statuses["timeout"] + statuses["error"], 3000) << "no other status";
  if (hang) {
    EXPECT_EQ(statuses["timeout"], 3000);
  }
  std::printf("statuses: error %d, timeout %d\n", statuses["error"], statuses["timeout"]);
  std::printf("endpoint %s: 3000 records shipped %.1f s after start (horizon 3 s + request_timeout 1 s)\n",
              hang ? "hanging" : "refusing", took);
}

INSTANTIATE_TEST_SUITE_P(Endpoint, EnrichDownTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Hanging" : "Refusing"; });

// SIGTERM while a full hold buffer has stopped the worker and the tailer behind it, the
// endpoint hanging: the agent still exits within shutdown_timeout, ships what it read (status
// timeout), and a restart ships the rest; nothing is lost.
TEST_F(EnrichTest, ShutdownWithAFullHoldBufferIsBoundedAndLosesNothing) {
  FakeServerOptions o;
  o.script = [](std::string_view, int) -> std::optional<FakeBehavior> { return FakeBehavior(FakeAction::kHang); };
  FakeGenerationServer server(o);
  append_records(log_path(), "a", 0, 20000, 60);
  const std::string yaml = config(server.url(), server.ca_file(),
                                  "horizon: 120s\nrequest_timeout: 30s\nmax_rps: 1000\nhold_max_records: 500",
                                  "shutdown_timeout: 2s\n  read_chunk_bytes: 16KiB");
  {
    auto agent = start_agent(yaml);
    ASSERT_TRUE(eventually([&] { return server.request_count() > 0; }, seconds(20))) << agent->log();
    std::this_thread::sleep_for(milliseconds(500));
    EXPECT_EQ(records_.count(), 0u);
    const auto t0 = Clock::now();
    agent->process().signal(SIGTERM);
    auto code = agent->process().wait(seconds(20));
    const double took = std::chrono::duration<double>(Clock::now() - t0).count();
    ASSERT_TRUE(code.has_value()) << "shutdown hangs on the hold buffer\n" << agent->log();
    EXPECT_EQ(*code, 0) << agent->log();
    EXPECT_LT(took, 6.0) << "shutdown_timeout is 2 s";
    std::printf("shutdown with a full hold buffer: %.1f s, %zu records shipped (status timeout)\n", took,
                records_.count());
  }
  for (const Shipped& s : parse_all(records_.messages())) EXPECT_EQ(s.status, "timeout") << s.id;
  // The rest ships after a restart against an endpoint that answers.
  FakeGenerationServer good;
  std::string yaml2 = config(good.url(), good.ca_file(), "max_rps: 2000\npool_size: 64");
  auto again = start_agent(yaml2);
  ASSERT_TRUE(eventually([&] { return summarize(records_.messages()).missing("a", 20000).empty(); }, seconds(90)))
      << records_.count() << "\n" << again->log();
  EXPECT_EQ(again->stop(), 0);
  for (const Shipped& s : parse_all(records_.messages())) {
    if (s.status != "timeout") expect_served_values(s);
  }
}

}  // namespace
}  // namespace auditship::testing
