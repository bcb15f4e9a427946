#pragma once
// ISO-8601 / RFC 3339 timestamps, the one parser and printer every stage uses: the Format stage
// (SIEM event times), the Enricher (when a lookup is due) and the SQLite sink (the row's time).
//
// Accepted: YYYY-MM-DD, then 'T', 't' or ' ', then hh:mm:ss, then an optional fraction of one
// or more digits (milliseconds kept, the rest truncated), then 'Z', 'z', ±hh:mm or ±hhmm, and
// nothing after it. Whether the zone may be left out is the caller's choice.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace auditship::iso8601 {

enum class Zone {
  kRequired,      // a time without a zone is ambiguous: nullopt
  kUtcIfMissing,  // a time without a zone is UTC (what SQLite's date functions assume)
};

// Milliseconds since the Unix epoch; nullopt if `text` is not a timestamp as above.
[[nodiscard]] std::optional<std::int64_t> parse_ms(std::string_view text, Zone zone = Zone::kRequired);

// Appends "YYYY-MM-DDThh:mm:ss.mmmZ".
void append(std::string& out, std::int64_t unix_ms);

}  // namespace auditship::iso8601
