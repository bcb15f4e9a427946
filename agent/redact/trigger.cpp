#include "auditship/redact/trigger.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
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

// IBAN's `\b[A-Z]{2}[0-9]{2}` with the digits from t[i]: the capitals start a word, so the
// character before them is not one of [A-Za-z0-9_] (Hyperscan's \b is ASCII). On raw string
// bytes that character may be the letter of a two-byte escape (`\n` decodes to a non-word
// character), so a backslash two bytes before the capitals also counts.
bool iban_starts_word(std::string_view t, std::size_t i) {
  if (i < 3) return true;
  const char c = t[i - 3];
  const bool word = is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z') || c == '_';
  return !word || (i >= 4 && t[i - 4] == '\\');
}

// The digit cluster whose first digit is at `i` (the byte before it is not part of it): digit
// runs joined by one or two of ` -.()`. Returns the digit triggers of `mask` it fires; `end`
// receives the offset just after its last digit, where the search for the next one resumes.
//
// Why these rules are sound: in every digit pattern, each digit group is a maximal digit run
// (fenced by \b, a separator, '(' or ')'), and at most two separator characters join groups.
// So a match's groups are consecutive runs of one cluster with these lengths, and each
// pattern carries (detectors.cpp) the trigger of its shape:
//   kTriggerGroupOf4: SSN 3,2,4 | phone 3,3,4 (also the tail of `1 (800) 555-1234`) |
//     `1-800555-1234` 6,4;
//   kTriggerTenDigits: NANP, one run of exactly 10 whose 1st and 4th digits are 2-9;
//   kTriggerLongDigits: card, >= 13 digits in all;
//   kTriggerPlus: `+1...` and E.164, '+' right before the cluster, >= 7 digits;
//   kTriggerDottedQuad: IPv4, four runs of <= 3 joined by single dots.
std::uint32_t cluster_fires(std::string_view t, std::size_t i, std::uint32_t mask, std::size_t& end) {
  const std::size_t n = t.size();
  std::uint32_t fired = 0;
  if ((mask & kTriggerIban) && i >= 2 && i + 1 < n && is_digit(t[i + 1]) && is_upper(t[i - 1]) &&
      is_upper(t[i - 2]) && iban_starts_word(t, i))
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
      if (run == 10 && t[s] >= '2' && t[s + 3] >= '2') fired |= kTriggerTenDigits;
      if (run == 4 && (prev2 == 3 && (prev1 == 2 || prev1 == 3))) fired |= kTriggerGroupOf4;
      if (run == 4 && prev1 == 6) fired |= kTriggerGroupOf4;
      dotted = run <= 3 ? (single_dot && dotted ? dotted + 1 : 1) : 0;
      if (dotted >= 4) fired |= kTriggerDottedQuad;
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
  if (want_digits && digits >= 13) fired |= kTriggerLongDigits;
  if (want_digits && digits >= 7 && i >= 1 && t[i - 1] == '+') fired |= kTriggerPlus;
  return fired & mask;
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

std::uint32_t at_sign_bits(const char* p) { return mask_of(load(p) == splat('@')); }

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
}

// What an email match is made of: its local part [A-Za-z0-9._%+-], '@', its domain [A-Za-z0-9.-].
bool is_email_char(char c) { return is_key_char(c) || c == '.' || c == '%' || c == '+' || c == '@'; }

// The end of the key characters after the "sk-" at t[at].
std::size_t key_end(std::string_view t, std::size_t at) {
  std::size_t end = at + 3;
  while (end < t.size() && is_key_char(t[end])) ++end;
  return end;
}

// The maximal run of email characters around the '@' at t[at].
std::size_t email_begin(std::string_view t, std::size_t at) {
  while (at > 0 && is_email_char(t[at - 1])) --at;
  return at;
}
std::size_t email_end(std::string_view t, std::size_t at) {
  ++at;
  while (at < t.size() && is_email_char(t[at])) ++at;
  return at;
}

// The window of `trigger` around bytes [from, to) of a text of n bytes: `before` bytes before
// them and one after (the \b context), clipped to the text.
Window window(std::size_t from, std::size_t to, std::size_t before, std::size_t n, std::uint32_t trigger) {
  return {static_cast<std::uint32_t>(from >= before ? from - before : 0),
          static_cast<std::uint32_t>(to < n ? to + 1 : n), trigger};
}

// One window per digit trigger in `fired` for the cluster [at, end) (a cluster of two shapes
// is scanned with each shape's patterns).
void push_cluster_windows(std::vector<Window>& windows, std::size_t at, std::size_t end, std::size_t n,
                          std::uint32_t fired) {
  for (std::uint32_t b = fired & kTriggerDigits; b; b &= b - 1) windows.push_back(window(at, end, 2, n, b & (0u - b)));
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
//
// Email windows: a match is a run of [A-Za-z0-9._%+-@] holding its '@', so it lies inside the
// maximal such run around that '@'; [run - 1, run end + 1) holds it and its \b context, and
// its first byte (not such a character) cannot start a match. Every match starts inside the
// run, so the leftmost start Hyperscan reports for an end is the same as in the whole text.
std::uint32_t triggers_fired(std::string_view text, std::uint32_t mask, std::vector<Window>* windows) {
  const std::size_t n = text.size();
  std::uint32_t fired = 0;
  if (windows) windows->clear();
  std::size_t key_covered = 0;    // an "sk-" before this offset is inside the last key window
  std::size_t email_covered = 0;  // an '@' before this offset is inside the last email window
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
          key_covered = key_end(text, at);
          windows->push_back(window(at, key_covered, 1, n, kTriggerSkDash));
        }
        lit &= ~kTriggerSkDash;  // keep looking for more keys
      }
      if (windows && (lit & kTriggerAt)) {
        for (std::uint32_t at_bits = at_sign_bits(p) & limit; at_bits; at_bits &= at_bits - 1) {
          std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(at_bits));
          if (at < email_covered) continue;
          email_covered = email_end(text, at);
          windows->push_back(window(email_begin(text, at), email_covered, 1, n, kTriggerAt));
        }
        lit &= ~kTriggerAt;  // keep looking for more addresses
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
          push_cluster_windows(*windows, at, end, n, hit);
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

namespace {

// The first digit of the digit cluster (see cluster_fires) that holds the digit at `q`:
// runs are joined to the previous one by one or two separators, exactly the rule by which
// cluster_fires extends a cluster forwards, so walking it backwards finds the same start.
std::size_t cluster_start(std::string_view t, std::size_t q) {
  for (;;) {
    while (q > 0 && is_digit(t[q - 1])) --q;
    if (q >= 2 && is_cluster_separator(t[q - 1]) && is_digit(t[q - 2])) {
      q -= 2;
    } else if (q >= 3 && is_cluster_separator(t[q - 1]) && is_cluster_separator(t[q - 2]) && is_digit(t[q - 3])) {
      q -= 3;
    } else {
      return q;
    }
  }
}

// The literal triggers of `mask` that start at t[q] (the scalar form of literal_fires).
std::uint32_t literal_at(std::string_view t, std::size_t q, std::uint32_t mask) {
  auto is = [&](std::size_t k, char c) { return q + k < t.size() && t[q + k] == c; };
  auto is_any_case = [&](std::size_t k, char c) { return q + k < t.size() && (t[q + k] | 0x20) == c; };
  std::uint32_t fired = 0;
  if (is(0, '@')) fired |= kTriggerAt;
  if (is(0, 's') && is(1, 'k') && is(2, '-')) fired |= kTriggerSkDash;
  if (is(0, 'A') && (is(1, 'K') || is(1, 'S')) && is(2, 'I') && is(3, 'A')) fired |= kTriggerAws;
  if (is(0, 'e') && is(1, 'y') && is(2, 'J')) fired |= kTriggerJwt;
  if (is_any_case(0, 'b') && is_any_case(1, 'e') && is_any_case(2, 'a') && is_any_case(3, 'r')) fired |= kTriggerBear;
  return fired & mask;
}


// The byte classes LineIndex::build needs, one bit per byte of a 64-byte block, computed
// with 16-byte vectors (SSE2/NEON/plain), or 32 (AVX2) or 64 bytes (AVX-512BW) chosen at run
// time: the build is -O2 for any x86_64, and the classification is most of build().
struct Planes {
  std::uint64_t *digit, *sep, *upper, *high, *dot, *plus, *stop, *lit;
  std::uint64_t* non_ascii;  // per block: nonzero if a byte is >= 0x80
  // The planes of the blocks from `w` on.
  [[nodiscard]] Planes from(std::size_t w) const {
    return {digit + w, sep + w, upper + w, high + w, dot + w, plus + w, stop + w, lit + w, non_ascii + w};
  }
};
// The bytes a block's classification reads from the block's start: its 64 and the 3 after
// them that the literals' 2nd to 4th characters come from (every vector width below).
constexpr std::size_t kClassifyReach = 64 + 3;

// One block's classification, written once and expanded per vector width: a template cannot
// carry the AVX2 target (GCC inlines the AVX2 helpers into the default-target template first).
// U/I: unsigned/signed byte vectors; LOAD(p): a U from p; BITS(m): one bit per lane of m.
#define AUDITSHIP_CLASSIFY_BLOCK(U, I, LOAD, BITS, block, out, w)                                           \
  do {                                                                                                     \
    std::uint64_t digit = 0, sep = 0, upper = 0, high = 0, dot = 0, plus = 0, stop = 0, lit = 0;           \
    U any = U{};                                                                                           \
    for (unsigned k = 0; k < 64; k += sizeof(U)) {                                                         \
      const char* p = (block) + k;                                                                         \
      const U c0 = LOAD(p), c1 = LOAD(p + 1), c2 = LOAD(p + 2), c3 = LOAD(p + 3);                          \
      any |= c0;                                                                                           \
      const U lower = U{} + 0x20;                                                                          \
      const I is_dot = c0 == '.';                                                                          \
      digit |= std::uint64_t{BITS(static_cast<I>(c0 - '0' < 10))} << k;                                   \
      high |= std::uint64_t{BITS(static_cast<I>(c0 - '2' < 8))} << k;                                      \
      upper |= std::uint64_t{BITS(static_cast<I>(c0 - 'A' < 26))} << k;                                    \
      sep |= std::uint64_t{BITS((c0 == ' ') | (c0 == '-') | is_dot | (c0 == '(') | (c0 == ')'))} << k;     \
      dot |= std::uint64_t{BITS(is_dot)} << k;                                                             \
      plus |= std::uint64_t{BITS(c0 == '+')} << k;                                                         \
      stop |= std::uint64_t{BITS((c0 == '"') | (c0 == '\\') | static_cast<I>(c0 < 0x20))} << k;            \
      const I literals = (c0 == '@') | ((c0 == 's') & (c1 == 'k') & (c2 == '-')) |                         \
                         ((c0 == 'A') & ((c1 == 'K') | (c1 == 'S')) & (c2 == 'I') & (c3 == 'A')) |         \
                         ((c0 == 'e') & (c1 == 'y') & (c2 == 'J')) |                                       \
                         (((c0 | lower) == 'b') & ((c1 | lower) == 'e') & ((c2 | lower) == 'a') &          \
                          ((c3 | lower) == 'r'));                                                          \
      lit |= std::uint64_t{BITS(literals)} << k;                                                           \
    }                                                                                                      \
    (out).digit[w] = digit, (out).sep[w] = sep, (out).upper[w] = upper, (out).high[w] = high;              \
    (out).dot[w] = dot, (out).plus[w] = plus, (out).stop[w] = stop, (out).lit[w] = lit;                    \
    (out).non_ascii[w] = BITS(any >= 0x80);                                                                \
  } while (0)

// noinline: build() names it for portable_for_test(); inlined there it slowed every line (7 %).
__attribute__((noinline)) void classify_portable(const char* data, std::size_t words, const Planes& out) {
  for (std::size_t w = 0; w < words; ++w) AUDITSHIP_CLASSIFY_BLOCK(U8x16, I8x16, load, bits, data + w * 64, out, w);
}

#if defined(__x86_64__)
// One x86 vector width: its byte vectors, load, bit extraction (MOVEMASK on the REG value `m`)
// and the classification function NAME, all compiled for ISA.
#define AUDITSHIP_X86_CLASSIFIER(BYTES, ISA, REG, MOVEMASK, NAME)                                                \
  typedef unsigned char U8x##BYTES __attribute__((vector_size(BYTES)));                                    \
  typedef signed char I8x##BYTES __attribute__((vector_size(BYTES)));                                      \
  __attribute__((target(ISA))) inline U8x##BYTES load##BYTES(const char* p) {                              \
    U8x##BYTES v;                                                                                          \
    std::memcpy(&v, p, sizeof v);                                                                          \
    return v;                                                                                              \
  }                                                                                                        \
  __attribute__((target(ISA))) inline std::uint64_t bits##BYTES(I8x##BYTES v) {                            \
    const auto m = reinterpret_cast<REG>(v);                                                               \
    return static_cast<std::uint64_t>(MOVEMASK);                                                           \
  }                                                                                                        \
  __attribute__((target(ISA))) void NAME(const char* data, std::size_t words, const Planes& out) {         \
    for (std::size_t w = 0; w < words; ++w)                                                                \
      AUDITSHIP_CLASSIFY_BLOCK(U8x##BYTES, I8x##BYTES, load##BYTES, bits##BYTES, data + w * 64, out, w);   \
  }

AUDITSHIP_X86_CLASSIFIER(32, "avx2", __m256i, static_cast<std::uint32_t>(_mm256_movemask_epi8(m)), classify_avx2)
#undef AUDITSHIP_X86_CLASSIFIER

// AVX-512BW: a whole block per vector, and most classes from nibble tables instead of one
// comparison per character: a byte's class bits are LO[its low nibble] & HI[its high nibble]
// (VPSHUFB looks both up for 64 bytes at once). Every class below is a product of a set of low
// and a set of high nibbles, so the lookup is exact. Bytes >= 0x80 have high nibbles 8-15,
// whose HI entries are 0: they are in no class.
struct NibbleTables {
  std::uint8_t lo[16], hi[16];
};

// Single-byte classes.
enum : std::uint8_t {
  kDigit = 1, kHigh = 2, kUpperAO = 4, kUpperPZ = 8, kSep = 16, kPlus = 32, kQuote = 64, kBackslash = 128
};
constexpr NibbleTables kByteClasses = [] {
  NibbleTables t{};
  for (int l = 0; l < 16; ++l) {
    if (l <= 9) t.lo[l] |= kDigit;                   // '0'-'9'         (high nibble 3)
    if (l >= 2 && l <= 9) t.lo[l] |= kHigh;          // '2'-'9'         (3)
    if (l >= 1) t.lo[l] |= kUpperAO;                 // 'A'-'O'         (4)
    if (l <= 10) t.lo[l] |= kUpperPZ;                // 'P'-'Z'         (5)
    if (l == 0 || l == 8 || l == 9 || l == 0xd || l == 0xe) t.lo[l] |= kSep;  // ' ' ( ) - .  (2)
  }
  t.lo[0xb] |= kPlus;       // '+' (2)
  t.lo[2] |= kQuote;        // '"' (2)
  t.lo[0xc] |= kBackslash;  // '\\' (5)
  t.hi[2] = kSep | kPlus | kQuote;
  t.hi[3] = kDigit | kHigh;
  t.hi[4] = kUpperAO;
  t.hi[5] = kUpperPZ | kBackslash;
  return t;
}();

// Literal starts, one bit per literal in each of the first three characters' tables; a byte
// starts a candidate where the three lookups share a bit. '@' needs one character (its bit is
// set for every second and third byte). The 4th characters of `AKIA`/`ASIA` and `bear` are
// not looked at, and the nibbles of `K` and `S` also make `C` and `[`, so these hits are a
// superset of the literal starts: LineIndex::walk_hits confirms each with literal_at, the
// test the per-string walk makes.
enum : std::uint8_t { kLitSk = 1, kLitAws = 2, kLitJwt = 4, kLitBear = 8, kLitAt = 16 };
constexpr NibbleTables nibble_set(std::initializer_list<std::pair<char, std::uint8_t>> chars, std::uint8_t any) {
  NibbleTables t{};
  for (int k = 0; k < 16; ++k) t.lo[k] = t.hi[k] = any;
  for (auto [c, bit] : chars) {
    t.lo[static_cast<unsigned char>(c) & 0xf] |= bit;
    t.hi[static_cast<unsigned char>(c) >> 4] |= bit;
  }
  return t;
}
constexpr NibbleTables kLitFirst =
    nibble_set({{'s', kLitSk}, {'A', kLitAws}, {'e', kLitJwt}, {'b', kLitBear}, {'B', kLitBear}, {'@', kLitAt}}, 0);
constexpr NibbleTables kLitSecond =
    nibble_set({{'k', kLitSk}, {'K', kLitAws}, {'S', kLitAws}, {'y', kLitJwt}, {'e', kLitBear}, {'E', kLitBear}},
               kLitAt);
constexpr NibbleTables kLitThird =
    nibble_set({{'-', kLitSk}, {'I', kLitAws}, {'J', kLitJwt}, {'a', kLitBear}, {'A', kLitBear}}, kLitAt);

// The 16-byte table in each 128-bit lane (VPSHUFB looks up within a lane). The zero-masked
// broadcast: GCC 12's unmasked one fills an "undefined" source that trips -Wuninitialized.
__attribute__((target("avx512bw"))) inline __m512i table512(const std::uint8_t (&t)[16]) {
  return _mm512_maskz_broadcast_i32x4(static_cast<__mmask16>(0xFFFF),
                                      _mm_loadu_si128(reinterpret_cast<const __m128i*>(t)));
}
struct Nibbles512 {
  __m512i lo, hi;
};
__attribute__((target("avx512bw"))) inline Nibbles512 nibbles512(__m512i v) {
  const __m512i mask = _mm512_set1_epi8(0x0f);
  return {_mm512_and_si512(v, mask), _mm512_and_si512(_mm512_srli_epi16(v, 4), mask)};
}
__attribute__((target("avx512bw"))) inline __m512i lookup512(const Nibbles512& n, __m512i lo, __m512i hi) {
  return _mm512_and_si512(_mm512_shuffle_epi8(lo, n.lo), _mm512_shuffle_epi8(hi, n.hi));
}
__attribute__((target("avx512bw"))) inline __mmask64 any512(__m512i v, std::uint8_t bits) {
  return _mm512_test_epi8_mask(v, _mm512_set1_epi8(static_cast<char>(bits)));
}

__attribute__((target("avx512bw"))) void classify_avx512(const char* data, std::size_t words, const Planes& out) {
  const __m512i class_lo = table512(kByteClasses.lo), class_hi = table512(kByteClasses.hi);
  const __m512i first_lo = table512(kLitFirst.lo), first_hi = table512(kLitFirst.hi);
  const __m512i second_lo = table512(kLitSecond.lo), second_hi = table512(kLitSecond.hi);
  const __m512i third_lo = table512(kLitThird.lo), third_hi = table512(kLitThird.hi);
  for (std::size_t w = 0; w < words; ++w) {
    const char* p = data + w * 64;
    const __m512i c0 = _mm512_loadu_si512(p);
    const Nibbles512 n0 = nibbles512(c0);
    const __m512i cls = lookup512(n0, class_lo, class_hi);
    out.digit[w] = any512(cls, kDigit);
    out.high[w] = any512(cls, kHigh);
    out.upper[w] = any512(cls, kUpperAO | kUpperPZ);
    out.sep[w] = any512(cls, kSep);
    out.dot[w] = _mm512_cmpeq_epi8_mask(c0, _mm512_set1_epi8('.'));
    out.plus[w] = any512(cls, kPlus);
    out.stop[w] = any512(cls, kQuote | kBackslash) | _mm512_cmplt_epu8_mask(c0, _mm512_set1_epi8(0x20));
    const __m512i lit0 = lookup512(n0, first_lo, first_hi);
    const __m512i lit1 = lookup512(nibbles512(_mm512_loadu_si512(p + 1)), second_lo, second_hi);
    const __m512i lit2 = lookup512(nibbles512(_mm512_loadu_si512(p + 2)), third_lo, third_hi);
    out.lit[w] = _mm512_test_epi8_mask(_mm512_ternarylogic_epi32(lit0, lit1, lit2, 0x80), _mm512_set1_epi8(-1));
    out.non_ascii[w] = _mm512_movepi8_mask(c0);  // the sign bits: bytes >= 0x80
  }
}
#endif

#undef AUDITSHIP_CLASSIFY_BLOCK

using ClassifyFn = void (*)(const char*, std::size_t, const Planes&);

ClassifyFn pick_classify() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512bw")) return classify_avx512;
  if (__builtin_cpu_supports("avx2")) return classify_avx2;
#endif
  return classify_portable;
}

// The hits of words [w, w + lanes) from the byte classes (rules at LineIndex::build), one
// word per lane of T: std::uint64_t, or 8 words in an AVX-512 vector. Each plane pointer
// addresses word 0 and may be read one word before it and one word past the last lane (the
// scratch planes carry zero words there). A combined plane (2 or 4 digits from p, a middle
// run, ...) is needed in the next word only in its low bits (at most 8), which depend on that
// word and the one before only, so it is computed there from those two words.
// FWD: bit p is bit p + k of the plane whose word holding p is `lo` and next word is `hi`;
// BACK: bit p is bit p - k, `prev` the word before `cur` (k in 1..63).
#define AUDITSHIP_FWD(lo, hi, k) ((lo) >> (k) | (hi) << (64 - (k)))
#define AUDITSHIP_BACK(cur, prev, k) ((cur) << (k) | (prev) >> (64 - (k)))
#define AUDITSHIP_HITS(T, LOAD, pl, hits, w)                                                                       \
  do {                                                                                                             \
    const T d = LOAD((pl).digit + (w)), dh = LOAD((pl).digit + (w) + 1), pd = LOAD((pl).digit + (w)-1);            \
    const T s = LOAD((pl).sep + (w)), sh = LOAD((pl).sep + (w) + 1), ps = LOAD((pl).sep + (w)-1);                  \
    const T dot = LOAD((pl).dot + (w)), doth = LOAD((pl).dot + (w) + 1), pdot = LOAD((pl).dot + (w)-1);            \
    const T u = LOAD((pl).upper + (w)), pu = LOAD((pl).upper + (w)-1);                                             \
    const T hi = LOAD((pl).high + (w)), hih = LOAD((pl).high + (w) + 1);                                           \
    const T plus = LOAD((pl).plus + (w)), pplus = LOAD((pl).plus + (w)-1);                                         \
    const T cls = d | s, clsh = dh | sh;                                                                           \
    /* Bit p of d2/d4: 2/4 digits from p; of c2/c4: 2/4 digits or separators from p. */                            \
    const T d2 = d & AUDITSHIP_FWD(d, dh, 1), d2h = dh & dh >> 1;                                                  \
    const T d4 = d2 & AUDITSHIP_FWD(d2, d2h, 2), d4h = d2h & d2h >> 2;                                             \
    const T c2 = cls & AUDITSHIP_FWD(cls, clsh, 1), c2h = clsh & clsh >> 1;                                        \
    const T c4 = c2 & AUDITSHIP_FWD(c2, c2h, 2), c4h = c2h & c2h >> 2;                                             \
    /* Bit p of mid: a middle run of a dotted quad starts at p. */                                                 \
    const T mid = d & AUDITSHIP_BACK(dot, pdot, 1) & AUDITSHIP_BACK(d, pd, 2) &                                    \
                  ((AUDITSHIP_FWD(dot, doth, 1) & AUDITSHIP_FWD(d, dh, 2)) |                                       \
                   (AUDITSHIP_FWD(d, dh, 1) & AUDITSHIP_FWD(dot, doth, 2) & AUDITSHIP_FWD(d, dh, 3)) |             \
                   (AUDITSHIP_FWD(d, dh, 1) & AUDITSHIP_FWD(d, dh, 2) & AUDITSHIP_FWD(dot, doth, 3) &              \
                    AUDITSHIP_FWD(d, dh, 4)));                                                                     \
    const T midh = dh & AUDITSHIP_BACK(doth, dot, 1) & AUDITSHIP_BACK(dh, d, 2) &                                  \
                   ((doth >> 1 & dh >> 2) | (dh >> 1 & doth >> 2 & dh >> 3) |                                      \
                    (dh >> 1 & dh >> 2 & doth >> 3 & dh >> 4));                                                    \
    const T run_start = d & ~AUDITSHIP_BACK(d, pd, 1);                                                             \
    const T run10 = d4 & AUDITSHIP_FWD(d4, d4h, 4) & AUDITSHIP_FWD(d2, d2h, 8) & ~AUDITSHIP_FWD(d, dh, 10);        \
    const T nanp = run_start & run10 & hi & AUDITSHIP_FWD(hi, hih, 3);                                             \
    const T joined_four = run_start & d4 & ~AUDITSHIP_FWD(d, dh, 4) & AUDITSHIP_BACK(s, ps, 1) &                   \
                          (AUDITSHIP_BACK(d, pd, 2) | (AUDITSHIP_BACK(s, ps, 2) & AUDITSHIP_BACK(d, pd, 3)));      \
    const T dotted = mid & (AUDITSHIP_FWD(mid, midh, 2) | AUDITSHIP_FWD(mid, midh, 3) | AUDITSHIP_FWD(mid, midh, 4)); \
    const T long_cluster =                                                                                         \
        d & c4 & AUDITSHIP_FWD(c4, c4h, 4) & AUDITSHIP_FWD(c4, c4h, 8) & AUDITSHIP_FWD(cls, clsh, 12);             \
    const T after_plus = d & AUDITSHIP_BACK(plus, pplus, 1);                                                       \
    const T iban = d & AUDITSHIP_FWD(d, dh, 1) & AUDITSHIP_BACK(u, pu, 1) & AUDITSHIP_BACK(u, pu, 2);              \
    const T h = LOAD((pl).lit + (w)) | nanp | joined_four | dotted | long_cluster | after_plus | iban;              \
    std::memcpy((hits) + (w), &h, sizeof h);                                                                       \
  } while (0)

// Word loads for the hits stage (a word, or a vector of words, from p).
template <class T>
T load_words(const std::uint64_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

constexpr std::size_t kHitLanes = 8;  // words per hits step on AVX-512; planes are padded to it

// noinline: as classify_portable.
__attribute__((noinline)) void hits_portable(const Planes& pl, std::uint64_t* hits, std::size_t words) {
  for (std::size_t w = 0; w < words; ++w) AUDITSHIP_HITS(std::uint64_t, load_words<std::uint64_t>, pl, hits, w);
}

#if defined(__x86_64__)
typedef std::uint64_t U64x8 __attribute__((vector_size(64)));
__attribute__((target("avx512f"))) inline U64x8 load_u64x8(const std::uint64_t* p) {
  U64x8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
__attribute__((target("avx512f"))) void hits_avx512(const Planes& pl, std::uint64_t* hits, std::size_t words) {
  for (std::size_t w = 0; w < words; w += kHitLanes) AUDITSHIP_HITS(U64x8, load_u64x8, pl, hits, w);
}
#endif
#undef AUDITSHIP_HITS
#undef AUDITSHIP_FWD
#undef AUDITSHIP_BACK

using HitsFn = void (*)(const Planes&, std::uint64_t*, std::size_t);

HitsFn pick_hits() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) return hits_avx512;
#endif
  return hits_portable;
}

}  // namespace

// Hits: a superset of the places the per-string triggers_fired acts on. Every literal start
// is a hit (exactly the starts on the 16- and 32-byte paths; a few more byte pairs and
// triples on AVX-512, see kLitSecond). For digits, every cluster that fires holds at least
// one of these digits (the rules of cluster_fires, one by one):
//   NANP: its run of exactly 10 starts with a digit >= 2 that follows no digit, whose 4th is >= 2;
//   run == 4 after runs 3,2 / 3,3 / 6: that run of exactly 4 follows a separator which
//     follows a digit, or two separators and a digit (it is joined to an earlier run);
//   dotted >= 4 (runs r1.r2.r3.r4 of <= 3 digits joined by single dots): r2 and r3 both start
//     a "middle" run (a digit after '.' after a digit, whose <= 3 digits are followed by '.'
//     and a digit), and r3 starts 2 to 4 bytes after r2;
//   >= 13 digits: the cluster's first digit starts 13 bytes of digits and separators;
//   '+' and >= 7 digits: its first digit follows a '+';
//   IBAN (checked at a cluster's first digit): two capitals, then two digits (the rest of its
//     test, iban_starts_word, is left to cluster_fires).
// Each hit is then walked from its cluster's first digit by cluster_fires itself, so the
// digit triggers fire exactly where the per-string walk fires them. The bytes around a string
// token are its quotes, which are none of digit, separator, capital, '+' or a literal's
// byte: every test above reads the same bits at a string's edges as on the string alone.
void LineIndex::build(std::string_view line) {
  static const ClassifyFn classify = pick_classify();
  static const HitsFn find_hits = pick_hits();
  line_ = line;
  const std::size_t n = line.size();
  words_ = n / 64 + 1;  // bit n exists: next_stop() always finds a stop (a zero byte)
  // Blocks whose loads stay inside the line are classified in place; the rest (at least the
  // block holding byte n) from a copy of the tail padded with zero bytes.
  const std::size_t in_place = n >= kClassifyReach ? (n - kClassifyReach) / 64 + 1 : 0;
  padded_.assign(line.substr(in_place * 64));
  padded_.resize((words_ - in_place - 1) * 64 + kClassifyReach, '\0');
  // Whole vectors of hits; scratch planes: a zero word before word 0, and zero words after
  // the line up to one past the last vector (the hits stage reads w - 1 and w + 1). They only
  // grow, and only the words the previous line wrote past this one's are zeroed again: the
  // lines of a batch mostly have the same number of words.
  const std::size_t lanes = (words_ + kHitLanes - 1) / kHitLanes * kHitLanes;
  if (digit_.size() < lanes + 2) {
    for (auto* m : {&digit_, &sep_, &upper_, &high_, &dot_, &plus_, &lit_}) m->resize(lanes + 2);
    hits_.resize(lanes);
    stops_.resize(lanes);
    non_ascii_.resize(lanes);
  }
  if (written_ > words_)
    for (auto* m : {&digit_, &sep_, &upper_, &high_, &dot_, &plus_, &lit_})
      std::fill(m->begin() + static_cast<std::ptrdiff_t>(words_ + 1),
                m->begin() + static_cast<std::ptrdiff_t>(written_ + 1), 0);
  written_ = words_;
  const Planes planes{digit_.data() + 1, sep_.data() + 1,  upper_.data() + 1, high_.data() + 1, dot_.data() + 1,
                      plus_.data() + 1,  stops_.data(),    lit_.data() + 1,   non_ascii_.data()};
  const ClassifyFn classify_blocks = portable_ ? classify_portable : classify;
  classify_blocks(line.data(), in_place, planes);
  classify_blocks(padded_.data(), words_ - in_place, planes.from(in_place));
  ascii_ = std::all_of(non_ascii_.begin(), non_ascii_.begin() + static_cast<std::ptrdiff_t>(words_),
                       [](std::uint64_t b) { return b == 0; });
  (portable_ ? hits_portable : find_hits)(planes, hits_.data(), words_);
}

// The per-string walk visits every cluster from its first digit and every literal start, in
// order; here only clusters holding a hit are walked (from the same first digit, with the
// same cluster_fires), and literal_at keeps exactly the literal starts among the other hits,
// so the fired bits and the windows, in the same order, are the same.
std::uint32_t LineIndex::walk_hits(std::size_t begin, std::size_t end, std::uint32_t mask,
                                   std::vector<Window>* windows) const {
  if (windows) windows->clear();
  std::uint32_t fired = 0;
  const std::string_view t = line_.substr(begin, end - begin);
  std::size_t key_covered = 0, email_covered = 0, cluster_end = 0;  // offsets in t
  const std::size_t last = (end - 1) / 64;
  for (std::size_t w = begin / 64; w <= last && mask; ++w) {
    std::uint64_t bits = hits_[w];
    if (w == begin / 64) bits &= ~std::uint64_t{0} << (begin % 64);
    if (w == last) bits &= ~std::uint64_t{0} >> (63 - (end - 1) % 64);
    while (bits && mask) {
      const std::size_t q = w * 64 + static_cast<std::size_t>(__builtin_ctzll(bits)) - begin;
      bits &= bits - 1;
      if (!is_digit(t[q])) {
        std::uint32_t lit = literal_at(t, q, mask);
        fired |= lit;
        if (windows && (lit & kTriggerSkDash)) {
          if (q >= key_covered) {
            key_covered = key_end(t, q);
            windows->push_back(window(q, key_covered, 1, t.size(), kTriggerSkDash));
          }
          lit &= ~kTriggerSkDash;
        }
        if (windows && (lit & kTriggerAt)) {
          if (q >= email_covered) {
            email_covered = email_end(t, q);
            windows->push_back(window(email_begin(t, q), email_covered, 1, t.size(), kTriggerAt));
          }
          lit &= ~kTriggerAt;
        }
        mask &= ~lit;
        continue;
      }
      if (!(mask & kDigitTriggers) || q < cluster_end) continue;
      const std::size_t at = cluster_start(t, q);
      std::uint32_t hit = cluster_fires(t, at, mask, cluster_end);
      fired |= hit;
      if (windows && (hit & kTriggerDigits)) {
        push_cluster_windows(*windows, at, cluster_end, t.size(), hit);
        hit &= ~kTriggerDigits;
      }
      mask &= ~hit;
    }
  }
  return fired;
}

}  // namespace auditship::redact
