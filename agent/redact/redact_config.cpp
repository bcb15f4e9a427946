#include "auditship/redact/redact_config.h"

namespace auditship::redact {

void RedactConfig::validate(config::Checker& check) const {
  for (const auto& [path, policy] : fields)
    if (policy != "redact" && policy != "keep" && policy != "drop" && policy != "hash")
      check.fail("fields." + path, "policy must be redact, keep, drop or hash, got '" + policy + "'");
}

}  // namespace auditship::redact
