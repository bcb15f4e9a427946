// The real `auditship` binary against the mock cluster running as its own process: records
// go over loopback TCP exactly as to a real cluster, and a follower reads them back.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <set>
#include <thread>

#include "support/agent.h"
#include "support/audit_records.h"
#include "support/cluster.h"
#include "support/sqlite_db.h"
#include "support/temp_dir.h"

namespace auditship::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr const char* kTopic = "openrouter-audit";
constexpr const char* kDeadLetters = "openrouter-audit-dlq";

std::map<std::string, int> reasons(const std::vector<Message>& dead) {
  std::map<std::string, int> out;
  simdjson::dom::parser p;
  for (const auto& m : dead) {
    std::string_view reason;
    if (p.parse(m.value).get_object()["reason"].get(reason)) reason = "<unparsable envelope>";
    out[std::string(reason)]++;
  }
  return out;
}

// 100,000 records over 3 files, a rename rotation and a copytruncate while the agent runs,
// and every kind of malformed line mixed in. Three parse+redact workers: batches finish out of
// order, and must still ship in file order.
TEST(Pipeline, EveryRecordOnceThroughRotationTruncationAndMalformedLines) {
  MockCluster cluster(16);
  TopicFollower records(cluster.bootstrap(), kTopic), dead(cluster.bootstrap(), kDeadLetters);
  TempDir dir;
  const std::string logs = dir.subdir("logs");
  const std::string a = logs + "/a.jsonl", b = logs + "/b.jsonl", c = logs + "/c.jsonl";
  append_records(a, "a", 0, 10000);
  append_records(b, "b", 0, 10000);
  append_records(c, "c", 0, 10000);
  Agent agent(dir, test_config(logs + "/*.jsonl", dir.file("state"), cluster.bootstrap(), "max_line_bytes: 4096\n",
                               "workers: 3"));

  // Rename rotation of a while it is being read: the old file is finished, the new followed.
  // (The agent must have found a first: a file renamed out of the glob before the agent
  // ever saw it is, rightly, not followed.)
  ASSERT_TRUE(eventually([&] { return !summarize(records.messages()).seen["a"].empty(); }, seconds(30)));
  append_records(a, "a", 10000, 5000);
  fs::rename(a, logs + "/a.jsonl.1");
  append_records(a, "a", 15000, 18334);

  // copytruncate of b. Lines written between logrotate's copy and its truncate are lost by
  // logrotate itself, so the test lets the agent read b to its end first.
  append_records(b, "b", 10000, 5000);
  ASSERT_TRUE(eventually([&] { return summarize(records.messages()).seen["b"].size() == 15000; }, seconds(60)))
      << agent.log();
  fs::copy_file(b, logs + "/b.jsonl.copy");
  fs::resize_file(b, 0);
  append_records(b, "b", 15000, 18333);

  // Malformed lines between good ones in c.
  write_file(c, "{\"generation_id\":\"gen-truncated\",\"user_id\":\"leak.me@example.com\",\n", true);
  append_records(c, "c", 10000, 100);
  write_file(c, "[1,2,3]\n", true);
  write_file(c, "{\"prompt\":\"caf\xe9 latin-1\"}\n", true);
  write_file(c, "{\"prompt\":\"" + std::string(5000, 'y') + "\"}\n", true);
  write_file(c, std::string("\x00\x01\x02\x03 garbage \x80\x81\x82", 17) + "\n", true);
  append_records(c, "c", 10100, 23233);

  ASSERT_TRUE(records.wait_for(100000, seconds(120)))
      << "got " << records.count() << ": missing a " << summarize(records.messages()).missing("a", 33334).size()
      << ", b " << summarize(records.messages()).missing("b", 33333).size() << ", c "
      << summarize(records.messages()).missing("c", 33333).size() << "\n"
      << agent.log();
  ASSERT_TRUE(dead.wait_for(5, seconds(30))) << "got " << dead.count();
  std::this_thread::sleep_for(seconds(1));  // anything extra would show up now
  EXPECT_EQ(agent.stop(), 0);

  Delivery d = summarize(records.messages());
  EXPECT_EQ(d.total, 100000u);
  EXPECT_EQ(d.unparsable, 0u);
  EXPECT_EQ(d.duplicates(), 0u);
  EXPECT_EQ(d.order_violations, 0u);
  EXPECT_TRUE(d.missing("a", 33334).empty());
  EXPECT_TRUE(d.missing("b", 33333).empty());
  EXPECT_TRUE(d.missing("c", 33333).empty());
  auto r = reasons(dead.messages());
  EXPECT_EQ(dead.count(), 5u);
  EXPECT_EQ(r["not_an_object"], 1);
  EXPECT_EQ(r["line_too_long"], 1);
  EXPECT_EQ(r["invalid_utf8"] + r["invalid_json"], 3) << "truncated JSON, latin-1 text, binary garbage";
  EXPECT_GE(r["invalid_json"], 1);
  EXPECT_GE(r["invalid_utf8"], 1);
  for (const auto& m : dead.messages())
    EXPECT_EQ(m.value.find("leak.me@example.com"), std::string::npos) << "dead letters are redacted too: " << m.value;
}

TEST(Pipeline, CleanRestartShipsNothingTwice) {
  MockCluster cluster(4);
  TopicFollower records(cluster.bootstrap(), kTopic);
  TempDir dir;
  const std::string logs = dir.subdir("logs");
  append_records(logs + "/a.jsonl", "a", 0, 20000);
  const std::string config = test_config(logs + "/*.jsonl", dir.file("state"), cluster.bootstrap());
  {
    Agent agent(dir, config);
    ASSERT_TRUE(records.wait_for(2000, seconds(60))) << agent.log();
    EXPECT_EQ(agent.stop(), 0) << agent.log();
  }
  constexpr const char* kCacheHit = "redaction detectors loaded from the cache";
  EXPECT_EQ(read_file(dir.file("agent.log")).find(kCacheHit), std::string::npos) << "the first start compiles";
  append_records(logs + "/a.jsonl", "a", 20000, 10000);
  append_records(logs + "/b.jsonl", "b", 0, 5000);
  Agent again(dir, config);
  ASSERT_TRUE(records.wait_for(35000, seconds(60))) << again.log();
  EXPECT_NE(again.log().find(kCacheHit), std::string::npos) << "the restart loads what the first start compiled";
  std::this_thread::sleep_for(seconds(2));
  EXPECT_EQ(again.stop(), 0);
  Delivery d = summarize(records.messages());
  EXPECT_EQ(d.duplicates(), 0u);
  EXPECT_EQ(d.total, 35000u);
  EXPECT_TRUE(d.missing("a", 30000).empty());
  EXPECT_TRUE(d.missing("b", 5000).empty());
}

TEST(Pipeline, KillNineLosesNothingAndResendsOnlyTheUnacknowledgedTail) {
  MockCluster cluster(8);
  TopicFollower records(cluster.bootstrap(), kTopic);
  TempDir dir;
  const std::string logs = dir.subdir("logs");
  append_records(logs + "/a.jsonl", "a", 0, 40000);
  append_records(logs + "/b.jsonl", "b", 0, 40000);
  // Two workers: a kill while batches sit between workers and the sink must not lose them.
  const std::string config = test_config(logs + "/*.jsonl", dir.file("state"), cluster.bootstrap(), {}, "workers: 2");
  std::map<std::string, std::uint64_t> at_kill;
  {
    Agent agent(dir, config);
    ASSERT_TRUE(records.wait_for(10000, seconds(60))) << agent.log();
    agent.process().signal(SIGKILL);
    ASSERT_TRUE(agent.process().wait(seconds(10)).has_value());
    at_kill = committed_offsets(dir.file("state"));
  }
  append_records(logs + "/a.jsonl", "a", 40000, 5000);
  Agent again(dir, config);
  ASSERT_TRUE(records.wait_for(85000, seconds(90))) << again.log();
  std::this_thread::sleep_for(seconds(2));
  EXPECT_EQ(again.stop(), 0);
  Delivery d = summarize(records.messages());
  EXPECT_TRUE(d.missing("a", 45000).empty());
  EXPECT_TRUE(d.missing("b", 40000).empty());
  // Every duplicate lies at or after the offset committed when the agent died.
  std::uint64_t dup = 0;
  std::map<std::pair<std::string, std::string>, int> copies;  // (source, offset) -> n
  for (const auto& m : records.messages()) copies[{m.headers.at("source"), m.headers.at("offset")}]++;
  for (const auto& [where, n] : copies) {
    if (n < 2) continue;
    dup += static_cast<std::uint64_t>(n - 1);
    EXPECT_GE(std::stoull(where.second), at_kill[where.first]) << where.first << " offset " << where.second;
  }
  EXPECT_EQ(dup, d.duplicates());
  std::printf("kill -9: delivered %llu, duplicates %llu (all after the committed offsets)\n",
              static_cast<unsigned long long>(d.total), static_cast<unsigned long long>(dup));
}

// A broker outage under load (0 lost, RSS under the bound) is tests/chaos/broker_test.cpp:
// the same scenario, longer, with its figure in RELIABILITY.md.

TEST(Pipeline, DemoConfigShipsTheBundledSample) {
  TempDir dir;
  std::string demo = read_file(std::string(AUDITSHIP_SOURCE_DIR) + "/conf/demo.yaml");
  auto replace = [&](const std::string& from, const std::string& to) {
    auto at = demo.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    for (; at != std::string::npos; at = demo.find(from, at + to.size())) demo.replace(at, from.size(), to);
  };
  replace("conf/sample/", std::string(AUDITSHIP_SOURCE_DIR) + "/conf/sample/");
  replace("build/demo-state", dir.file("state"));
  write_file(dir.file("demo.yaml"), demo);
  auto run = run_and_capture(AUDITSHIP_BINARY, {"run", "-c", dir.file("demo.yaml"), "--once", "--show", "100"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("== topic openrouter-audit: 40 messages"), std::string::npos) << run.out << run.err;
  EXPECT_NE(run.out.find("== topic openrouter-audit-dlq: 2 messages"), std::string::npos) << run.out;
  // The sample's PII never reaches Kafka: emails, a card, a phone, an SSN, an OpenRouter key.
  for (const char* pii : {"alice@example.com", "jane.doe@example.com", "4111 1111 1111 1111", "(415) 555-0132",
                          "123-45-6789", "sk-or-v1-0123456789abcdef"})
    EXPECT_EQ(run.out.find(pii), std::string::npos) << pii;
  EXPECT_NE(run.out.find("[EMAIL]"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("1234567812345678"), std::string::npos) << "a non-Luhn order number survives";
  // conf/demo.yaml also writes the seed's SQLite table, which ./dev.sh demo then queries.
  EXPECT_EQ(scalar(dir.file("state") + "/audit.db", "SELECT COUNT(DISTINCT generation_id) FROM audit_log"), "40");
  EXPECT_EQ(scalar(dir.file("state") + "/audit.db", "SELECT COUNT(*) FROM audit_dead_letter"), "2");
}

}  // namespace
}  // namespace auditship::testing
