#include "auditship/common/units.h"

#include <charconv>
#include <cmath>

namespace auditship {
namespace {

struct Unit {
  std::string_view suffix;
  double factor;
};

// Splits "12.5ms" into 12.5 and "ms"; nullopt unless the number part is a plain decimal.
std::optional<std::pair<double, std::string_view>> split_number(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (ec != std::errc() || ptr != text.data() + i || value < 0 || !std::isfinite(value))
    return std::nullopt;
  std::string_view unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return std::make_pair(value, unit);
}

template <std::size_t N>
std::optional<double> scale(std::string_view text, const Unit (&units)[N], bool unit_required) {
  auto parts = split_number(text);
  if (!parts) return std::nullopt;
  auto [value, unit] = *parts;
  if (unit.empty()) return unit_required ? std::nullopt : std::optional<double>(value);
  for (const Unit& u : units)
    if (u.suffix == unit) return value * u.factor;
  return std::nullopt;
}

constexpr Unit kDurationUnits[] = {{"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}, {"d", 86400e3}};
constexpr Unit kByteUnits[] = {{"B", 1},          {"k", 1024},        {"K", 1024},
                               {"KiB", 1024},     {"KB", 1e3},        {"kB", 1e3},
                               {"M", 1 << 20},    {"MiB", 1 << 20},   {"MB", 1e6},
                               {"G", 1 << 30},    {"GiB", 1 << 30},   {"GB", 1e9}};

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto ms = scale(text, kDurationUnits, /*unit_required=*/true);
  if (!ms || *ms > 1e15) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(*ms)));
}

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms != 0 && ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms != 0 && ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::optional<std::uint64_t> parse_bytes(std::string_view text) {
  auto b = scale(text, kByteUnits, /*unit_required=*/false);
  if (!b || *b > 1e18) return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(*b));
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes != 0 && bytes % (1ull << 30) == 0) return std::to_string(bytes >> 30) + "GiB";
  if (bytes != 0 && bytes % (1ull << 20) == 0) return std::to_string(bytes >> 20) + "MiB";
  if (bytes != 0 && bytes % (1ull << 10) == 0) return std::to_string(bytes >> 10) + "KiB";
  return std::to_string(bytes);
}

}  // namespace auditship
