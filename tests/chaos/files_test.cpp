// File-system faults on the source side, against the real binary: a file deleted while being
// read, a file the agent may not read, Kubernetes-style symlinked log directories, and a long
// run of rotations under load.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "auditship/metrics/scrape.h"
#include "support/agent.h"
#include "support/chaos.h"
#include "support/cluster.h"
#include "support/temp_dir.h"

namespace auditship::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kTopic = "openrouter-audit";

// Unlinked while the agent is in the middle of it: the broker is down from the start, so the
// agent stops reading at its 4 MiB in-flight bound, far from the end of the 20 MB file (when
// records flowed first, the agent sometimes read the whole file before the test could delete
// it). The open descriptor keeps the data; once the broker is back the agent reads it to its end.
TEST(Chaos, FileDeletedWhileBeingReadIsReadToItsEnd) {
  MockCluster cluster(8);
  TopicFollower records(cluster.bootstrap(), kTopic);
  TempDir dir;
  const std::string logs = dir.subdir("logs");
  RotatingLog a(logs, "a.jsonl", "a", 900);
  a.append(scaled(20000, 5000));  // ~20 MB against a 4 MiB bound
  const auto size = fs::file_size(a.path());
  cluster.command("down");
  Agent agent(dir, test_config(logs + "/*.jsonl", dir.file("state"), cluster.bootstrap(), "",
                               "max_in_flight_bytes: 4MiB\n  read_chunk_bytes: 64KiB"));
  const std::string url = agent.metrics_url();
  ASSERT_FALSE(url.empty()) << agent.log();
  auto bytes_read = [&]() -> double {
    auto page = metrics::http_get(url + "/metrics", seconds(5));
    return page ? metrics::sum_of(metrics::parse_prometheus(page->body), "auditship_tail_bytes_read_total") : -1;
  };
  // Read as far as the bound lets it: until the count stops moving.
  double at_delete = -1;
  for (const auto until = Clock::now() + seconds(30); Clock::now() < until;) {
    const double now = bytes_read();
    if (now > 0 && now == at_delete) break;
    at_delete = now;
    std::this_thread::sleep_for(milliseconds(300));
  }
  ASSERT_GT(at_delete, 0) << agent.log();
  ASSERT_LT(at_delete, static_cast<double>(size)) << "the file must be deleted mid-read for this test to mean anything";
  fs::remove(a.path());
  cluster.command("up");
  std::map<std::string, std::uint64_t> expected{{"a", a.written()}};
  ASSERT_TRUE(wait_delivered(records, expected, seconds(90))) << agent.log();
  EXPECT_NE(agent.log().find("file rotated or deleted; reading it to its end"), std::string::npos);
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(agent.stop(), 0);
  char note[96];
  std::snprintf(note, sizeof note, "deleted after %.1f of %.1f MB had been read", at_delete / 1e6,
                static_cast<double>(size) / 1e6);
  expect_exactly_once(report("file deleted while read", records, expected, note));
}

// Root reads any file whatever its mode, so the agent runs without CAP_DAC_OVERRIDE and
// CAP_DAC_READ_SEARCH (setpriv): a mode-000 file then really cannot be opened, exactly as for
// an unprivileged agent. It is reported and retried; the other file flows; once readable it
// is shipped whole.
TEST(Chaos, UnreadableFileIsReportedRetriedAndShippedOnceReadable) {
  const char* setpriv = "/usr/bin/setpriv";
  if (::access(setpriv, X_OK) != 0) GTEST_SKIP() << "setpriv (util-linux) not installed: cannot drop root's DAC override";
  if (::geteuid() != 0) GTEST_SKIP() << "runs as root only (as non-root, a mode-000 file is simply unreadable: "
                                        "the same path this test exercises)";
  MockCluster cluster(4);
  TopicFollower records(cluster.bootstrap(), kTopic);
  TempDir dir;
  const std::string logs = dir.subdir("logs");
  RotatingLog a(logs, "a.jsonl", "a"), b(logs, "b.jsonl", "b");
  a.append(1000);
  b.append(1000);
  ::chmod(b.path().c_str(), 0);
  write_file(dir.file("auditship.yaml"), test_config(logs + "/*.jsonl", dir.file("state"), cluster.bootstrap()));
  Process agent(setpriv, {"--bounding-set=-dac_override,-dac_read_search", "--", AUDITSHIP_BINARY, "run", "-c",
                          dir.file("auditship.yaml")},
                {.stdout_file = dir.file("agent.out"), .stderr_file = dir.file("agent.log")});
  std::map<std::string, std::uint64_t> only_a{{"a", 1000}};
  ASSERT_TRUE(wait_delivered(records, only_a, seconds(30))) << read_file(dir.file("agent.log"));
  ASSERT_TRUE(eventually([&] { return read_file(dir.file("agent.log")).find("Permission denied") != std::string::npos; },
                         seconds(10)))
      << read_file(dir.file("agent.log"));
  EXPECT_NE(read_file(dir.file("agent.log")).find(b.path()), std::string::npos) << "the warning names the file";
  EXPECT_EQ(records.count(), 1000u) << "nothing of b yet";
  b.append(500);  // the app keeps writing meanwhile
  ::chmod(b.path().c_str(), 0644);
  std::map<std::string, std::uint64_t> expected{{"a", 1000}, {"b", b.written()}};
  ASSERT_TRUE(wait_delivered(records, expected, seconds(30))) << read_file(dir.file("agent.log"));
  std::this_thread::sleep_for(milliseconds(500));
  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait(seconds(30)), 0);
  expect_exactly_once(report("unreadable file (mode 000, no DAC override)", records, expected,
                             "reported and retried; shipped whole once readable"));
}

// The Kubernetes layout: /var/log/containers/<pod>_<ns>_<container>-<id>.log are symlinks to
// /var/log/pods/<ns>_<pod>_<uid>/<container>/0.log, the kubelet rotates 0.log by rename
// (0.log.<timestamp>) and a new pod appears while the agent runs. The log root itself is a
// symlink too (/var/log on another volume).
TEST(Chaos, SymlinkedKubernetesLogDirectories) {
  MockCluster cluster(8);
  TopicFollower records(cluster.bootstrap(), kTopic);
  TempDir dir;
  dir.subdir("volume/log/containers");
  fs::create_directory_symlink(dir.file("volume/log"), dir.file("varlog"));
  const std::string root = dir.file("varlog");
  auto add_pod = [&](const std::string& pod, const std::string& tag) {
    const std::string pod_dir = root + "/pods/default_" + pod + "_0000/app";
    fs::create_directories(pod_dir);
    auto log = std::make_unique<RotatingLog>(pod_dir, "0.log", tag);
    log->append(1);
    fs::create_symlink("../pods/default_" + pod + "_0000/app/0.log",
                       root + "/containers/" + pod + "_default_app-" + tag + ".log");
    return log;
  };
  auto web = add_pod("web", "w");
  web->append(999);
  Agent agent(dir, test_config(root + "/containers/*.log", dir.file("state"), cluster.bootstrap()));
  ASSERT_TRUE(records.wait_for(1000, seconds(30))) << agent.log();
  auto api = add_pod("api", "p");
  for (int i = 0; i < 5; ++i) {
    web->append(200);
    api->append(200);
    // The kubelet's rotation: rename 0.log to 0.log.<time>, the runtime opens a new 0.log.
    fs::rename(web->path(), web->path() + "." + std::to_string(20260101 + i));
    web->append(50);
    std::this_thread::sleep_for(milliseconds(300));
  }
  std::map<std::string, std::uint64_t> expected{{"w", web->written()}, {"p", api->written()}};
  ASSERT_TRUE(wait_delivered(records, expected, seconds(60))) << agent.log();
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(agent.stop(), 0);
  expect_exactly_once(report("k8s symlinked log dirs", records, expected,
                             "5 kubelet rotations behind the symlinks, a pod added while running"));
}

// 100 rename rotations in a row while records keep coming and the broker is slow, then a clean
// stop. Rotated names stay matched by the glob (as in a `*.jsonl*` source).
TEST(Chaos, HundredRotationsInARowUnderLoad) {
  MockCluster cluster(16);
  TopicFollower records(cluster.bootstrap(), kTopic);
  TempDir dir;
  const std::string logs = dir.subdir("logs");
  RotatingLog a(logs, "a.jsonl", "a"), b(logs, "b.jsonl", "b");
  a.append(100);
  b.append(100);
  Agent agent(dir, test_config(logs + "/*.jsonl*", dir.file("state"), cluster.bootstrap(), "",
                               "max_in_flight_bytes: 8MiB"));
  ASSERT_TRUE(records.wait_for(200, seconds(30))) << agent.log();
  // A slow broker: acknowledgements lag reading by more than a rescan interval, so a rotated
  // file is finished long before its records are committed.
  cluster.command("rtt 300");
  const int rotations = static_cast<int>(scaled(100, 20));
  const auto start = Clock::now();
  for (int i = 0; i < rotations; ++i) {
    a.append(150);
    b.append(150);  // b grows alongside without rotating
    a.rotate();
    a.append(20);   // the new file starts right away
    std::this_thread::sleep_for(milliseconds(40));
  }
  const double took = std::chrono::duration<double>(Clock::now() - start).count();
  cluster.command("rtt 0");
  std::map<std::string, std::uint64_t> expected{{"a", a.written()}, {"b", b.written()}};
  ASSERT_TRUE(wait_delivered(records, expected, seconds(90))) << agent.log();
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(agent.stop(), 0);
  char note[96];
  std::snprintf(note, sizeof note, "one rotation every %.0f ms, broker RTT 300 ms", 1000 * took / rotations);
  expect_exactly_once(report(std::to_string(rotations) + " rotations in a row", records, expected, note));
}

}  // namespace
}  // namespace auditship::testing
