#pragma once
// How many CPUs this process may really use. std::thread::hardware_concurrency() counts the
// host's cores; a container (Kubernetes `resources.limits.cpu`), a systemd `CPUQuota=` or a
// `taskset` gives the agent fewer. Sizing threads from the host would oversubscribe the quota
// and get the agent throttled. The limit is the smallest of: the CPUs in the affinity mask and
// every cgroup CPU quota from the agent's cgroup up to the root (v2 `cpu.max`, v1
// `cpu.cfs_quota_us` / `cpu.cfs_period_us`), rounded up to whole CPUs.
#include <cstddef>
#include <string>

namespace auditship {

struct CpuLimit {
  std::size_t cpus = 1;  // >= 1
  std::string reason;    // what set it, for the start log: "affinity", "cgroup /sys/fs/cgroup/.../cpu.max"
};

// Where the cgroup files are; tests point these at a fake tree.
struct CpuLimitSources {
  std::string proc_self_cgroup = "/proc/self/cgroup";
  std::string cgroup_root = "/sys/fs/cgroup";
  std::size_t affinity_cpus = 0;  // 0: read sched_getaffinity
};

CpuLimit cpu_limit(const CpuLimitSources& sources = {});

}  // namespace auditship
