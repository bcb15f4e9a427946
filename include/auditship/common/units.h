#pragma once
// Parsing of the human units used in config files: durations ("500ms", "2m") and byte
// sizes ("64MiB", "1048576").  Both reject anything they do not fully understand.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace auditship {

// "250ms", "1s", "2m", "1h", "1d", "1.5s". A bare number is rejected: a duration needs a unit.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::milliseconds d);

// "1048576", "512KiB", "64MiB", "1GiB", "10MB" (SI), "4k". Returns bytes.
std::optional<std::uint64_t> parse_bytes(std::string_view text);
std::string format_bytes(std::uint64_t bytes);

}  // namespace auditship
