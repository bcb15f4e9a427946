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

void Batch::compact() {
  if (output.empty() || input.empty()) return;  // nothing rewritten: payloads stay in `input`, zero copy
  std::size_t bytes = 0;
  bool all_in_output = true;
  for (const Record& r : records) {
    bytes += r.payload.length;
    all_in_output = all_in_output && r.payload_in_output;
  }
  if (all_in_output && bytes == output.size()) {
    // Every line was rewritten (user_id is hashed by default) and `output` holds nothing else:
    // it already is the packed form, so only `input` goes.
    for (Record& r : records) r.raw = {};
    std::string().swap(input);
    return;
  }
  std::string packed;
  packed.reserve(bytes);
  for (Record& r : records) {
    const std::string_view p = payload(r);
    r.payload = {static_cast<std::uint32_t>(packed.size()), static_cast<std::uint32_t>(p.size())};
    r.payload_in_output = true;
    r.raw = {};
    packed.append(p);
  }
  output.swap(packed);
  std::string().swap(input);  // give the memory back, not just the size
}

}  // namespace auditship
