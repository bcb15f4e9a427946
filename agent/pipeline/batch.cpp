#include "auditship/pipeline/batch.h"

namespace auditship {

std::string_view reason_name(DeadLetterReason reason) {
  switch (reason) {
    case DeadLetterReason::kNone: return "none";
    case DeadLetterReason::kInvalidJson: return "invalid_json";
    case DeadLetterReason::kNotAnObject: return "not_an_object";
    case DeadLetterReason::kInvalidUtf8: return "invalid_utf8";
    case DeadLetterReason::kLineTooLong: return "line_too_long";
    case DeadLetterReason::kMessageTooLarge: return "message_too_large";
    case DeadLetterReason::kUnredactable: return "unredactable";
  }
  return "unknown";
}

Slice Batch::add_field(std::string_view text) {
  Slice s{static_cast<std::uint32_t>(fields.size()), static_cast<std::uint32_t>(text.size())};
  fields.append(text);
  return s;
}

}  // namespace auditship
