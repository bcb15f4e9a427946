#include "auditship/enrich/enrich_config.h"

namespace auditship::enrich {

void EnrichConfig::validate(config::Checker& check) const {
  if (enabled && endpoint.rfind("https://", 0) != 0 && endpoint.rfind("http://", 0) != 0)
    check.fail("endpoint", "must be an http:// or https:// URL");
}

}  // namespace auditship::enrich
