#pragma once
// The dead-letter envelope: what ships to kafka.dead_letter_topic for a record that cannot
// ship as is. One JSON object: {"reason","detail","source","offset","line_bytes","host",
// "raw"} where raw is the line (or its preview) as a JSON string, so any bytes survive.
#include <cstdint>
#include <string>
#include <string_view>

#include "auditship/pipeline/batch.h"

namespace auditship::parse {

struct DeadLetter {
  DeadLetterReason reason = DeadLetterReason::kNone;
  std::string_view detail;
  std::string_view source;
  std::uint64_t offset = 0;
  std::uint64_t line_bytes = 0;
  std::string_view host;
  std::string_view raw;
};

void append_dead_letter(std::string& out, const DeadLetter& letter);

}  // namespace auditship::parse
