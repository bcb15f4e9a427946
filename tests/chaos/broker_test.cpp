// Broker-side faults against the real binary: a long outage under load, request errors and
// added round-trip delay injected through the mock cluster, a record Kafka cannot take.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <thread>

#include "support/agent.h"
#include "support/chaos.h"
#include "support/cluster.h"
#include "support/temp_dir.h"

namespace auditship::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kTopic = "openrouter-audit";
constexpr const char* kDeadLetters = "openrouter-audit-dlq";

TEST(ChaosOutage, BrokerDownUnderLoadLosesNothingAndStaysUnderTheMemoryBound) {
  MockCluster cluster(16);
  TopicFollower records(cluster.bootstrap(), kTopic);
  TempDir dir;
  const std::string logs = dir.subdir("logs");
  constexpr std::uint64_t kBound = 16u << 20, kOverhead = 48u << 20;
  Agent agent(dir, test_config(logs + "/*.jsonl", dir.file("state"), cluster.bootstrap(), "",
                               "max_in_flight_bytes: 16MiB"));
  RotatingLog a(logs, "a.jsonl", "a", 900);
  a.append(1000);
  ASSERT_TRUE(records.wait_for(1000, seconds(30))) << agent.log();

  const auto outage = seconds(scaled(60, 10));
  cluster.command("down");
  std::uint64_t peak = 0;
  const auto end = Clock::now() + outage;
  while (Clock::now() < end) {
    // ~1 MB/s of input the whole time: far more than the 16 MiB bound over the outage.
    if (a.written() < 200000) a.append(100);
    peak = std::max(peak, agent.process().rss_bytes());
    std::this_thread::sleep_for(milliseconds(100));
  }
  cluster.command("up");
  const auto up_at = Clock::now();
  std::map<std::string, std::uint64_t> expected{{"a", a.written()}};
  bool done = false;
  while (!(done = wait_delivered(records, expected, milliseconds(500))) && Clock::now() < up_at + seconds(180)) {
    peak = std::max(peak, agent.process().rss_bytes());
    ASSERT_TRUE(agent.process().running()) << agent.log();
  }
  ASSERT_TRUE(done) << "got " << records.count() << " of " << a.written();
  const double catch_up = std::chrono::duration<double>(Clock::now() - up_at).count();
  EXPECT_EQ(agent.stop(), 0);
  char note[160];
  std::snprintf(note, sizeof note, "peak RSS %.1f MiB (bound %llu+%llu MiB), caught up %.1f s after the broker returned",
                peak / 1048576.0, static_cast<unsigned long long>(kBound >> 20),
                static_cast<unsigned long long>(kOverhead >> 20), catch_up);
  Figure fig = report("broker down " + std::to_string(outage.count()) + " s under load", records, expected, note);
  EXPECT_EQ(fig.lost, 0u);
  EXPECT_EQ(fig.duplicated, 0u) << "no crash: the idempotent producer must not duplicate";
  if (AUDITSHIP_SANITIZED) {
    std::printf("sanitizer build: the RSS bound is checked by the plain build only\n");
  } else {
    EXPECT_LT(peak, kBound + kOverhead);
  }
}

// Leader changes, request timeouts and not-enough-replicas on Produce, then a slow broker:
// every record arrives, and once the faults stop new records flow again within seconds.
TEST(Chaos, InjectedRequestErrorsAndRoundTripDelayLoseNothingAndDoNotStall) {
  MockCluster cluster(8);
  TopicFollower records(cluster.bootstrap(), kTopic);
  TempDir dir;
  const std::string logs = dir.subdir("logs");
  Agent agent(dir, test_config(logs + "/*.jsonl", dir.file("state"), cluster.bootstrap()));
  RotatingLog a(logs, "a.jsonl", "a");
  a.append(500);
  ASSERT_TRUE(records.wait_for(500, seconds(30))) << agent.log();

  auto load_for = [&](milliseconds how_long) {
    const auto end = Clock::now() + how_long;
    while (Clock::now() < end) {
      a.append(100);
      std::this_thread::sleep_for(milliseconds(50));
    }
  };
  // Kafka API key 0 = Produce; 6 NOT_LEADER_FOR_PARTITION, 7 REQUEST_TIMED_OUT,
  // 19 NOT_ENOUGH_REPLICAS, 5 LEADER_NOT_AVAILABLE. Metadata (3) fails too while leaders move.
  for (const char* faults : {"errors 0 30 6", "errors 0 30 7", "errors 0 20 19", "errors 0 20 5", "errors 3 5 5"}) {
    cluster.command(faults);
    load_for(milliseconds(scaled(1500, 500)));
  }
  cluster.command("rtt 400");
  load_for(milliseconds(scaled(4000, 1000)));
  cluster.command("rtt 0");
  load_for(milliseconds(500));

  // No stall: what was written during the faults arrives, then a fresh batch arrives promptly.
  std::map<std::string, std::uint64_t> expected{{"a", a.written()}};
  ASSERT_TRUE(wait_delivered(records, expected, seconds(60))) << agent.log();
  const auto probe = Clock::now();
  a.append(1000);
  expected["a"] = a.written();
  ASSERT_TRUE(wait_delivered(records, expected, seconds(10))) << "stalled after recovery\n" << agent.log();
  const double probe_s = std::chrono::duration<double>(Clock::now() - probe).count();
  EXPECT_EQ(agent.stop(), 0);
  char note[128];
  std::snprintf(note, sizeof note, "1000 records written after recovery delivered in %.2f s", probe_s);
  Figure fig = report("produce errors (leader, timeout, replicas) + 400 ms RTT", records, expected, note);
  EXPECT_EQ(fig.lost, 0u);
}

// A record over message.max.bytes (1,000,000 by default) between ordinary ones: it becomes a
// dead letter with its reason and a preview; the records after it keep flowing.
TEST(Chaos, RecordLargerThanMessageMaxBytesIsDeadLetteredAndThePipelineFlows) {
  MockCluster cluster(4);
  TopicFollower records(cluster.bootstrap(), kTopic), dead(cluster.bootstrap(), kDeadLetters);
  TempDir dir;
  const std::string logs = dir.subdir("logs");
  Agent agent(dir, test_config(logs + "/*.jsonl", dir.file("state"), cluster.bootstrap(), "max_line_bytes: 4MiB\n"));
  RotatingLog a(logs, "a.jsonl", "a");
  a.append(1000);
  write_file(a.path(), "{\"generation_id\":\"gen-huge\",\"prompt\":\"" + std::string(1500000, 'z') + "\"}\n", true);
  // The huge line is not one of a's numbered records: keep numbering in another file.
  RotatingLog b(logs, "b.jsonl", "b");
  b.append(1000);
  write_file(a.path(), audit_line("c", 0), true);
  std::map<std::string, std::uint64_t> expected{{"a", 1000}, {"b", 1000}, {"c", 1}};
  ASSERT_TRUE(wait_delivered(records, expected, seconds(60))) << agent.log();
  ASSERT_TRUE(dead.wait_for(1, seconds(30))) << agent.log();
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(agent.stop(), 0);
  ASSERT_EQ(dead.count(), 1u);
  const std::string envelope = dead.messages()[0].value;
  simdjson::dom::parser p;
  std::string_view reason;
  ASSERT_FALSE(p.parse(envelope).get_object()["reason"].get(reason)) << envelope.substr(0, 300);
  EXPECT_EQ(reason, "message_too_large");
  EXPECT_LT(envelope.size(), 16384u) << "the dead letter carries a preview, not the whole record";
  expect_exactly_once(report("record > message.max.bytes", records, expected,
                             "plus 1 line of 1.5 MB dead-lettered (message_too_large); the 1001 records after it delivered"));
}

}  // namespace
}  // namespace auditship::testing
