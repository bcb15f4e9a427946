// kill -9 of the real binary at random moments while its files keep growing and rotating.
// Nothing may be lost, and every duplicate must come from the tail that had not been
// committed when the agent died (checkpoints.json is read back after each kill).
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "support/agent.h"
#include "support/chaos.h"
#include "support/cluster.h"
#include "support/temp_dir.h"

namespace auditship::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

unsigned seed_from_env() {
  if (const char* s = std::getenv("AUDITSHIP_CHAOS_SEED"); s && *s) return static_cast<unsigned>(std::stoul(s));
  return std::random_device{}();
}

TEST(Chaos, KillNineAtRandomMomentsWhileFilesGrowAndRotate) {
  MockCluster cluster(16);
  TopicFollower records(cluster.bootstrap(), "openrouter-audit");
  TempDir dir;
  const std::string logs = dir.file("logs"), state = dir.file("state");
  std::filesystem::create_directories(logs);
  // Rotated names (a.jsonl.1, ...) stay matched: a file rotated while the agent is dead is
  // still found at restart by its device+inode and finished from its checkpoint.
  const std::string config = test_config(logs + "/*.jsonl*", state, cluster.bootstrap(), "", "max_in_flight_bytes: 8MiB");
  std::vector<RotatingLog> files{{logs, "a.jsonl", "a", 60}, {logs, "b.jsonl", "b", 60}};

  const unsigned seed = seed_from_env();
  std::printf("seed %u (AUDITSHIP_CHAOS_SEED=%u reproduces the kill moments)\n", seed, seed);
  std::mt19937 rng(seed);
  const int cycles = static_cast<int>(scaled(20, 3));
  std::vector<Committed> at_kill;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    for (auto& f : files) f.set_epoch(cycle);
    Agent agent(dir, config);
    // From "still loading its checkpoints" to "well into shipping".
    const auto kill_at = std::chrono::steady_clock::now() + milliseconds(std::uniform_int_distribution<>(0, 2000)(rng));
    do {
      for (auto& f : files) {
        f.append(std::uniform_int_distribution<std::uint64_t>(20, 150)(rng));
        if (std::uniform_int_distribution<>(0, 29)(rng) == 0) f.rotate();
      }
      std::this_thread::sleep_for(milliseconds(50));
    } while (std::chrono::steady_clock::now() < kill_at);
    agent.process().signal(SIGKILL);
    ASSERT_TRUE(agent.process().wait(seconds(10)).has_value());
    Committed now = read_checkpoints(state);
    if (!at_kill.empty()) {
      for (const auto& [key, offset] : at_kill.back()) {
        if (now.count(key)) {
          EXPECT_GE(now[key], offset) << "a committed offset went backwards at kill " << cycle;
        }
      }
    }
    at_kill.push_back(std::move(now));
  }

  for (auto& f : files) f.set_epoch(cycles);
  Agent agent(dir, config);
  for (auto& f : files) f.append(500);
  std::map<std::string, std::uint64_t> expected;
  for (const auto& f : files) expected[f.tag()] = f.written();
  ASSERT_TRUE(wait_delivered(records, expected, seconds(120))) << agent.log();
  std::this_thread::sleep_for(seconds(1));  // late duplicates would show up now
  EXPECT_EQ(agent.stop(), 0);

  Delivery d = summarize(records.messages());
  // Each extra copy of a record needs a kill at which it had been written and lay at or past
  // its file's committed offset: anything committed was never sent again.
  std::uint64_t unexplained = 0;
  for (const auto& f : files) {
    for (const auto& [seq, n] : d.seen[f.tag()]) {
      if (n < 2) continue;
      const auto& p = f.place(seq);
      int allowed = 0;
      for (int k = p.epoch; k < cycles; ++k) {
        auto it = at_kill[static_cast<std::size_t>(k)].find({p.dev, p.ino});
        if (it == at_kill[static_cast<std::size_t>(k)].end() || it->second <= p.offset) ++allowed;
      }
      if (n - 1 > allowed) {
        ++unexplained;
        if (unexplained < 10)
          ADD_FAILURE() << f.tag() << " seq " << seq << " seen " << n << " times, offset " << p.offset
                        << " was committed at " << (cycles - allowed) << " of the kills after it was written";
      }
    }
  }
  EXPECT_EQ(unexplained, 0u);
  Figure fig = figure("kill -9 x" + std::to_string(cycles) + " with rotation", d, expected);
  fig.note = std::to_string(files[0].rotations() + files[1].rotations()) +
             " rotations, every duplicate from the uncommitted tail at a kill";
  fig.print();
  EXPECT_EQ(fig.lost, 0u);
  EXPECT_EQ(d.unparsable, 0u);
}

}  // namespace
}  // namespace auditship::testing
