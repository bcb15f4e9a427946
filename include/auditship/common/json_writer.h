#pragma once
// Appends JSON text to a std::string: escaped strings, numbers. Shared by the log, the
// dead-letter envelopes, the checkpoint file and the enrichment output.
#include <cstdint>
#include <string>
#include <string_view>

namespace auditship::json {

// Appends `text` as a quoted JSON string. Bytes that are not valid UTF-8 are written as
// \u00XX escapes of the byte value so the output is always valid JSON.
void append_string(std::string& out, std::string_view text);
void append_number(std::string& out, double value);
void append_number(std::string& out, std::int64_t value);
void append_number(std::string& out, std::uint64_t value);

}  // namespace auditship::json
