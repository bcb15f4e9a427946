#include "auditship/common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <unistd.h>

#include "auditship/common/json_writer.h"

namespace auditship::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::mutex g_mutex;

void write_stderr(std::string_view line) {
  // One write(2) per line so concurrent processes sharing stderr do not interleave.
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}
std::atomic<void (*)(std::string_view)> g_sink{&write_stderr};

void append_timestamp(std::string& out) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  out += buf;
}

}  // namespace

void set_level(Level level) { g_level.store(level); }
Level level() { return g_level.load(); }
void set_sink(void (*write)(std::string_view)) { g_sink.store(write ? write : &write_stderr); }

std::optional<Level> parse_level(std::string_view name) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error") return Level::kError;
  return std::nullopt;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

void write(Level lvl, std::string_view msg, std::initializer_list<Field> fields) {
  if (lvl < g_level.load(std::memory_order_relaxed)) return;
  std::string line;
  line.reserve(128);
  line += "{\"ts\":";
  append_timestamp(line);
  line += ",\"level\":\"";
  line += level_name(lvl);
  line += "\",\"msg\":";
  json::append_string(line, msg);
  for (const Field& f : fields) {
    line += ',';
    json::append_string(line, f.key);
    line += ':';
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string_view>) json::append_string(line, v);
          else if constexpr (std::is_same_v<V, bool>) line += v ? "true" : "false";
          else json::append_number(line, v);
        },
        f.value);
  }
  line += "}\n";
  std::lock_guard lock(g_mutex);
  g_sink.load()(line);
}

}  // namespace auditship::log
