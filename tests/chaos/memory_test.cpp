// What the real binary's memory does once the work is done: librdkafka's message sets, zstd
// contexts and the read buffers are kept in glibc's arenas while the agent ships (see
// cli/run_command.cpp), and must go back to the system when nothing is in flight.
#include <gtest/gtest.h>

#include <algorithm>
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

TEST(Memory, AnIdleAgentHandsWhatItKeptWhileShippingBack) {
  if (AUDITSHIP_SANITIZED) GTEST_SKIP() << "sanitizer allocators do not use glibc's arenas";
  MockCluster cluster(16);
  TopicFollower records(cluster.bootstrap(), "openrouter-audit");
  TempDir dir;
  const std::string logs = dir.subdir("logs");
  Agent agent(dir, test_config(logs + "/*.jsonl", dir.file("state"), cluster.bootstrap()));
  RotatingLog a(logs, "a.jsonl", "a", 900);

  // ~30 MB through the 3 MiB in-flight window: every buffer of the pipeline is reused many times.
  std::uint64_t peak = 0;
  for (int i = 0; i < 30; ++i) {
    a.append(1000);
    peak = std::max(peak, agent.process().rss_bytes());
    std::this_thread::sleep_for(milliseconds(20));
  }
  const std::map<std::string, std::uint64_t> expected{{"a", a.written()}};
  bool done = false;
  const auto deadline = Clock::now() + seconds(60);
  while (!(done = wait_delivered(records, expected, milliseconds(50))) && Clock::now() < deadline)
    peak = std::max(peak, agent.process().rss_bytes());
  ASSERT_TRUE(done) << "got " << records.count() << " of " << a.written() << "\n" << agent.log();
  peak = std::max(peak, agent.process().rss_bytes());

  // Idle from here: the agent trims once nothing has been in flight for a second.
  constexpr std::uint64_t kHandedBack = 2u << 20;  // without the trim, idle stays at the peak
  std::uint64_t idle = agent.process().rss_bytes();
  const auto quiet_until = Clock::now() + seconds(10);
  while (idle + kHandedBack > peak && Clock::now() < quiet_until) {
    std::this_thread::sleep_for(milliseconds(100));
    idle = agent.process().rss_bytes();
  }
  std::printf("peak RSS while shipping %.1f MiB, idle %.1f MiB\n", peak / 1048576.0, idle / 1048576.0);
  EXPECT_LE(idle + kHandedBack, peak) << "the arenas kept what shipping used";
  EXPECT_EQ(agent.stop(), 0);
}

}  // namespace
}  // namespace auditship::testing
