// state_dir faults: a full file system while shipping, and a damaged checkpoint file at start.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "auditship/metrics/scrape.h"
#include "support/agent.h"
#include "support/chaos.h"
#include "support/cluster.h"
#include "support/temp_dir.h"

namespace auditship::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kTopic = "openrouter-audit";

// A small tmpfs mounted for the test (needs CAP_SYS_ADMIN), unmounted when it dies.
class SmallFileSystem {
 public:
  explicit SmallFileSystem(const std::string& at) : at_(at) {
    fs::create_directories(at);
    if (::mount("tmpfs", at.c_str(), "tmpfs", 0, "size=256k") != 0) error_ = std::strerror(errno);
  }
  ~SmallFileSystem() {
    if (error_.empty()) ::umount2(at_.c_str(), MNT_DETACH);
  }
  [[nodiscard]] const std::string& error() const { return error_; }
  // Writes `name` until the file system is full.
  void fill(const std::string& name) {
    std::ofstream out(at_ + "/" + name, std::ios::binary);
    const std::string block(4096, 'f');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {}
  }

 private:
  std::string at_, error_;
};

std::uint64_t committed_for(const std::string& state, const RotatingLog& log) {
  auto c = read_checkpoints(state);
  const auto& p = log.place(0);
  auto it = c.find({p.dev, p.ino});
  return it == c.end() ? 0 : it->second;
}

std::uint64_t file_size(const std::string& path) { return fs::file_size(path); }

// What both full-disk scenarios share: state_dir on a 256 KiB tmpfs, a broker, one log.
class ChaosFullDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!small.error().empty()) GTEST_SKIP() << "cannot mount a tmpfs for state_dir (" << small.error() << "): needs root";
  }
  TempDir dir;
  const std::string state = dir.file("state");
  SmallFileSystem small{state};
  MockCluster cluster{4};
  TopicFollower records{cluster.bootstrap(), kTopic};
  const std::string logs = dir.subdir("logs");
  RotatingLog a{logs, "a.jsonl", "a"};
};

TEST_F(ChaosFullDisk, FullStateDirKeepsTheLastGoodCheckpointAndRecoversWhenSpaceReturns) {
  a.append(2000);
  const std::string config = test_config(logs + "/*.jsonl", state, cluster.bootstrap());
  auto agent = std::make_unique<Agent>(dir, config);
  ASSERT_TRUE(eventually([&] { return committed_for(state, a) == file_size(a.path()); }, seconds(30))) << agent->log();
  const std::uint64_t good = committed_for(state, a);
  // The detector cache (~350 KB) never fits in 256 KiB: the agent runs without it, leaving no temp file.
  EXPECT_NE(agent->log().find("cannot write the detector cache"), std::string::npos) << agent->log();
  EXPECT_FALSE(fs::exists(state + "/detectors.hsdb.tmp"));

  small.fill("filler");
  a.append(2000);
  std::map<std::string, std::uint64_t> expected{{"a", a.written()}};
  ASSERT_TRUE(wait_delivered(records, expected, seconds(30))) << "shipping goes on while checkpoints cannot be written";
  ASSERT_TRUE(eventually([&] { return agent->log().find("No space left on device") != std::string::npos; }, seconds(10)))
      << agent->log();
  EXPECT_NE(agent->log().find("checkpoint write failed"), std::string::npos);
  EXPECT_NE(agent->log().find(state + "/checkpoints.json"), std::string::npos) << "the error names the file";
  EXPECT_EQ(committed_for(state, a), good) << "the last good checkpoint is intact and readable";
  EXPECT_FALSE(fs::exists(state + "/checkpoints.json.tmp")) << "no half-written temporary file left behind";

  fs::remove(state + "/filler");
  ASSERT_TRUE(eventually([&] { return committed_for(state, a) == file_size(a.path()); }, seconds(10)))
      << "the checkpoint catches up once space returns\n" << agent->log();
  EXPECT_EQ(agent->stop(), 0);

  // A restart after recovery re-ships nothing.
  agent = std::make_unique<Agent>(dir, config);
  a.append(100);
  expected["a"] = a.written();
  ASSERT_TRUE(wait_delivered(records, expected, seconds(30))) << agent->log();
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(agent->stop(), 0);
  expect_exactly_once(report("state_dir full (tmpfs 256k)", records, expected,
                             "checkpoint kept at its last good value, caught up when space returned"));
}

// The disk buffer on a full state_dir while Kafka is down: writing a segment fails, the batch
// waits in memory instead (reading pauses at the memory bound), the error is logged and
// counted, and once Kafka and space return everything arrives — nothing is lost to a full disk.
TEST_F(ChaosFullDisk, DiskBufferOnAFullStateDirKeepsBatchesInMemoryAndLosesNothing) {
  a.append(500);
  Agent agent(dir, test_config(logs + "/*.jsonl", state, cluster.bootstrap(),
                               "buffer:\n  max_disk_bytes: 64MiB\n  spill_after: 200ms\n"));
  const std::string url = agent.metrics_url();
  ASSERT_FALSE(url.empty()) << agent.log();
  std::map<std::string, std::uint64_t> expected{{"a", a.written()}};
  ASSERT_TRUE(wait_delivered(records, expected, seconds(30))) << agent.log();

  small.fill("filler");
  cluster.command("down");
  // In chunks, so batches arrive while older ones wait longer than spill_after: they spill.
  for (int i = 0; i < 10; ++i) {
    a.append(100);
    std::this_thread::sleep_for(milliseconds(300));
  }
  ASSERT_TRUE(eventually([&] { return agent.log().find("disk buffer: write failed") != std::string::npos; },
                         seconds(20)))
      << agent.log();
  EXPECT_TRUE(agent.process().running()) << agent.log();
  cluster.command("up");
  fs::remove(state + "/filler");
  expected["a"] = a.written();
  ASSERT_TRUE(wait_delivered(records, expected, seconds(60))) << agent.log();
  auto page = metrics::http_get(url + "/metrics", seconds(5));
  ASSERT_TRUE(page) << page.error();
  const metrics::Samples m = metrics::parse_prometheus(page->body);
  const double io_errors = metrics::sum_of(m, "auditship_buffer_io_errors_total");
  EXPECT_GT(io_errors, 0) << "the failed writes are counted";
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(agent.stop(), 0);
  const Figure fig = report("disk buffer on a full state_dir (tmpfs 256k)", records, expected,
                            "segment writes failed (" + std::to_string(static_cast<int>(io_errors)) +
                                " I/O errors counted); batches waited in memory and shipped when Kafka returned");
  EXPECT_EQ(fig.lost, 0u);
}

// A checkpoint file truncated or with a flipped byte (a crash on a file system that does not
// keep rename atomic, a bad disk): by default the agent refuses to start and names the file;
// `on_corrupt_checkpoint: restart_from_beginning` moves it aside and re-ships everything
// (duplicates, never loss).
TEST(Chaos, CorruptCheckpointAtStartFailsClearlyOrRestartsFromTheBeginningWhenConfigured) {
  MockCluster cluster(4);
  TopicFollower records(cluster.bootstrap(), kTopic);
  TempDir dir;
  const std::string logs = dir.subdir("logs"), state = dir.file("state"), file = state + "/checkpoints.json";
  RotatingLog a(logs, "a.jsonl", "a");
  a.append(1000);
  // read_from: end must not apply after a corrupt checkpoint: the positions are unknown.
  std::string config = test_config(logs + "/*.jsonl", state, cluster.bootstrap());
  config.insert(config.find("state_dir:"), "    read_from: end\n");
  {
    auto first = test_config(logs + "/*.jsonl", state, cluster.bootstrap());
    Agent agent(dir, first);
    ASSERT_TRUE(eventually([&] { return committed_for(state, a) == file_size(a.path()); }, seconds(30)))
        << agent.log();
    EXPECT_EQ(agent.stop(), 0);
  }
  const std::string good = read_file(file);
  // One digit of the committed offset changed: still valid JSON, caught by the checksum.
  std::string flipped = good;
  const auto digit = flipped.find("\"offset\":") + 9;
  flipped[digit] = flipped[digit] == '1' ? '2' : '1';
  for (const std::string& damaged : {good.substr(0, good.size() / 2), std::string(), flipped}) {
    write_file(file, damaged);
    auto run = run_and_capture(AUDITSHIP_BINARY, {"run", "-c", dir.file("auditship.yaml")}, seconds(30));
    EXPECT_EQ(run.exit_code, 1) << run.err;
    EXPECT_NE(run.err.find("checkpoint file '" + file + "' is corrupt"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("on_corrupt_checkpoint"), std::string::npos) << "the error says what the choices are";
    EXPECT_EQ(read_file(file), damaged) << "a refused start leaves the file as it was";
  }
  a.append(500);
  Agent agent(dir, config + "on_corrupt_checkpoint: restart_from_beginning\n");
  std::map<std::string, std::uint64_t> expected{{"a", a.written()}};
  ASSERT_TRUE(eventually([&] { return summarize(records.messages()).seen["a"][0] == 2; }, seconds(30)))
      << "re-read from offset 0 despite read_from: end\n" << agent.log();
  ASSERT_TRUE(wait_delivered(records, expected, seconds(30))) << agent.log();
  ASSERT_TRUE(eventually([&] { return committed_for(state, a) == file_size(a.path()); }, seconds(30)));
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(agent.stop(), 0);
  EXPECT_NE(agent.log().find("corrupt checkpoint file moved aside"), std::string::npos) << agent.log();
  bool kept = false;
  for (const auto& e : fs::directory_iterator(state))
    kept = kept || e.path().filename().string().rfind("checkpoints.json.corrupt-", 0) == 0;
  EXPECT_TRUE(kept) << "the corrupt file is kept for inspection";
  Figure fig = report("corrupt checkpoint, restart_from_beginning", records, expected,
                      "default `fail` refused 3 damaged files (truncated, empty, one offset digit changed) naming them");
  EXPECT_EQ(fig.lost, 0u);
  EXPECT_EQ(fig.duplicated, 1000u) << "exactly what had been shipped before the damage";
}

}  // namespace
}  // namespace auditship::testing
