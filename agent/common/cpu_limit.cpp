#include "auditship/common/cpu_limit.h"

#include <sched.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

namespace auditship {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

std::optional<double> read_number(const fs::path& file) {
  auto line = read_first_line(file);
  if (!line) return std::nullopt;
  std::istringstream in(*line);
  double value = 0;
  if (!(in >> value)) return std::nullopt;
  return value;
}

// CPUs a quota of `quota` µs per `period` µs allows; nullopt for "no limit".
std::optional<double> quota_cpus(double quota, double period) {
  if (quota <= 0 || period <= 0) return std::nullopt;  // v1 writes -1 for no limit
  return quota / period;
}

// cgroup v2: "max 100000" (no limit) or "150000 100000".
std::optional<double> read_cpu_max(const fs::path& dir) {
  auto line = read_first_line(dir / "cpu.max");
  if (!line) return std::nullopt;
  std::istringstream in(*line);
  std::string quota;
  double period = 0;
  if (!(in >> quota >> period) || quota == "max") return std::nullopt;
  try {
    return quota_cpus(std::stod(quota), period);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// cgroup v1: cpu.cfs_quota_us (-1: no limit) over cpu.cfs_period_us.
std::optional<double> read_cfs_quota(const fs::path& dir) {
  auto quota = read_number(dir / "cpu.cfs_quota_us");
  auto period = read_number(dir / "cpu.cfs_period_us");
  if (!quota || !period) return std::nullopt;
  return quota_cpus(*quota, *period);
}

// The smallest quota from `mount`/`path` up to `mount`. A path that does not exist under the
// mount (a container whose cgroup namespace shows the host's path) falls back to the mount
// itself, which is then the container's own cgroup.
template <class ReadQuota>
void tighten_along(const fs::path& mount, const std::string& path, ReadQuota read, const char* file,
                   double& best, std::string& reason) {
  std::error_code ec;
  if (!fs::is_directory(mount, ec)) return;
  fs::path dir = (mount / fs::path(path).relative_path()).lexically_normal();
  if (!fs::is_directory(dir, ec)) dir = mount;
  const fs::path stop = mount.lexically_normal();
  for (;;) {
    if (auto cpus = read(dir); cpus && *cpus < best) {
      best = *cpus;
      reason = "cgroup " + (dir / file).string();
    }
    if (dir == stop || !dir.has_parent_path() || dir.parent_path() == dir) break;
    dir = dir.parent_path();
  }
}

std::size_t affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return static_cast<std::size_t>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

bool names_cpu_controller(const std::string& controllers) {
  std::istringstream in(controllers);
  for (std::string c; std::getline(in, c, ',');)
    if (c == "cpu") return true;
  return false;
}

}  // namespace

CpuLimit cpu_limit(const CpuLimitSources& sources) {
  const std::size_t affinity = sources.affinity_cpus ? sources.affinity_cpus : affinity_cpus();
  double best = static_cast<double>(affinity);
  std::string reason = "affinity";

  std::ifstream in(sources.proc_self_cgroup);
  const fs::path root = sources.cgroup_root;
  std::error_code ec;
  for (std::string line; std::getline(in, line);) {
    // "<hierarchy id>:<controllers>:<path>"; v2 is "0::<path>".
    const auto first = line.find(':');
    const auto second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string id = line.substr(0, first);
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (id == "0" && controllers.empty()) {
      // Pure v2 mounts the hierarchy at the root; hybrid systems under "unified".
      const fs::path mount = fs::exists(root / "cgroup.controllers", ec) ? root : root / "unified";
      tighten_along(mount, path, read_cpu_max, "cpu.max", best, reason);
    } else if (names_cpu_controller(controllers)) {
      const fs::path mount = fs::is_directory(root / controllers, ec) ? root / controllers : root / "cpu";
      tighten_along(mount, path, read_cfs_quota, "cpu.cfs_quota_us", best, reason);
    }
  }
  return {std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(best - 1e-9))), reason};
}

}  // namespace auditship
