#include "auditship/metrics/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

namespace auditship::metrics {
namespace {

struct ProcessGauges {
  Gauge& cpu;
  Gauge& rss;
  Gauge& vsize;
  Gauge& fds;
  Gauge& start;
};

std::string read_small_file(const char* path) {
  std::string out;
  if (std::FILE* f = std::fopen(path, "re")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

// Boot time in Unix seconds, for turning /proc/self/stat's start time (ticks since boot) into a timestamp.
double boot_time() {
  std::string stat = read_small_file("/proc/stat");
  auto at = stat.find("\nbtime ");
  return at == std::string::npos ? 0 : std::strtod(stat.c_str() + at + 7, nullptr);
}

void sample(const ProcessGauges& g) {
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  static const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  static const double booted = boot_time();
  // /proc/self/stat: "pid (comm) state ..." — comm may hold spaces, so fields count from the last ')'.
  std::string stat = read_small_file("/proc/self/stat");
  auto close = stat.rfind(')');
  if (close != std::string::npos) {
    unsigned long long utime = 0, stime = 0, starttime = 0, vsize = 0;
    long long rss = 0;
    // Fields 14,15 (utime, stime), 22 (starttime), 23 (vsize), 24 (rss); field 3 is the state after ')'.
    if (std::sscanf(stat.c_str() + close + 2,
                    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu %llu %lld",
                    &utime, &stime, &starttime, &vsize, &rss) == 5) {
      g.cpu.set(static_cast<double>(utime + stime) / ticks);
      g.rss.set(static_cast<double>(rss) * page);
      g.vsize.set(static_cast<double>(vsize));
      if (booted > 0) g.start.set(booted + static_cast<double>(starttime) / ticks);
    }
  }
  if (DIR* d = ::opendir("/proc/self/fd")) {
    int n = 0;
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    g.fds.set(n - 1);  // not counting the descriptor opendir() itself holds
  }
}

}  // namespace

void register_process_metrics(Registry& registry) {
  static std::mutex mu;
  static std::set<Registry*> done;
  std::lock_guard lock(mu);
  if (!done.insert(&registry).second) return;
  ProcessGauges g{
      registry.sampled_counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds"),
      registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes"),
      registry.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes"),
      registry.gauge("process_open_fds", "Number of open file descriptors"),
      registry.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds"),
  };
  registry.add_collector([g] { sample(g); });
}

}  // namespace auditship::metrics
