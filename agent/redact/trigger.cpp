#include "auditship/redact/trigger.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace auditship::redact {
namespace {

// 16-byte vectors in GCC/Clang's portable vector extension: SSE2 on x86_64, NEON on arm64,
// plain code elsewhere. Only the bit mask extraction is per architecture.
typedef unsigned char U8x16 __attribute__((vector_size(16)));
typedef signed char I8x16 __attribute__((vector_size(16)));

constexpr std::size_t kChunk = 16;

U8x16 load(const char* p) {
  U8x16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

U8x16 splat(unsigned char c) { return U8x16{} + c; }

// One bit per byte whose lane is all ones (comparison results are 0 or -1).
std::uint32_t bits(I8x16 m) {
#if defined(__SSE2__) && !defined(AUDITSHIP_PORTABLE_SIMD)
  return static_cast<std::uint32_t>(_mm_movemask_epi8(reinterpret_cast<__m128i>(m)));
#else
  std::uint64_t half[2];
  std::memcpy(half, &m, sizeof half);
  auto pack = [](std::uint64_t h) {
    // 0x00/0xFF bytes -> 0/1 bytes; the multiply gathers byte k's bit into bit 56 + k.
    return static_cast<std::uint32_t>(((h & 0x0101010101010101ULL) * 0x0102040810204080ULL) >> 56);
  };
  return pack(half[0]) | pack(half[1]) << 8;
#endif
}

std::uint32_t mask_of(I8x16 m) { return bits(m); }

bool is_digit(char c) { return static_cast<unsigned char>(c - '0') < 10; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_cluster_separator(char c) { return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'; }

// The digit cluster whose first digit is at `i` (the byte before it is not part of it): digit
// runs joined by one or two of ` -.()`. Returns the digit triggers of `mask` it fires; `end`
// receives the offset just after its last digit, where the search for the next one resumes.
//
// Why these rules are sound: in every digit pattern, each digit group is a maximal digit run
// (fenced by \b, a separator, '(' or ')'), and at most two separator characters join groups.
// So a match's groups are consecutive runs of one cluster with these lengths:
//   SSN 3,2,4 | phone 3,3,4 (also the tail of `1 (800) 555-1234`) | `1-800555-1234` 6,4 |
//   NANP one run of exactly 10 whose 1st and 4th digits are 2-9 | card >= 13 digits in all |
//   `+1...` and E.164: '+' right before the cluster, >= 7 digits | IPv4 four runs of <= 3
//   joined by single dots.
std::uint32_t cluster_fires(std::string_view t, std::size_t i, std::uint32_t mask, std::size_t& end) {
  const std::size_t n = t.size();
  std::uint32_t fired = 0;
  if ((mask & kTriggerIban) && i >= 2 && i + 1 < n && is_digit(t[i + 1]) && is_upper(t[i - 1]) && is_upper(t[i - 2]))
    fired |= kTriggerIban;
  const bool want_digits = mask & kTriggerDigits;
  std::size_t j = i, digits = 0, prev1 = 0, prev2 = 0, dotted = 0;
  bool single_dot = false;  // the separator before the current run is exactly "."
  for (;;) {
    std::size_t s = j;
    while (j < n && is_digit(t[j])) ++j;
    std::size_t run = j - s;
    digits += run;
    if (want_digits) {
      if (run == 10 && t[s] >= '2' && t[s + 3] >= '2') fired |= kTriggerDigits;
      if (run == 4 && (prev2 == 3 && (prev1 == 2 || prev1 == 3))) fired |= kTriggerDigits;
      if (run == 4 && prev1 == 6) fired |= kTriggerDigits;
      dotted = run <= 3 ? (single_dot && dotted ? dotted + 1 : 1) : 0;
      if (dotted >= 4) fired |= kTriggerDigits;
    }
    prev2 = prev1;
    prev1 = run;
    std::size_t k = j;
    while (k < n && k - j < 2 && is_cluster_separator(t[k])) ++k;
    if (k == j || k >= n || !is_digit(t[k])) break;
    single_dot = k - j == 1 && t[j] == '.';
    j = k;
  }
  end = j;
  if (want_digits && (digits >= 13 || (digits >= 7 && i >= 1 && t[i - 1] == '+'))) fired |= kTriggerDigits;
  return fired;
}

// The literal triggers of `mask` that start in p[0, 16) at a bit of `limit`; reads p[0, 19).
// One combined test first: almost every chunk has none.
std::uint32_t literal_fires(const char* p, std::uint32_t mask, std::uint32_t limit) {
  const U8x16 c0 = load(p), c1 = load(p + 1), c2 = load(p + 2), c3 = load(p + 3);
  const U8x16 lower = splat(0x20);
  const I8x16 none{};
  const I8x16 at = (mask & kTriggerAt) ? I8x16(c0 == splat('@')) : none;
  const I8x16 sk = (mask & kTriggerSkDash) ? (c0 == splat('s')) & (c1 == splat('k')) & (c2 == splat('-')) : none;
  const I8x16 aws = (mask & kTriggerAws) ? (c0 == splat('A')) & ((c1 == splat('K')) | (c1 == splat('S'))) &
                                               (c2 == splat('I')) & (c3 == splat('A'))
                                         : none;
  const I8x16 jwt = (mask & kTriggerJwt) ? (c0 == splat('e')) & (c1 == splat('y')) & (c2 == splat('J')) : none;
  const I8x16 bear = (mask & kTriggerBear) ? ((c0 | lower) == splat('b')) & ((c1 | lower) == splat('e')) &
                                                 ((c2 | lower) == splat('a')) & ((c3 | lower) == splat('r'))
                                           : none;
  if (!(mask_of(at | sk | aws | jwt | bear) & limit)) return 0;
  std::uint32_t fired = 0;
  if (mask_of(at) & limit) fired |= kTriggerAt;
  if (mask_of(sk) & limit) fired |= kTriggerSkDash;
  if (mask_of(aws) & limit) fired |= kTriggerAws;
  if (mask_of(jwt) & limit) fired |= kTriggerJwt;
  if (mask_of(bear) & limit) fired |= kTriggerBear;
  return fired;
}

std::uint32_t sk_dash_bits(const char* p) {
  const U8x16 c0 = load(p), c1 = load(p + 1), c2 = load(p + 2);
  return mask_of((c0 == splat('s')) & (c1 == splat('k')) & (c2 == splat('-')));
}

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
}

std::uint32_t digit_bits(const char* p) {
  const U8x16 c = load(p);
  return mask_of(static_cast<I8x16>(c - splat('0') < splat(10)));
}

constexpr std::uint32_t kLiteralTriggers = kTriggerAt | kTriggerSkDash | kTriggerAws | kTriggerJwt | kTriggerBear;
constexpr std::uint32_t kDigitTriggers = kTriggerDigits | kTriggerIban;
// literal_bits() looks this far past a chunk.
constexpr std::size_t kLookahead = 3;

}  // namespace

// Windows: a digit-pattern match starts at most one byte before its cluster ('+' or '(') and
// ends at the cluster's last digit, so [cluster - 2, end + 1) holds it and the bytes its \b
// fences look at. A match that Hyperscan could find only because the window cuts the text
// would have to start at the window's first byte; that byte is followed by one that is
// neither a digit nor a separator (else the cluster would extend), and no digit pattern
// continues through such a byte, so no such match exists.
//
// Key windows: every OpenRouter/Anthropic/OpenAI match starts at an "sk-" and continues over
// [A-Za-z0-9_-], so [sk - 1, end of that run + 1) holds it and its \b context; the window's
// first byte cannot start a match (it is followed by 's', not 'k').
std::uint32_t triggers_fired(std::string_view text, std::uint32_t mask, std::vector<Window>* windows) {
  const std::size_t n = text.size();
  std::uint32_t fired = 0;
  if (windows) windows->clear();
  std::size_t key_covered = 0;  // an "sk-" before this offset is inside the last key window
  // Chunks are read from `text` while they and their lookahead fit, then from a zero-padded
  // copy of the tail (zero bytes match nothing). Digit clusters are always walked in `text`.
  char tail[2 * kChunk] = {};
  std::size_t i = 0;
  while (i < n && mask) {
    const char* p;
    if (i + kChunk + kLookahead <= n) {
      p = text.data() + i;
    } else {
      std::memset(tail, 0, sizeof tail);
      std::memcpy(tail, text.data() + i, n - i);  // < kChunk + kLookahead bytes
      p = tail;
    }
    std::size_t chunk_end = i + kChunk;
    if (mask & kLiteralTriggers) {
      std::uint32_t limit = chunk_end > n ? (1u << (n - i)) - 1 : 0xFFFFu;
      std::uint32_t lit = literal_fires(p, mask, limit);
      fired |= lit;
      if (windows && (lit & kTriggerSkDash)) {
        std::uint32_t at_bits = sk_dash_bits(p) & limit;
        while (at_bits) {
          std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(at_bits));
          at_bits &= at_bits - 1;
          if (at < key_covered) continue;
          std::size_t end = at + 3;
          while (end < n && is_key_char(text[end])) ++end;
          key_covered = end;
          windows->push_back({static_cast<std::uint32_t>(at ? at - 1 : 0),
                              static_cast<std::uint32_t>(end < n ? end + 1 : n), kTriggerSkDash});
        }
        lit &= ~kTriggerSkDash;  // keep looking for more keys
      }
      mask &= ~lit;
    }
    if (mask & kDigitTriggers) {
      std::uint32_t d = digit_bits(p);
      while (d) {
        std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(d));
        if (at >= n) break;
        std::size_t end;
        std::uint32_t hit = cluster_fires(text, at, mask, end);
        fired |= hit;
        if (windows && (hit & kTriggerDigits)) {
          windows->push_back({static_cast<std::uint32_t>(at >= 2 ? at - 2 : 0),
                              static_cast<std::uint32_t>(end < n ? end + 1 : n), kTriggerDigits});
          hit &= ~kTriggerDigits;  // keep looking for the other clusters
        }
        mask &= ~hit;
        if (end >= chunk_end) {
          chunk_end = end;  // resume right after the cluster
          break;
        }
        d &= ~((1u << (end - i)) - 1);
      }
    }
    i = chunk_end;
  }
  return fired;
}

std::size_t find_string_stop(std::string_view text, std::size_t from) {
  const std::size_t n = text.size();
  std::size_t i = from;
  for (; i + kChunk <= n; i += kChunk) {
    const U8x16 c = load(text.data() + i);
    std::uint32_t stop = mask_of((c == splat('"')) | (c == splat('\\')) | (c < splat(0x20)));
    if (stop) return i + static_cast<std::size_t>(__builtin_ctz(stop));
  }
  for (; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\' || c < 0x20) return i;
  }
  return n;
}

}  // namespace auditship::redact
