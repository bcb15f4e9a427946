#pragma once
// Direct matchers for the built-in digit patterns (card, SSN, phones, IPv4): hand-written
// equivalents of one Hyperscan start-of-match scan of a digit window, without its per-call
// cost (~100-250 ns of setup for a 17-75 byte window, most of the exact scans of a line).
//
// Contract: for a pattern whose expression and flags are exactly one of the built-ins below
// (digit_shape_of() != kNone), match_digit_shape(shape, data, out) reports the same matches
// as hs_scan of that expression alone with HS_FLAG_SOM_LEFTMOST over `data`: one (start, end)
// per end offset where a match ends, with the leftmost start of the matches ending there.
// `data` is the whole scanned buffer: \b treats the bytes outside it as non-word characters,
// as Hyperscan does at the edges of its input. Any other expression (a changed built-in, a
// custom detector) gets kNone and stays with Hyperscan.
// tests/unit/redact/digit_shapes_test.cpp checks the contract against Hyperscan itself;
// redactor_diff_test.cpp checks the whole fast path against the reference path.
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace auditship::redact {

enum class DigitShape : std::uint8_t {
  kNone,
  kCard,          // \b[0-9](?:[ -]?[0-9]){12,18}\b
  kSsn,           // \b[0-9]{3}-[0-9]{2}-[0-9]{4}\b
  kPhone,         // \b[0-9]{3}[-. ][0-9]{3}[-. ][0-9]{4}\b
  kPhoneParen,    // \([0-9]{3}\) ?[0-9]{3}[-. ][0-9]{4}\b
  kPhonePlusOne,  // \+1[-. ]?(?:\([0-9]{3}\)|[0-9]{3})[-. ]?[0-9]{3}[-. ]?[0-9]{4}\b
  kPhoneOne,      // \b1[-. ](?:\([0-9]{3}\)|[0-9]{3})[-. ]?[0-9]{3}[-. ][0-9]{4}\b
  kNanp,          // \b[2-9][0-9]{2}[2-9][0-9]{6}\b
  kE164,          // \+[2-9][0-9]{0,2}(?:[ .-]?[0-9]){6,14}\b
  kIpv4,          // \b[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\b
};

// The shape whose matcher reproduces `expression` compiled with `flags` (HS_FLAG_*, without
// SOM), or kNone. Matched on the exact text, so editing a built-in's regex in detectors.cpp
// without its matcher here sends it back to Hyperscan instead of redacting differently.
[[nodiscard]] DigitShape digit_shape_of(std::string_view expression, unsigned flags);

// Appends (start, end) offsets in `data` of every match of `shape` (see the contract above),
// in no particular order. `scratch` is reused between calls (no allocation once grown).
void match_digit_shape(DigitShape shape, std::string_view data,
                       std::vector<std::pair<std::uint32_t, std::uint32_t>>& out,
                       std::vector<std::pair<std::uint32_t, std::uint32_t>>& scratch);

}  // namespace auditship::redact
