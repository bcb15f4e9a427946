#include "auditship/redact/redactor.h"

namespace auditship::redact {

// Placeholder until the Hyperscan engine lands (issue #3): passes records through unchanged.
Result<RedactorPtr> Redactor::make(const RedactConfig& config) { return RedactorPtr(new Redactor(config)); }

void Redactor::process(Batch&) {}

bool Redactor::redact_json(std::string_view json, std::string& out) {
  out.append(json);
  return true;
}

}  // namespace auditship::redact
