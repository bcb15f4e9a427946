#include "auditship/format/format_config.h"

namespace auditship::format {

void OutputConfig::validate(config::Checker& check) const {
  if (format != "raw" && format != "ecs" && format != "splunk_hec" && format != "datadog")
    check.fail("format", "must be raw, ecs, splunk_hec or datadog, got '" + format + "'");
  if (record_field.empty() || record_field.find_first_of(".\"\\") != std::string::npos)
    check.fail("record_field", "must be a non-empty field name without '.', '\"' or '\\'");
  if (format == "splunk_hec" && splunk_sourcetype.empty()) check.fail("splunk_sourcetype", "is required");
  if (format == "datadog" && datadog_service.empty()) check.fail("datadog_service", "is required");
}

}  // namespace auditship::format
