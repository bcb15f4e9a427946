#pragma once
// Custom detectors built to sit on the edges of the redactor's line and batch prefilters:
// they reach across newlines (\s, a negated class), sit on word boundaries (\b, \B) or match
// at every other byte. Shared by redactor_diff_test and redact_fuzz (header-only: the fuzz
// targets link only auditship_core).
#include "auditship/redact/redact_config.h"

namespace auditship::testing {

inline redact::RedactConfig edge_custom_detectors() {
  redact::RedactConfig config;
  config.custom.push_back({"employee_id", "EMP-[0-9]{6}", "", "none"});
  config.custom.push_back({"spaced_word", "\\s+secret\\s+[a-z]+", "", "none"});
  config.custom.push_back({"not_quote", "[^\"]{2}tok[0-9]", "", "none"});
  config.custom.push_back({"bounded", "\\bZ[0-9]{2}\\b", "", "none"});
  config.custom.push_back({"inside", "\\Bqq[0-9]", "", "none"});
  config.custom.push_back({"dense", "[0-9]{2}", "", "none"});
  return config;
}

}  // namespace auditship::testing
