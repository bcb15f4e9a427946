// Observability on the real binary: /metrics counters against what reached the mock cluster,
// /ready following the broker, `auditship status`, SIGHUP reloads (valid and invalid), and a
// log that never carries a secret or a redacted value.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cctype>
#include <csignal>
#include <filesystem>
#include <set>
#include <thread>

#include "auditship/metrics/scrape.h"
#include "support/agent.h"
#include "support/audit_records.h"
#include "support/cluster.h"
#include "support/fake_generation_server.h"
#include "support/temp_dir.h"

namespace auditship::testing {
namespace {

namespace fs = std::filesystem;
using metrics::sum_of;
using std::chrono::seconds;

constexpr const char* kTopic = "openrouter-audit";
constexpr const char* kDeadLetters = "openrouter-audit-dlq";

metrics::Samples scrape(const std::string& url) {
  auto res = metrics::http_get(url + "/metrics", seconds(5));
  if (!res || res->status != 200) return {};
  return metrics::parse_prometheus(res->body);
}

int status_of(const std::string& url) {
  auto res = metrics::http_get(url, seconds(5));
  return res ? res->status : -1;
}

// A record the summarizer understands (file + seq), with free text the test chooses.
std::string line(const std::string& tag, int seq, const std::string& text) {
  return "{\"timestamp\":\"2026-12-04T10:00:00Z\",\"generation_id\":\"gen-" + tag + "-" + std::to_string(seq) +
         "\",\"file\":\"" + tag + "\",\"seq\":" + std::to_string(seq) + ",\"status\":\"success\",\"note\":\"" + text +
         "\"}\n";
}

void append_lines(const std::string& path, const std::string& tag, int from, int count, const std::string& text) {
  std::string chunk;
  for (int i = from; i < from + count; ++i) chunk += line(tag, i, text);
  write_file(path, chunk, true);
}

// Docs and dashboard stay true to the binary: every family the agent exports is in the
// README's Metrics reference, and every metric the dashboard queries is exported (except
// those starting with `unless_prefix`, which this agent's config does not produce).
void expect_documented(const std::string& url, const std::string& unless_prefix) {
  auto text = metrics::http_get(url + "/metrics", seconds(5));
  ASSERT_TRUE(text);
  const std::string readme = read_file(std::string(AUDITSHIP_SOURCE_DIR) + "/README.md");
  std::set<std::string> families;
  for (std::size_t at = text->body.find("# TYPE "); at != std::string::npos; at = text->body.find("# TYPE ", at + 1)) {
    std::string name = text->body.substr(at + 7, text->body.find(' ', at + 7) - at - 7);
    families.insert(name);
    EXPECT_NE(readme.find("| `" + name + "` |"), std::string::npos) << name << " is missing from the Metrics reference";
  }
  const std::string dashboard =
      read_file(std::string(AUDITSHIP_SOURCE_DIR) + "/packaging/grafana/auditship-dashboard.json");
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::size_t at = 0; at < dashboard.size(); ++at) {
    if (dashboard.compare(at, 10, "auditship_") != 0 && dashboard.compare(at, 8, "process_") != 0) continue;
    if (at > 0 && word(dashboard[at - 1])) continue;
    std::size_t end = at;
    while (end < dashboard.size() && word(dashboard[end])) ++end;
    std::string name = dashboard.substr(at, end - at);
    at = end;
    if (name.size() > 7 && name.compare(name.size() - 7, 7, "_bucket") == 0) name.resize(name.size() - 7);
    if (!unless_prefix.empty() && name.rfind(unless_prefix, 0) == 0) continue;
    EXPECT_TRUE(families.count(name)) << "the dashboard queries " << name << ", which the agent does not export";
  }
}

TEST(Observe, MetricsMatchWhatWasShippedAndReadyFollowsTheBroker) {
  MockCluster cluster(4);
  TopicFollower records(cluster.bootstrap(), kTopic), dead(cluster.bootstrap(), kDeadLetters);
  TempDir dir;
  const std::string file = dir.subdir("logs") + "/a.jsonl";
  append_records(file, "a", 0, 2000);
  append_lines(file, "e", 0, 10, "mail me at alice.smith@example.com");  // one email each
  write_file(file, "{\"truncated\":\n{not json}\n[1,2]\n", true);        // 2 invalid_json, 1 not_an_object
  Agent agent(dir, test_config(dir.file("logs") + "/*.jsonl", dir.file("state"), cluster.bootstrap()));
  const std::string url = agent.metrics_url();
  ASSERT_FALSE(url.empty()) << agent.log();

  ASSERT_TRUE(records.wait_for(2010, seconds(60))) << records.count() << "\n" << agent.log();
  ASSERT_TRUE(dead.wait_for(3, seconds(30))) << dead.count();

  metrics::Samples m;
  // Counters are updated as acknowledgements arrive; the last ones may trail the consumer, and
  // the first checkpoint is written at the first checkpoint_interval tick after an ack.
  ASSERT_TRUE(eventually(
      [&] {
        m = scrape(url);
        return sum_of(m, "auditship_kafka_messages_delivered_total") == 2013 &&
               sum_of(m, "auditship_kafka_brokers_up") >= 1 && sum_of(m, "auditship_checkpoint_commits_total") > 0;
      },
      seconds(20)))
      << agent.log();
  EXPECT_EQ(sum_of(m, "auditship_tail_lines_read_total"), 2013);
  EXPECT_EQ(sum_of(m, "auditship_tail_bytes_read_total"), static_cast<double>(fs::file_size(file)));
  EXPECT_EQ(sum_of(m, "auditship_tail_bytes_behind"), 0);
  EXPECT_EQ(sum_of(m, "auditship_parse_records_total"), 2010);
  EXPECT_EQ(sum_of(m, "auditship_kafka_messages_delivered_total", {"topic_kind=\"records\""}), 2010);
  EXPECT_EQ(sum_of(m, "auditship_kafka_messages_delivered_total", {"topic_kind=\"dead_letter\""}), 3);
  EXPECT_EQ(sum_of(m, "auditship_dead_letters_total", {"reason=\"invalid_json\""}), 2);
  EXPECT_EQ(sum_of(m, "auditship_dead_letters_total", {"reason=\"not_an_object\""}), 1);
  EXPECT_EQ(sum_of(m, "auditship_dead_letters_total"), 3);
  EXPECT_EQ(sum_of(m, "auditship_redactions_total", {"detector=\"email\""}), 10);
  EXPECT_EQ(sum_of(m, "auditship_kafka_delivery_errors_total"), 0);
  EXPECT_EQ(sum_of(m, "auditship_kafka_in_flight_messages"), 0);
  EXPECT_GT(sum_of(m, "auditship_kafka_broker_rtt_seconds", {"stat=\"avg\""}), 0);
  EXPECT_GT(sum_of(m, "process_resident_memory_bytes"), 1e6);
  EXPECT_GT(sum_of(m, "process_cpu_seconds_total"), 0);
  EXPECT_EQ(sum_of(m, "auditship_pipeline_queue_capacity_batches"), 16);
  EXPECT_GT(sum_of(m, "auditship_checkpoint_commits_total"), 0);
  EXPECT_LT(sum_of(m, "auditship_checkpoint_age_seconds"), 5);

  EXPECT_EQ(status_of(url + "/health"), 200);
  EXPECT_TRUE(eventually([&] { return status_of(url + "/ready") == 200; }, seconds(10)));

  // `top -H` and `ps -L` tell the stages apart: each thread is named for its job.
  std::multiset<std::string> threads;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(agent.process().pid()) + "/task")) {
    std::string comm = read_file(task.path().string() + "/comm");
    threads.insert(comm.substr(0, comm.find('\n')));
  }
  for (const char* name : {"as-tail", "as-work-0", "as-kafka-dr", "as-metrics"})
    EXPECT_TRUE(threads.count(name)) << name << " is not among the agent's threads";

  expect_documented(url, "auditship_enrich_");  // enrichment is off here; the last test checks those

  // `auditship status` against the live agent.
  auto status = run_and_capture(AUDITSHIP_BINARY, {"status", "--url", url});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("records/s"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("invalid_json 2, not_an_object 1"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("email 10"), std::string::npos) << status.out;

  // The broker goes away: not ready (naming kafka), still alive; back: ready again.
  cluster.command("down");
  std::string body;
  EXPECT_TRUE(eventually(
      [&] {
        auto r = metrics::http_get(url + "/ready", seconds(5));
        body = r ? r->body : "";
        return r && r->status == 503;
      },
      seconds(30)))
      << agent.log();
  EXPECT_NE(body.find("\"kafka\""), std::string::npos) << body;
  EXPECT_EQ(status_of(url + "/health"), 200);
  cluster.command("up");
  EXPECT_TRUE(eventually([&] { return status_of(url + "/ready") == 200; }, seconds(30))) << agent.log();
  EXPECT_EQ(agent.stop(), 0) << agent.log();
}

// SIGHUP: a new detector and a new source apply to what is read next, without losing or
// repeating anything; an invalid config is rejected, logged, and the agent keeps shipping
// with the config it had.
TEST(Observe, SighupReloadsValidConfigAndRejectsInvalidOne) {
  MockCluster cluster(4);
  TopicFollower records(cluster.bootstrap(), kTopic);
  TempDir dir;
  const std::string a = dir.subdir("logs") + "/a.jsonl", b = dir.subdir("more") + "/b.jsonl";
  const std::string base = test_config(dir.file("logs") + "/*.jsonl", dir.file("state"), cluster.bootstrap());
  Agent agent(dir, base);
  const std::string url = agent.metrics_url();
  ASSERT_FALSE(url.empty()) << agent.log();
  append_lines(a, "a", 0, 500, "see ticket TKT-123456");
  ASSERT_TRUE(records.wait_for(500, seconds(60))) << agent.log();

  // Valid: a custom detector, a second source directory.
  std::string reloaded = base + "redact:\n  custom:\n    - name: ticket\n      pattern: 'TKT-[0-9]{6}'\n"
                                "      replacement: '[TICKET]'\n";
  auto pos = reloaded.find("sources:\n");
  reloaded.insert(pos + 9, "  - path: \"" + dir.file("more") + "/*.jsonl\"\n");
  write_file(dir.file("auditship.yaml"), reloaded);
  agent.process().signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return agent.log().find("\"config reloaded\"") != std::string::npos; }, seconds(20)))
      << agent.log();
  append_lines(a, "a", 500, 500, "see ticket TKT-123456");
  append_lines(b, "b", 0, 100, "see ticket TKT-654321");
  ASSERT_TRUE(records.wait_for(1100, seconds(60))) << records.count() << "\n" << agent.log();

  // Invalid: a pattern Hyperscan rejects. Rejected, logged; the running config is kept.
  write_file(dir.file("auditship.yaml"), base + "redact:\n  custom:\n    - name: broken\n      pattern: '(unclosed'\n");
  agent.process().signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return agent.log().find("\"config reload rejected") != std::string::npos; },
                         seconds(20)))
      << agent.log();
  // And a file that is not even YAML.
  write_file(dir.file("auditship.yaml"), "sources: [unclosed\n");
  agent.process().signal(SIGHUP);
  ASSERT_TRUE(eventually(
      [&] { return sum_of(scrape(url), "auditship_config_reloads_total", {"result=\"rejected\""}) == 2; },
      seconds(20)))
      << agent.log();
  append_lines(a, "a", 1000, 200, "see ticket TKT-123456");
  append_lines(b, "b", 100, 50, "see ticket TKT-654321");
  ASSERT_TRUE(records.wait_for(1350, seconds(60))) << records.count() << "\n" << agent.log();
  std::this_thread::sleep_for(seconds(1));  // anything extra would show up now

  auto messages = records.messages();
  Delivery d = summarize(messages);
  EXPECT_EQ(d.total, 1350u);
  EXPECT_EQ(d.duplicates(), 0u);
  EXPECT_TRUE(d.missing("a", 1200).empty());
  EXPECT_TRUE(d.missing("b", 150).empty());
  simdjson::dom::parser p;
  int before = 0, after = 0;
  for (const auto& msg : messages) {
    std::string_view tag;
    std::int64_t seq = 0;
    simdjson::dom::element doc;
    ASSERT_EQ(p.parse(msg.value).get(doc), simdjson::SUCCESS);
    ASSERT_EQ(doc["file"].get(tag), simdjson::SUCCESS);
    ASSERT_EQ(doc["seq"].get(seq), simdjson::SUCCESS);
    const bool redacted = msg.value.find("[TICKET]") != std::string::npos;
    if (tag == "a" && seq < 500) {
      EXPECT_FALSE(redacted) << msg.value;
      ++before;
    } else {
      EXPECT_TRUE(redacted) << "read after the reload: " << msg.value;
      EXPECT_EQ(msg.value.find("TKT-"), std::string::npos) << msg.value;
      ++after;
    }
  }
  EXPECT_EQ(before, 500);
  EXPECT_EQ(after, 850);
  metrics::Samples m = scrape(url);
  EXPECT_EQ(sum_of(m, "auditship_config_reloads_total", {"result=\"applied\""}), 1);
  EXPECT_EQ(sum_of(m, "auditship_redactions_total", {"detector=\"ticket\""}), 850);
  EXPECT_EQ(agent.stop(), 0) << agent.log();
}

// SIGHUP swaps the Enrich stage: off → on (records read after it carry lookups) → off again
// (the enriching stage drains what it holds first); nothing is lost or repeated.
TEST(Observe, SighupSwapsEnrichmentWithoutLossOrDuplicates) {
  MockCluster cluster(4);
  TopicFollower records(cluster.bootstrap(), kTopic);
  FakeGenerationServer fake;
  TempDir dir;
  const std::string file = dir.subdir("logs") + "/a.jsonl";
  const std::string base = test_config(dir.file("logs") + "/*.jsonl", dir.file("state"), cluster.bootstrap());
  const std::string enrich = "enrich:\n  enabled: true\n  endpoint: \"" + fake.url() + "\"\n  ca_file: \"" +
                             fake.ca_file() + "\"\n  initial_delay: 0ms\n";
  Agent agent(dir, base, {}, {"OPENROUTER_API_KEY=sk-or-v1-test"});
  append_records(file, "a", 0, 300);
  ASSERT_TRUE(records.wait_for(300, seconds(60))) << agent.log();
  auto reload = [&](const std::string& yaml, int nth) {
    write_file(dir.file("auditship.yaml"), yaml);
    agent.process().signal(SIGHUP);
    auto count = [&] {
      std::string log = agent.log();
      int n = 0;
      for (auto at = log.find("\"config reloaded\""); at != std::string::npos; at = log.find("\"config reloaded\"", at + 1)) ++n;
      return n;
    };
    return eventually([&] { return count() == nth; }, seconds(30));
  };
  ASSERT_TRUE(reload(base + enrich, 1)) << agent.log();
  append_records(file, "a", 300, 300);
  ASSERT_TRUE(records.wait_for(600, seconds(60))) << records.count() << "\n" << agent.log();
  ASSERT_TRUE(reload(base, 2)) << agent.log();
  append_records(file, "a", 600, 300);
  ASSERT_TRUE(records.wait_for(900, seconds(60))) << records.count() << "\n" << agent.log();
  std::this_thread::sleep_for(seconds(1));
  EXPECT_EQ(agent.stop(), 0) << agent.log();

  auto messages = records.messages();
  Delivery d = summarize(messages);
  EXPECT_EQ(d.total, 900u);
  EXPECT_EQ(d.duplicates(), 0u);
  EXPECT_TRUE(d.missing("a", 900).empty());
  simdjson::dom::parser p;
  for (const auto& msg : messages) {
    std::int64_t seq = 0;
    simdjson::dom::element doc;
    ASSERT_EQ(p.parse(msg.value).get(doc), simdjson::SUCCESS);
    ASSERT_EQ(doc["seq"].get(seq), simdjson::SUCCESS);
    const bool enriched = msg.value.find("\"enrichment\":{\"status\":\"ok\"") != std::string::npos;
    EXPECT_EQ(enriched, seq >= 300 && seq < 600) << msg.value;
  }
  EXPECT_GE(fake.request_count(), 300u);
}

// The agent's own log, at debug level, through enrichment with an API key, HMAC hashing,
// redaction, dead letters and an over-long line: none of the secrets or PII appears in it.
TEST(Observe, LogNeverPrintsSecretsOrRedactedValues) {
  MockCluster cluster(4);
  TopicFollower records(cluster.bootstrap(), kTopic), dead(cluster.bootstrap(), kDeadLetters);
  FakeGenerationServer fake;
  TempDir dir;
  dir.subdir("logs");
  const std::string api_key = "sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef";
  const std::string hmac_key = "hmac-key-never-logged-0123456789";
  const std::vector<std::string> pii = {"alice.smith@example.com", "sk-or-v1-deadbeefdeadbeefdeadbeef",
                                        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcDEF123_-xyz",
                                        "4111 1111 1111 1111", "078-05-1120", "AKIAIOSFODNN7EXAMPLE",
                                        "bob.jones@corp.example.org"};
  const std::string file = dir.file("logs/a.jsonl");
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text += "{\"timestamp\":\"2026-12-04T10:00:00Z\",\"generation_id\":\"gen-pii-" + std::to_string(i) +
            "\",\"status\":\"success\",\"total_cost\":0,\"user_id\":\"" + pii[6] + "\",\"prompt_preview\":\"mail " +
            pii[0] + " key " + pii[1] + " Authorization: Bearer " + pii[2] + " card " + pii[3] + " ssn " + pii[4] +
            " aws " + pii[5] + "\"}\n";
  }
  text += "{\"user_id\":\"" + pii[0] + "\", broken json " + pii[1] + "\n";             // dead letter
  text += "{\"prompt\":\"" + pii[0] + " " + std::string(9000, 'x') + " " + pii[1] + "\"}\n";  // too long
  write_file(file, text);
  const std::string extra = "log:\n  level: debug\nmax_line_bytes: 8192\nredact:\n  fields: { user_id: hash }\n"
                            "  hash_key_env: AUDIT_HMAC_KEY\nenrich:\n  enabled: true\n  endpoint: \"" +
                            fake.url() + "\"\n  ca_file: \"" + fake.ca_file() +
                            "\"\n  api_key_env: OPENROUTER_API_KEY\n  initial_delay: 0ms\n";
  Agent agent(dir, test_config(dir.file("logs") + "/*.jsonl", dir.file("state"), cluster.bootstrap(), extra), {},
              {"OPENROUTER_API_KEY=" + api_key, "AUDIT_HMAC_KEY=" + hmac_key});
  ASSERT_TRUE(records.wait_for(200, seconds(60))) << records.count() << "\n" << agent.log();
  ASSERT_TRUE(dead.wait_for(2, seconds(30))) << dead.count();
  EXPECT_GT(fake.request_count(), 0u) << "enrichment ran, so the key was used";
  expect_documented(agent.metrics_url(), "");
  EXPECT_EQ(agent.stop(), 0);
  const std::string log = agent.log();
  ASSERT_NE(log.find("\"level\":\"debug\""), std::string::npos) << "debug lines were written";
  for (const auto& secret : {api_key, hmac_key}) EXPECT_EQ(log.find(secret), std::string::npos) << secret;
  for (const auto& value : pii) EXPECT_EQ(log.find(value), std::string::npos) << value << "\n" << log;
  for (const auto& m : records.messages())
    for (const auto& value : pii) EXPECT_EQ(m.value.find(value), std::string::npos) << m.value;
}

}  // namespace
}  // namespace auditship::testing
