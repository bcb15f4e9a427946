#include "auditship/redact/digit_shapes.h"

#include <algorithm>
#include <array>
#include <string>

namespace auditship::redact {
namespace {

// The expressions, spelled exactly as in detectors.cpp (make_builtins).
struct Known {
  const char* expression;
  DigitShape shape;
};
constexpr std::array<Known, 9> kKnown{{
    {R"(\b[0-9](?:[ -]?[0-9]){12,18}\b)", DigitShape::kCard},
    {R"(\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b)", DigitShape::kSsn},
    {R"(\b[0-9]{3}[-. ][0-9]{3}[-. ][0-9]{4}\b)", DigitShape::kPhone},
    {R"(\([0-9]{3}\) ?[0-9]{3}[-. ][0-9]{4}\b)", DigitShape::kPhoneParen},
    {R"(\+1[-. ]?(?:\([0-9]{3}\)|[0-9]{3})[-. ]?[0-9]{3}[-. ]?[0-9]{4}\b)", DigitShape::kPhonePlusOne},
    {R"(\b1[-. ](?:\([0-9]{3}\)|[0-9]{3})[-. ]?[0-9]{3}[-. ][0-9]{4}\b)", DigitShape::kPhoneOne},
    {R"(\b[2-9][0-9]{2}[2-9][0-9]{6}\b)", DigitShape::kNanp},
    {R"(\+[2-9][0-9]{0,2}(?:[ .-]?[0-9]){6,14}\b)", DigitShape::kE164},
    {R"(\b[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\b)", DigitShape::kIpv4},
}};

constexpr std::size_t kNoMatch = std::string_view::npos;

// The scanned buffer with Hyperscan's view of it: \w is ASCII [A-Za-z0-9_] (no UCP mode), and
// the positions outside the buffer are non-word, so \b holds at its edges next to a word byte.
class Text {
 public:
  explicit Text(std::string_view d) : p_(d.data()), n_(d.size()) {}
  [[nodiscard]] std::size_t size() const { return n_; }
  [[nodiscard]] bool is(std::size_t i, char c) const { return i < n_ && p_[i] == c; }
  [[nodiscard]] bool digit(std::size_t i) const { return i < n_ && static_cast<unsigned char>(p_[i] - '0') < 10; }
  // [2-9]
  [[nodiscard]] bool high(std::size_t i) const { return i < n_ && p_[i] >= '2' && p_[i] <= '9'; }
  [[nodiscard]] bool digits(std::size_t i, std::size_t k) const {
    for (std::size_t j = 0; j < k; ++j)
      if (!digit(i + j)) return false;
    return true;
  }
  // [-. ]; E.164's [ .-] is the same set.
  [[nodiscard]] bool sep(std::size_t i) const { return is(i, '-') || is(i, '.') || is(i, ' '); }
  [[nodiscard]] bool word(std::size_t i) const {
    if (i >= n_) return false;
    const char c = p_[i];
    return digit(i) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  }
  // \b before the word byte at i (i.e. the byte before is not a word byte, or there is none).
  [[nodiscard]] bool word_starts(std::size_t i) const { return i == 0 || !word(i - 1); }
  // \b after the word byte at i - 1.
  [[nodiscard]] bool word_ends(std::size_t i) const { return !word(i); }

 private:
  const char* p_;
  std::size_t n_;
};

// `(?:\([0-9]{3}\)|[0-9]{3})` at i: its end, or kNoMatch. The first byte decides the branch.
std::size_t area_code(const Text& t, std::size_t i) {
  if (t.is(i, '(')) return t.digits(i + 1, 3) && t.is(i + 4, ')') ? i + 5 : kNoMatch;
  return t.digits(i, 3) ? i + 3 : kNoMatch;
}

// `[-. ]?` before something that starts with a digit or '(' (never a separator): when the
// byte is a separator, skipping it cannot lead to a match, so taking it is the only path.
std::size_t optional_sep(const Text& t, std::size_t i) { return t.sep(i) ? i + 1 : i; }

// The shapes with a single path from a start (every optional part and alternative is decided
// by the next byte, and the last part must be a whole run): the end of the match starting at
// s, or kNoMatch.
std::size_t single_end(DigitShape shape, const Text& t, std::size_t s) {
  switch (shape) {
    case DigitShape::kSsn:
      if (!t.digit(s) || !t.word_starts(s)) return kNoMatch;
      return t.digits(s, 3) && t.is(s + 3, '-') && t.digits(s + 4, 2) && t.is(s + 6, '-') && t.digits(s + 7, 4) &&
                     t.word_ends(s + 11)
                 ? s + 11
                 : kNoMatch;
    case DigitShape::kPhone:
      if (!t.digit(s) || !t.word_starts(s)) return kNoMatch;
      return t.digits(s, 3) && t.sep(s + 3) && t.digits(s + 4, 3) && t.sep(s + 7) && t.digits(s + 8, 4) &&
                     t.word_ends(s + 12)
                 ? s + 12
                 : kNoMatch;
    case DigitShape::kPhoneParen: {
      if (!t.is(s, '(') || !t.digits(s + 1, 3) || !t.is(s + 4, ')')) return kNoMatch;
      const std::size_t i = t.is(s + 5, ' ') ? s + 6 : s + 5;  // ` ?` before a digit
      return t.digits(i, 3) && t.sep(i + 3) && t.digits(i + 4, 4) && t.word_ends(i + 8) ? i + 8 : kNoMatch;
    }
    case DigitShape::kPhonePlusOne:
    case DigitShape::kPhoneOne: {
      std::size_t i;
      if (shape == DigitShape::kPhonePlusOne) {
        if (!t.is(s, '+') || !t.is(s + 1, '1')) return kNoMatch;
        i = area_code(t, optional_sep(t, s + 2));
      } else {
        if (!t.is(s, '1') || !t.word_starts(s) || !t.sep(s + 1)) return kNoMatch;
        i = area_code(t, s + 2);
      }
      if (i == kNoMatch) return kNoMatch;
      i = optional_sep(t, i);
      if (!t.digits(i, 3)) return kNoMatch;
      i += 3;
      if (shape == DigitShape::kPhonePlusOne) {
        i = optional_sep(t, i);
      } else if (t.sep(i)) {
        ++i;
      } else {
        return kNoMatch;
      }
      return t.digits(i, 4) && t.word_ends(i + 4) ? i + 4 : kNoMatch;
    }
    case DigitShape::kNanp:
      if (!t.high(s) || !t.word_starts(s)) return kNoMatch;
      return t.digits(s + 1, 2) && t.high(s + 3) && t.digits(s + 4, 6) && t.word_ends(s + 10) ? s + 10 : kNoMatch;
    case DigitShape::kIpv4: {
      if (!t.digit(s) || !t.word_starts(s)) return kNoMatch;
      // Each [0-9]{1,3} is a whole digit run: it starts at a \b or after a '.', and is
      // followed by '.' or by \b; so a run of 4 or more digits fails.
      std::size_t i = s;
      for (int group = 0; group < 4; ++group) {
        std::size_t run = 0;
        while (run < 4 && t.digit(i)) ++i, ++run;
        if (run == 0 || run > 3) return kNoMatch;
        if (group < 3) {
          if (!t.is(i, '.')) return kNoMatch;
          ++i;
        }
      }
      return t.word_ends(i) ? i : kNoMatch;
    }
    default: return kNoMatch;
  }
}

// The shapes with a repeat of `[sep]?[0-9]` reach several ends from one start; the path is
// still unique (a digit or a separator then a digit, never both), so walk it and report every
// end where the repeat count fits and \b holds.
template <class Report>
void multi_ends(DigitShape shape, const Text& t, std::size_t s, Report&& report) {
  if (shape == DigitShape::kCard) {
    // \b[0-9](?:[ -]?[0-9]){12,18}\b: 13-19 digits, single ' ' or '-' between two digits.
    if (!t.digit(s) || !t.word_starts(s)) return;
    std::size_t i = s + 1, count = 1;
    for (;;) {
      if (count >= 13 && t.word_ends(i)) report(i);
      if (count == 19) return;
      if (t.digit(i)) {
        ++i;
      } else if ((t.is(i, ' ') || t.is(i, '-')) && t.digit(i + 1)) {
        i += 2;
      } else {
        return;
      }
      ++count;
    }
  }
  // E.164 \+[2-9][0-9]{0,2}(?:[ .-]?[0-9]){6,14}\b: after "+[2-9]", m digits each with an
  // optional separator before it. The first k (0..2) of them go to [0-9]{0,2}, which allows
  // no separator, the other m - k to the repeat; some k works iff 6 <= m and
  // m - min(2, digits before the first separator) <= 14.
  if (!t.is(s, '+') || !t.high(s + 1)) return;
  std::size_t i = s + 2, m = 0, plain = 0;
  bool separated = false;
  for (;;) {
    if (t.digit(i)) {
      ++i;
    } else if (t.sep(i) && t.digit(i + 1)) {
      i += 2;
      separated = true;
    } else {
      return;
    }
    ++m;
    if (!separated) ++plain;
    const std::size_t extra = std::min<std::size_t>(2, plain);
    if (m > 14 + extra) return;
    if (m >= 6 && t.word_ends(i)) report(i);
  }
}

}  // namespace

DigitShape digit_shape_of(std::string_view expression, unsigned flags) {
  if (flags != 0) return DigitShape::kNone;
  for (const Known& k : kKnown)
    if (expression == k.expression) return k.shape;
  return DigitShape::kNone;
}

void match_digit_shape(DigitShape shape, std::string_view data,
                       std::vector<std::pair<std::uint32_t, std::uint32_t>>& out,
                       std::vector<std::pair<std::uint32_t, std::uint32_t>>& scratch) {
  if (shape == DigitShape::kNone) return;
  const Text t(data);
  scratch.clear();
  const bool multi = shape == DigitShape::kCard || shape == DigitShape::kE164;
  for (std::size_t s = 0; s < t.size(); ++s) {
    if (multi) {
      multi_ends(shape, t, s, [&](std::size_t e) {
        scratch.emplace_back(static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(e));
      });
    } else if (const std::size_t e = single_end(shape, t, s); e != kNoMatch) {
      scratch.emplace_back(static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(e));
    }
  }
  // Start-of-match reports each end once, with its leftmost start: starts were tried in
  // ascending order, so the first pair of each end is the one to keep.
  if (scratch.size() > 1) {
    std::stable_sort(scratch.begin(), scratch.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    scratch.erase(std::unique(scratch.begin(), scratch.end(),
                              [](const auto& a, const auto& b) { return a.second == b.second; }),
                  scratch.end());
  }
  out.insert(out.end(), scratch.begin(), scratch.end());
}

}  // namespace auditship::redact
