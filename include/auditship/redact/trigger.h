#pragma once
// Hand-written necessary conditions ("triggers") for the built-in detectors: a cheap test that
// says whether a detector *could* match somewhere in a text. A string that fires no trigger
// (and no custom detector's prefilter) is never scanned by Hyperscan.
//
// Soundness contract: for every built-in pattern P marked with trigger T (detectors.cpp), any
// text in which P's exact expression matches makes `fires(text, T)` true. False positives only
// cost an exact scan. tests/unit/redact/redactor_diff_test.cpp checks the whole fast path
// against the exact database on every string.
//
// Raw JSON string bytes: the triggers may run on the *undecoded* contents of a string when it
// has no `\u` escape. The other escapes (\" \\ \/ \b \f \n \r \t) decode to characters that no
// trigger looks at (no digit, letter, '@', '+', space, '-', '.', '(' or ')'), and every such
// character comes from exactly one raw byte, so each condition that holds on the decoded text
// also holds on the raw bytes.
#include <cstdint>
#include <string_view>
#include <vector>

namespace auditship::redact {

// Bit set of triggers.
enum Trigger : std::uint32_t {
  kTriggerNone = 0,
  kTriggerAt = 1u << 0,      // '@' (email)
  kTriggerSkDash = 1u << 1,  // "sk-" (OpenRouter, Anthropic, OpenAI keys)
  kTriggerAws = 1u << 2,     // "AKIA" or "ASIA"
  kTriggerJwt = 1u << 3,     // "eyJ"
  kTriggerBear = 1u << 4,    // "bear", any case (bearer tokens, Authorization headers)
  // A digit cluster (digit runs joined by one or two of ` -.()`) shaped like a card, SSN,
  // phone, E.164 number or IPv4 address (the rules are in trigger.cpp, next to their proof).
  kTriggerDigits = 1u << 5,
  kTriggerIban = 1u << 6,    // two of A-Z followed by two digits
};

constexpr int kTriggerCount = 7;

// Bytes [begin, end) of a text that hold every match of `trigger`'s patterns near one place
// where it fired, with the bytes their \b fences look at, so Hyperscan finds the same matches
// and starts there as in the whole text (proofs in trigger.cpp). Only kTriggerDigits (around
// a digit cluster) and kTriggerSkDash (an "sk-" and the key characters after it) have them.
struct Window {
  std::uint32_t begin = 0, end = 0;
  std::uint32_t trigger = 0;
};
constexpr std::uint32_t kWindowedTriggers = kTriggerDigits | kTriggerSkDash;

// The triggers of `mask` that fire on `text` (it stops early once all of them have). With
// `windows`, it keeps looking for kWindowedTriggers and lists every window where they fire.
[[nodiscard]] std::uint32_t triggers_fired(std::string_view text, std::uint32_t mask,
                                           std::vector<Window>* windows = nullptr);

// The offset of the first '"', '\\' or control character (< 0x20) at or after `from` in
// `text`, or text.size() (the JSON string scanner's inner loop).
[[nodiscard]] std::size_t find_string_stop(std::string_view text, std::size_t from);

}  // namespace auditship::redact
