#include "auditship/redact/direct_match.h"

#include <algorithm>
#include <array>
#include <string>

namespace auditship::redact {
namespace {

constexpr std::size_t kNoMatch = std::string_view::npos;

// Byte classes, one bit each, so every class test below is one table load.
enum : std::uint8_t {
  kDigitBit = 1,       // [0-9]
  kLetterBit = 2,      // [A-Za-z]
  kUnderscoreBit = 4,  // _
  kDashBit = 8,        // -
  kDotBit = 16,        // .
  kSpaceBit = 32,      // ' '
  kLocalOnlyBit = 64,  // % +
};
constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> c{};
  for (int b = '0'; b <= '9'; ++b) c[b] = kDigitBit;
  for (int b = 'A'; b <= 'Z'; ++b) c[b] = kLetterBit;
  for (int b = 'a'; b <= 'z'; ++b) c[b] = kLetterBit;
  c['_'] = kUnderscoreBit;
  c['-'] = kDashBit;
  c['.'] = kDotBit;
  c[' '] = kSpaceBit;
  c['%'] = c['+'] = kLocalOnlyBit;
  return c;
}
constexpr std::array<std::uint8_t, 256> kClasses = make_classes();

// The scanned buffer with Hyperscan's view of it: \w is ASCII [A-Za-z0-9_] (no UCP mode), and
// the positions outside the buffer are non-word, so \b holds at its edges next to a word byte.
class Text {
 public:
  explicit Text(std::string_view d) : p_(d.data()), n_(d.size()) {}
  [[nodiscard]] std::size_t size() const { return n_; }
  [[nodiscard]] bool is(std::size_t i, char c) const { return i < n_ && p_[i] == c; }
  [[nodiscard]] bool digit(std::size_t i) const { return in(i, kDigitBit); }
  // [2-9]
  [[nodiscard]] bool high(std::size_t i) const { return i < n_ && p_[i] >= '2' && p_[i] <= '9'; }
  [[nodiscard]] bool digits(std::size_t i, std::size_t k) const {
    for (std::size_t j = 0; j < k; ++j)
      if (!digit(i + j)) return false;
    return true;
  }
  // [-. ]; E.164's [ .-] is the same set.
  [[nodiscard]] bool sep(std::size_t i) const { return in(i, kDashBit | kDotBit | kSpaceBit); }
  [[nodiscard]] bool letter(std::size_t i) const { return in(i, kLetterBit); }
  // [A-Za-z0-9]
  [[nodiscard]] bool alnum(std::size_t i) const { return in(i, kDigitBit | kLetterBit); }
  // [A-Za-z0-9_-]
  [[nodiscard]] bool key(std::size_t i) const { return in(i, kDigitBit | kLetterBit | kUnderscoreBit | kDashBit); }
  // [A-Za-z0-9._%+-]: an email's local part
  [[nodiscard]] bool local(std::size_t i) const {
    return in(i, kDigitBit | kLetterBit | kUnderscoreBit | kDashBit | kDotBit | kLocalOnlyBit);
  }
  // [A-Za-z0-9-]: a domain label
  [[nodiscard]] bool label(std::size_t i) const { return in(i, kDigitBit | kLetterBit | kDashBit); }
  [[nodiscard]] bool starts_with(std::size_t i, std::string_view s) const {
    return i <= n_ && std::string_view(p_ + i, n_ - i).starts_with(s);
  }
  [[nodiscard]] bool word(std::size_t i) const { return in(i, kDigitBit | kLetterBit | kUnderscoreBit); }
  // \b between i - 1 and i.
  [[nodiscard]] bool boundary(std::size_t i) const { return (i > 0 && word(i - 1)) != word(i); }
  // \b before the word byte at i (i.e. the byte before is not a word byte, or there is none).
  [[nodiscard]] bool word_starts(std::size_t i) const { return i == 0 || !word(i - 1); }
  // \b after the word byte at i - 1.
  [[nodiscard]] bool word_ends(std::size_t i) const { return !word(i); }

 private:
  [[nodiscard]] bool in(std::size_t i, std::uint8_t classes) const {
    return i < n_ && (kClasses[static_cast<unsigned char>(p_[i])] & classes) != 0;
  }
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
std::size_t single_end(Shape shape, const Text& t, std::size_t s) {
  switch (shape) {
    case Shape::kSsn:
      if (!t.digit(s) || !t.word_starts(s)) return kNoMatch;
      return t.digits(s, 3) && t.is(s + 3, '-') && t.digits(s + 4, 2) && t.is(s + 6, '-') && t.digits(s + 7, 4) &&
                     t.word_ends(s + 11)
                 ? s + 11
                 : kNoMatch;
    case Shape::kPhone:
      if (!t.digit(s) || !t.word_starts(s)) return kNoMatch;
      return t.digits(s, 3) && t.sep(s + 3) && t.digits(s + 4, 3) && t.sep(s + 7) && t.digits(s + 8, 4) &&
                     t.word_ends(s + 12)
                 ? s + 12
                 : kNoMatch;
    case Shape::kPhoneParen: {
      if (!t.is(s, '(') || !t.digits(s + 1, 3) || !t.is(s + 4, ')')) return kNoMatch;
      const std::size_t i = t.is(s + 5, ' ') ? s + 6 : s + 5;  // ` ?` before a digit
      return t.digits(i, 3) && t.sep(i + 3) && t.digits(i + 4, 4) && t.word_ends(i + 8) ? i + 8 : kNoMatch;
    }
    case Shape::kPhonePlusOne:
    case Shape::kPhoneOne: {
      std::size_t i;
      if (shape == Shape::kPhonePlusOne) {
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
      if (shape == Shape::kPhonePlusOne) {
        i = optional_sep(t, i);
      } else if (t.sep(i)) {
        ++i;
      } else {
        return kNoMatch;
      }
      return t.digits(i, 4) && t.word_ends(i + 4) ? i + 4 : kNoMatch;
    }
    case Shape::kNanp:
      if (!t.high(s) || !t.word_starts(s)) return kNoMatch;
      return t.digits(s + 1, 2) && t.high(s + 3) && t.digits(s + 4, 6) && t.word_ends(s + 10) ? s + 10 : kNoMatch;
    case Shape::kIpv4: {
      if (!t.digit(s) || !t.word_starts(s)) return kNoMatch;
      // Each [0-9]{1,3} is a whole digit run: it starts at a \b or after a '.', and is
      // followed by '.' or by \b; so a run of 4 or more digits fails.
      std::size_t i = s;
      for (int group = 0; group < 4; ++group) {
        std::size_t run = 0;
        for (; run < 4 && t.digit(i); ++i) ++run;
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
void multi_ends(Shape shape, const Text& t, std::size_t s, Report&& report) {
  if (shape == Shape::kCard) {
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

// \bsk-...: every start is an "sk-" after a non-word byte; its ends are every byte of the key
// run after the prefix from the pattern's fewest characters on, i.e. the interval
// [run_from + min_run, run end]. (OpenAI's optional `proj-`/`svcacct-`/`admin-` are key
// characters, so their matches end inside the interval of the form without them.) Starts come
// in ascending order with ascending interval starts, so the ends an earlier start already
// holds are exactly those up to the largest interval end so far: a start is reported (with
// its whole interval's end, the longest) only if its interval reaches beyond that.
void key_matches(Shape shape, const Text& t, std::vector<std::pair<std::uint32_t, std::uint32_t>>& out) {
  std::size_t claimed = 0;  // ends up to here have an earlier start
  for (std::size_t s = 0; s + 3 <= t.size(); ++s) {
    if (!t.is(s, 's') || !t.is(s + 1, 'k') || !t.is(s + 2, '-') || !t.word_starts(s)) continue;
    std::size_t run_from = s + 3, min_run = 20;
    bool alnum_only = false;
    if (shape == Shape::kOpenRouterKey) {
      if (!t.starts_with(s, "sk-or-v1-")) continue;
      run_from = s + 9;
      min_run = 1;
      alnum_only = true;
    } else if (shape == Shape::kAnthropicKey) {
      if (!t.starts_with(s, "sk-ant-")) continue;
      run_from = s + 7;
      min_run = 1;
    }
    std::size_t e = run_from;
    while (alnum_only ? t.alnum(e) : t.key(e)) ++e;
    if (e - run_from < min_run || e <= claimed) continue;
    out.emplace_back(static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(e));
    claimed = e;
  }
}

// An email match holds exactly one '@' (neither part's class has it), so the '@' of a match
// is the last one before its end: each '@' gives its own matches, all with one leftmost start
// (the first byte of the local-part run before it that has \b before it) and its longest end
// (the last byte after which the domain parses: labels of [A-Za-z0-9-]+ joined by single dots,
// at least one dot, letters only and at least two of them after the last dot, then \b).
void email_matches(const Text& t, std::vector<std::pair<std::uint32_t, std::uint32_t>>& out) {
  for (std::size_t q = 0; q < t.size(); ++q) {
    if (!t.is(q, '@')) continue;
    std::size_t s = q;
    while (s > 0 && t.local(s - 1)) --s;
    while (s < q && !t.boundary(s)) ++s;
    if (s == q || !t.label(q + 1)) continue;
    std::size_t longest = 0, tld = 0;  // tld: letters since the last dot (0 once a non-letter)
    bool dotted = false, tld_letters = false;
    for (std::size_t i = q + 1;; ++i) {
      if (t.is(i, '.')) {
        if (t.is(i - 1, '.')) break;  // an empty label: no longer match through here
        dotted = tld_letters = true;
        tld = 0;
        continue;
      }
      if (!t.label(i)) break;
      if (t.letter(i)) ++tld;
      else tld_letters = false;
      if (dotted && tld_letters && tld >= 2 && t.word_ends(i + 1)) longest = i + 1;
    }
    if (longest) out.emplace_back(static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(longest));
  }
}

}  // namespace

void match_shape(Shape shape, std::string_view data, std::vector<std::pair<std::uint32_t, std::uint32_t>>& out,
                 std::vector<std::pair<std::uint32_t, std::uint32_t>>& scratch) {
  if (shape == Shape::kNone) return;
  const Text t(data);
  if (shape == Shape::kEmail) return email_matches(t, out);
  if (shape >= kFirstLongestShape) return key_matches(shape, t, out);
  scratch.clear();
  const bool multi = shape == Shape::kCard || shape == Shape::kE164;
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
