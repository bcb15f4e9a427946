#include "auditship/common/cpu_limit.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace auditship {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_file;

// A fake /proc/self/cgroup and /sys/fs/cgroup under a temp dir, on a host with 8 CPUs.
struct FakeHost {
  TempDir dir;
  CpuLimitSources sources{dir.file("cgroup"), dir.file("sys"), 8};
  void cgroup_file(const std::string& text) { write_file(sources.proc_self_cgroup, text); }
  void put(const std::string& rel, const std::string& text) {
    fs::create_directories(fs::path(sources.cgroup_root + "/" + rel).parent_path());
    write_file(sources.cgroup_root + "/" + rel, text);
  }
};

TEST(CpuLimit, NoCgroupQuotaMeansTheAffinityMask) {
  FakeHost h;
  h.cgroup_file("0::/system.slice/auditship.service\n");
  h.put("cgroup.controllers", "cpu memory\n");
  h.put("system.slice/auditship.service/cpu.max", "max 100000\n");
  CpuLimit l = cpu_limit(h.sources);
  EXPECT_EQ(l.cpus, 8u);
  EXPECT_EQ(l.reason, "affinity");
}

TEST(CpuLimit, CgroupV2QuotaRoundsUpToWholeCpus) {
  FakeHost h;
  h.cgroup_file("0::/kubepods/pod1/agent\n");
  h.put("cgroup.controllers", "cpu\n");
  h.put("kubepods/pod1/agent/cpu.max", "150000 100000\n");  // limits.cpu: 1500m
  CpuLimit l = cpu_limit(h.sources);
  EXPECT_EQ(l.cpus, 2u);
  EXPECT_EQ(l.reason, "cgroup " + h.sources.cgroup_root + "/kubepods/pod1/agent/cpu.max");
}

TEST(CpuLimit, TheTightestAncestorWins) {
  FakeHost h;
  h.cgroup_file("0::/a/b/c\n");
  h.put("cgroup.controllers", "cpu\n");
  h.put("a/b/c/cpu.max", "400000 100000\n");
  h.put("a/cpu.max", "50000 100000\n");  // half a CPU for the whole subtree: still one worker's CPU
  h.put("cpu.max", "garbage\n");         // unreadable values are not limits
  CpuLimit l = cpu_limit(h.sources);
  EXPECT_EQ(l.cpus, 1u);
  EXPECT_EQ(l.reason, "cgroup " + h.sources.cgroup_root + "/a/cpu.max");
}

TEST(CpuLimit, CgroupV1QuotaOnACombinedCpuHierarchy) {
  FakeHost h;
  h.cgroup_file("4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n");
  h.put("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "300000\n");
  h.put("cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  h.put("cpu,cpuacct/cpu.cfs_quota_us", "-1\n");  // the root: no limit
  h.put("cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(cpu_limit(h.sources).cpus, 3u);
}

TEST(CpuLimit, HybridHostReadsTheUnifiedMount) {
  FakeHost h;
  h.cgroup_file("1:cpu:/\n0::/svc\n");
  h.put("cpu/cpu.cfs_quota_us", "-1\n");
  h.put("cpu/cpu.cfs_period_us", "100000\n");
  h.put("unified/svc/cpu.max", "200000 100000\n");
  EXPECT_EQ(cpu_limit(h.sources).cpus, 2u);
}

TEST(CpuLimit, ContainerWithoutItsHostPathUsesItsOwnRoot) {
  // A cgroup namespace shows the host's path, but the container's mount is its own cgroup.
  FakeHost h;
  h.cgroup_file("0::/kubepods/burstable/pod9/abc\n");
  h.put("cgroup.controllers", "cpu\n");
  h.put("cpu.max", "100000 100000\n");
  EXPECT_EQ(cpu_limit(h.sources).cpus, 1u);
}

TEST(CpuLimit, NeverBelowOneAndNeverAboveTheAffinity) {
  FakeHost h;
  h.cgroup_file("0::/\n");
  h.put("cgroup.controllers", "cpu\n");
  h.put("cpu.max", "1000 100000\n");  // 1 % of a CPU
  EXPECT_EQ(cpu_limit(h.sources).cpus, 1u);
  h.put("cpu.max", "6400000 100000\n");  // 64 CPUs on an 8-CPU host
  EXPECT_EQ(cpu_limit(h.sources).cpus, 8u);
  h.sources.proc_self_cgroup = h.dir.file("missing");  // no /proc: the affinity mask alone
  EXPECT_EQ(cpu_limit(h.sources).cpus, 8u);
}

TEST(CpuLimit, ThisProcessIsWithinItsHost) {
  CpuLimit l = cpu_limit();
  EXPECT_GE(l.cpus, 1u);
  EXPECT_LE(l.cpus, std::max(1u, std::thread::hardware_concurrency()));
}

// The real kernel: a child process moved into a cgroup with a 1-CPU quota sees 1 CPU. Needs a
// writable cgroup v1 cpu hierarchy (root on most VMs; not inside an unprivileged container).
TEST(CpuLimit, ARealCgroupQuotaLimitsTheProcessInside) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "needs a host with >= 2 CPUs";
  const std::string group = "/sys/fs/cgroup/cpu/auditship-test-" + std::to_string(::getpid());
  std::error_code ec;
  if (!fs::create_directory(group, ec)) GTEST_SKIP() << "cannot create a cgroup v1 cpu group: " << ec.message();
  struct Remove {
    std::string dir;
    ~Remove() { ::rmdir(dir.c_str()); }
  } remove{group};
  std::ofstream(group + "/cpu.cfs_period_us") << "100000\n";
  std::ofstream(group + "/cpu.cfs_quota_us") << "100000\n";

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char go;
    if (::read(fds[0], &go, 1) != 1) _exit(100);
    _exit(static_cast<int>(cpu_limit().cpus));
  }
  { std::ofstream(group + "/tasks") << child << "\n"; }  // then let the child look
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  ::close(fds[0]);
  ::close(fds[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1) << "the child's cgroup allows 1 CPU";
}

}  // namespace
}  // namespace auditship
