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
#include <cassert>
#include <cstdint>
#include <string>
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
  kTriggerIban = 1u << 5,    // two of A-Z starting a word, followed by two digits
  // A digit cluster (digit runs joined by one or two of ` -.()`) of one shape. One trigger
  // per shape, so a cluster is scanned only with the patterns of its shape (a smaller
  // start-of-match database costs about half per scan). Rules in trigger.cpp, with their proof.
  kTriggerLongDigits = 1u << 6,   // >= 13 digits (card)
  kTriggerGroupOf4 = 1u << 7,     // a run of 4 after runs 3,2 / 3,3 / 6 (SSN, formatted phones)
  kTriggerTenDigits = 1u << 8,    // a run of exactly 10 that may be a NANP number
  kTriggerPlus = 1u << 9,         // '+' right before, >= 7 digits (+1 phones, E.164)
  kTriggerDottedQuad = 1u << 10,  // four runs of <= 3 joined by single dots (IPv4)
};
constexpr std::uint32_t kTriggerDigits =
    kTriggerLongDigits | kTriggerGroupOf4 | kTriggerTenDigits | kTriggerPlus | kTriggerDottedQuad;

constexpr int kTriggerCount = 11;

// Bytes [begin, end) of a text that hold every match of `trigger`'s patterns near one place
// where it fired, with the bytes their \b fences look at, so Hyperscan finds the same matches
// and starts there as in the whole text (proofs in trigger.cpp). Only the digit triggers (around
// a digit cluster), kTriggerSkDash (an "sk-" and the key characters after it) and kTriggerAt
// (the run of email characters around an '@') have them.
struct Window {
  std::uint32_t begin = 0, end = 0;
  std::uint32_t trigger = 0;
};
constexpr std::uint32_t kWindowedTriggers = kTriggerDigits | kTriggerSkDash | kTriggerAt;

// The triggers of `mask` that fire on `text` (it stops early once all of them have). With
// `windows`, it keeps looking for kWindowedTriggers and lists every window where they fire.
// A walk over the text in 16-byte vectors, rule by rule: the specification LineIndex is
// tested against (redactor_diff_test). The redactor itself asks a LineIndex, which is faster.
[[nodiscard]] std::uint32_t triggers_fired(std::string_view text, std::uint32_t mask,
                                           std::vector<Window>* windows = nullptr);

// What the JSON walk and the triggers need from one whole line, found in one SIMD pass over
// it, one bit per byte: where strings stop ('"', '\\', control characters), and the few
// "hits" where a trigger could fire: literal starts (`@`, `sk-`, ...) and digits whose
// surroundings have a shape some digit rule needs (trigger.cpp). A string with no hit fires
// nothing, which is almost every string of an audit line (timestamps, ids, hashes, names):
// they cost a bit test instead of a per-byte walk. Reused per line; allocates only to grow.
class LineIndex {
 public:
  // Indexes `line`, which must stay valid while the index is used.
  void build(std::string_view line);
  // The offset of the first '"', '\\' or control character at or after `from` (at most the
  // line's size), or the line's size. Inline: the JSON walk calls it once or more per string.
  // No bound checks: the byte at the line's size is a stop (a zero byte of the padding), so
  // the answer for any `from` in range is at most the size.
  [[nodiscard]] std::size_t next_stop(std::size_t from) const {
    assert(from <= line_.size());
    std::size_t w = from / 64;
    std::uint64_t bits = stops_[w] & (~std::uint64_t{0} << (from % 64));
    while (!bits) bits = stops_[++w];
    return w * 64 + static_cast<std::size_t>(__builtin_ctzll(bits));
  }
  // Whether every byte of the line is ASCII (then it is valid UTF-8).
  [[nodiscard]] bool ascii() const { return ascii_; }
  // Equal to triggers_fired(line.substr(begin, end - begin), mask, windows) (windows relative
  // to `begin`) when [begin, end) are the raw contents of a string token, i.e. the bytes at
  // begin - 1 and end are its quotes, or the whole indexed text (proof in trigger.cpp).
  // Most strings of a line hold no hit: that answer is inline, the walk over hits is not.
  [[nodiscard]] std::uint32_t triggers_fired(std::size_t begin, std::size_t end, std::uint32_t mask,
                                             std::vector<Window>* windows) const {
    if (begin < end && any_hit(begin, end)) return walk_hits(begin, end, mask, windows);
    if (windows) windows->clear();
    return 0;
  }
  // An index that uses the portable (16-byte vector, scalar word) code paths even where the
  // CPU has AVX2 or AVX-512, so tests on x86 check the code arm64 runs.
  [[nodiscard]] static LineIndex portable_for_test() {
    LineIndex index;
    index.portable_ = true;
    return index;
  }

 private:
  // Whether a hit bit is set in [begin, end) (begin < end).
  [[nodiscard]] bool any_hit(std::size_t begin, std::size_t end) const {
    const std::size_t first = begin / 64, last = (end - 1) / 64;
    const std::uint64_t head = ~std::uint64_t{0} << (begin % 64), tail = ~std::uint64_t{0} >> (63 - (end - 1) % 64);
    if (first == last) return hits_[first] & head & tail;
    if (hits_[first] & head) return true;
    for (std::size_t w = first + 1; w < last; ++w)
      if (hits_[w]) return true;
    return hits_[last] & tail;
  }
  [[nodiscard]] std::uint32_t walk_hits(std::size_t begin, std::size_t end, std::uint32_t mask,
                                        std::vector<Window>* windows) const;

  std::string_view line_;
  std::string padded_;  // the line's last blocks and zero bytes, so every SIMD load is in bounds
  std::size_t words_ = 0;
  std::size_t written_ = 0;  // plane words [1, written_ + 1) may hold the last line's bits
  bool ascii_ = true;
  bool portable_ = false;  // portable_for_test()
  // One bit per byte, 64 per word: the results, then per-class scratch for build().
  std::vector<std::uint64_t> stops_, hits_;
  std::vector<std::uint64_t> digit_, sep_, upper_, high_, dot_, plus_, lit_, non_ascii_;
};

}  // namespace auditship::redact
