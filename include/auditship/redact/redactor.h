#pragma once
// The Redact stage: removes PII and secrets from JSON string values (see issue #3).
#include <memory>
#include <string>
#include <string_view>

#include "auditship/common/result.h"
#include "auditship/pipeline/batch.h"
#include "auditship/redact/redact_config.h"

namespace auditship::redact {

class Redactor;
using RedactorPtr = std::unique_ptr<Redactor>;

// Compiled once from the config; process() is called by one worker thread at a time per
// instance (each worker owns one Redactor or one scratch).
class Redactor {
 public:
  [[nodiscard]] static Result<RedactorPtr> make(const RedactConfig& config);
  // Rewrites the payload of every kShip record of the batch in place (into batch.output).
  void process(Batch& batch);
  // One JSON text in, its redacted form appended to `out`. False if `json` is not valid JSON.
  bool redact_json(std::string_view json, std::string& out);

 private:
  explicit Redactor(RedactConfig config) : config_(std::move(config)) {}
  RedactConfig config_;
};

}  // namespace auditship::redact
