#pragma once
// Direct matchers for built-in patterns: hand-written equivalents of one Hyperscan
// start-of-match scan of a trigger window, without its cost. An hs_scan of a 17-75 byte
// window is mostly fixed per-call cost for the digit shapes (~100-250 ns), and for the key
// and email windows start-of-match tracking costs about 2 us (estimated from the profile: a
// key reports a match at every one of its characters, for three patterns).
//
// Contract, digit shapes (kCard .. kIpv4): for a built-in pattern tagged with a shape
// (PatternSpec::shape in detectors.cpp; the expression is in the comment beside each shape
// below, compiled without flags), match_shape(shape, data, out) reports the same matches as hs_scan of that expression alone with HS_FLAG_SOM_LEFTMOST over
// `data`: one (start, end) per end offset where a match ends, with the leftmost start of the
// matches ending there.
// Key and email shapes (kOpenRouterKey .. kEmail): of those same (leftmost start, end) pairs,
// only the longest per start. Enough for these patterns because Scanner::find keeps only the
// longest match of a start for them anyway (`longest_suffices`: no validator looks at the
// end), and a shorter span at the same start never survives leftmost-longest; the Scanner
// uses them only for patterns where that holds.
// `data` is the whole scanned buffer: \b treats the bytes outside it as non-word characters,
// as Hyperscan does at the edges of its input. A custom detector has no shape and stays with
// Hyperscan, even when its regex is a built-in's.
// tests/unit/redact/direct_match_test.cpp checks the contract against Hyperscan itself;
// redactor_diff_test.cpp checks the whole fast path against the reference path.
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace auditship::redact {

enum class Shape : std::uint8_t {
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
  kOpenRouterKey,  // \bsk-or-v1-[A-Za-z0-9]+
  kAnthropicKey,   // \bsk-ant-[A-Za-z0-9_-]+
  kOpenAiKey,      // \bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}
  kEmail,          // \b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b
};
constexpr Shape kFirstLongestShape = Shape::kOpenRouterKey;  // this one and after: longest per start

// Appends (start, end) offsets in `data` of every match of `shape` (see the contract above),
// in no particular order. `scratch` is reused between calls (no allocation once grown).
void match_shape(Shape shape, std::string_view data, std::vector<std::pair<std::uint32_t, std::uint32_t>>& out,
                 std::vector<std::pair<std::uint32_t, std::uint32_t>>& scratch);

}  // namespace auditship::redact
