#pragma once
// Configuration of the output format (`output:` in YAML): the envelope a SIEM expects around
// each shipped record. One visit() table drives parsing, `auditship check` and the reference.
#include <string>

#include "auditship/config/checker.h"
#include "auditship/config/schema.h"

namespace auditship::format {

struct OutputConfig {
  std::string format = "raw";
  std::string record_field = "openrouter_audit";
  std::string splunk_sourcetype = "openrouter:audit";
  std::string splunk_index;
  std::string datadog_source = "openrouter";
  std::string datadog_service = "openrouter-audit";
  std::string datadog_tags;

  template <class V>
  void visit(V& v) {
    v.field("format", format,
            "Record envelope: raw (as is), ecs (Elastic Common Schema), splunk_hec (HEC event), datadog");
    v.field("record_field", record_field, "ecs, datadog: field the original record is nested under");
    v.field("splunk_sourcetype", splunk_sourcetype, "splunk_hec: `sourcetype` of each event");
    v.field("splunk_index", splunk_index, "splunk_hec: `index` of each event (empty: the token's default)");
    v.field("datadog_source", datadog_source, "datadog: `ddsource` of each log");
    v.field("datadog_service", datadog_service, "datadog: `service` of each log");
    v.field("datadog_tags", datadog_tags, "datadog: `ddtags` (comma-separated key:value), empty: none");
  }
  void validate(config::Checker& check) const;
};

}  // namespace auditship::format
