#pragma once
// Configuration of the Enrich stage (`enrich:` in YAML).
#include <string>

#include "auditship/config/checker.h"
#include "auditship/config/schema.h"

namespace auditship::enrich {

struct EnrichConfig {
  bool enabled = false;
  std::string endpoint = "https://openrouter.ai/api/v1/generation";
  template <class V>
  void visit(V& v) {
    v.field("enabled", enabled, "Look up each record's generation for exact cost");
    v.field("endpoint", endpoint, "OpenRouter generation endpoint");
  }
  void validate(config::Checker& check) const;
};

}  // namespace auditship::enrich
