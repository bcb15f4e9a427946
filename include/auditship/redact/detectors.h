#pragma once
// The detector catalogue: built-in PII/secret patterns, the validators that confirm their
// candidates, and the check that a custom pattern compiles. Shared by RedactConfig::validate()
// (so `auditship check` names a bad detector) and Redactor::make().
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auditship/common/result.h"
#include "auditship/redact/direct_match.h"
#include "auditship/redact/trigger.h"

namespace auditship::redact {

// Confirms a candidate span. Validators see the whole scanned text so they can reject a
// candidate that is only a piece of a longer token (e.g. `1.2.3.4.5`, `gen-2125551234-x`).
enum class Validator {
  kNone,
  kLuhn,    // payment cards: 13-19 digits, plausible grouping, Luhn checksum
  kMod97,   // IBAN: country letters, 15-34 characters, ISO 7064 mod-97 == 1
  kSsn,     // US SSN: area not 000/666/9xx, group not 00, serial not 0000
  kNanp,    // bare 10-digit phone: area code and exchange start with 2-9
  kPhone,   // formatted phone: not part of a longer dotted/dashed number
  kE164,    // +CC...: 8-15 digits in all
  kIpv4,    // four octets <= 255, not part of a longer dotted sequence
  kOpenAi,  // sk-...: not an OpenRouter/Anthropic key (they have their own detectors)
};

// One Hyperscan expression of a detector (a detector may need several).
struct PatternSpec {
  std::string expression;
  unsigned flags = 0;             // extra HS_FLAG_* (e.g. HS_FLAG_CASELESS)
  Validator validator = Validator::kNone;
  // The span to replace starts after the last whitespace of the match (bearer tokens keep
  // their `Authorization: Bearer ` prefix, so the text stays readable).
  bool secret_after_space = false;
  // The hand-written trigger (trigger.h) that fires on every text where `expression` matches,
  // or kTriggerNone: then the pattern goes into the Hyperscan no-start-of-match prefilter.
  // Only built-ins have one; a wrong trigger loses redactions (redactor_diff_test guards them).
  std::uint32_t trigger = kTriggerNone;
  // The direct matcher (direct_match.h) that reproduces `expression` within a trigger window,
  // or kNone: then Hyperscan scans the window. Like `trigger`, only built-ins have one, and
  // direct_match_test checks each tagged pattern's matcher against Hyperscan on `expression`.
  Shape shape = Shape::kNone;
};

struct DetectorSpec {
  std::string name;
  std::string replacement;
  std::vector<PatternSpec> patterns;
};

// Built-in detectors, in priority order (a tie in leftmost-longest goes to the earlier one).
[[nodiscard]] const std::vector<DetectorSpec>& builtin_detectors();
[[nodiscard]] bool is_builtin_detector(std::string_view name);

// "none", "luhn", "mod97", "ssn" (the names a custom detector may use); false if unknown.
[[nodiscard]] bool parse_validator(std::string_view name, Validator& out);

// True if `candidate` (the bytes [begin, end) of `text`) passes `v`.
[[nodiscard]] bool validate_candidate(Validator v, std::string_view text, std::size_t begin, std::size_t end);

// Compiles `expression` the way the Redactor will (with and without start-of-match); the
// error is Hyperscan's message.
[[nodiscard]] Status check_pattern(const std::string& expression, unsigned flags = 0);

}  // namespace auditship::redact
