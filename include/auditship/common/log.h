#pragma once
// The agent's own log: one JSON object per line on stderr ({"ts","level","msg",...fields}).
// Library code logs only through this; it never prints. Thread-safe; a line is written whole.
// Secrets: callers never pass key material; the redact stage's values never reach a log.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <optional>
#include <type_traits>
#include <variant>

namespace auditship::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

struct Field {
  std::string_view key;
  std::variant<std::string_view, std::int64_t, double, bool> value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  template <class I, class = std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>>>
  Field(std::string_view k, I v) : key(k), value(static_cast<std::int64_t>(v)) {}
};

void set_level(Level level);
Level level();
std::optional<Level> parse_level(std::string_view name);
std::string_view level_name(Level level);
// Where lines go; default stderr. Tests point it at a buffer.
void set_sink(void (*write)(std::string_view line));

void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});
inline void debug(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::kDebug, m, f); }
inline void info(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::kInfo, m, f); }
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::kWarn, m, f); }
inline void error(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::kError, m, f); }

}  // namespace auditship::log
