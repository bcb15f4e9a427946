// The direct matchers against Hyperscan itself: for each built-in digit expression, the
// (start, end) pairs match_shape reports must be exactly those hs_scan reports with
// HS_FLAG_SOM_LEFTMOST on the same buffer; for the key and email expressions, the longest of
// those per start. On random text built to sit on their edges (runs of every length, every
// separator, parentheses, '+', '@', dots, key prefixes, word and non-word neighbours, UTF-8).
#include <hs/hs.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "auditship/redact/detectors.h"
#include "auditship/redact/direct_match.h"
#include "auditship/redact/engine.h"

namespace auditship::redact {
namespace {

using Pairs = std::vector<std::pair<std::uint32_t, std::uint32_t>>;

struct Compiled {
  std::string expression;
  Shape shape;
  hs_database_t* db = nullptr;
};

// Owns what compile_builtin_shapes() returns (LeakSanitizer runs these tests).
struct CompiledSet {
  std::vector<Compiled> items;
  explicit CompiledSet(std::vector<Compiled> v) : items(std::move(v)) {}
  CompiledSet(const CompiledSet&) = delete;
  CompiledSet& operator=(const CompiledSet&) = delete;
  ~CompiledSet() {
    for (Compiled& c : items) hs_free_database(c.db);
  }
};

Pairs hyperscan_matches(const hs_database_t* db, hs_scratch_t* scratch, const std::string& s) {
  Pairs out;
  auto on_match = [](unsigned, unsigned long long from, unsigned long long to, unsigned, void* p) -> int {
    static_cast<Pairs*>(p)->emplace_back(static_cast<std::uint32_t>(from), static_cast<std::uint32_t>(to));
    return 0;
  };
  EXPECT_EQ(hs_scan(db, s.data(), static_cast<unsigned>(s.size()), 0, scratch, on_match, &out), HS_SUCCESS);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string random_text(std::mt19937_64& rng, const std::vector<std::string>& pieces) {
  std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1), len(1, 16);
  std::string s;
  for (std::size_t i = 0, n = len(rng); i < n; ++i) s += pieces[pick(rng)];
  return s;
}

const std::vector<std::string> kDigitPieces = {
    "0", "1", "2", "5", "9", "12", "123", "555", "800", "1234", "2125551234", "4111111111111111", "45", "6789",
    " ", " ", "-", "-", ".", ".", "(", ")", "+", "+1", "+1 ", "+44", "1 ", "1-", "1.", "_", "a", "Z", "x1",
    "\xc3\xa9", "/", ":", "@", "  ", "--", ". ", "192.168.1.1", "256.1.2.3", "(415)", "(415) ", "123-45-6789",
    "212-555-1234", "212.555.1234", "212 555 1234", "(415) 555-2671", "(415)555-2671", "+1 (650) 253-0000",
    "1-800-555-1234", "1 (800) 555-1234", "+1-212-555-1234", "555-1234", "555 1234"};
const std::vector<std::string> kKeyAndEmailPieces = {
    "sk-", "sk-or-v1-", "sk-ant-", "sk-proj-", "sk-admin-", "svcacct-", "abcdefghij", "ABCDEFGHIJ0123456789", "_",
    "-", "--", "a", "Z", "0", "7", "@", "@", ".", ".", "..", "%", "+", " ", "x", "co", "com", "c0m", "uk", "a.b",
    "john.doe", "example", "-ex", "\xc3\xa9", "/", ":", "user@", "@example.com", "x@y.io", "e"};

std::vector<Compiled> compile_builtin_shapes() {
  std::vector<Compiled> out;
  for (const DetectorSpec& d : builtin_detectors())
    for (const PatternSpec& p : d.patterns) {
      const Shape shape = p.shape;
      if (shape == Shape::kNone) continue;
      Compiled c{p.expression, shape};
      hs_compile_error_t* err = nullptr;
      EXPECT_EQ(hs_compile(p.expression.c_str(), HS_FLAG_SOM_LEFTMOST, HS_MODE_BLOCK, nullptr, &c.db, &err),
                HS_SUCCESS)
          << p.expression;
      hs_free_compile_error(err);
      out.push_back(c);
    }
  return out;
}

// Every built-in pattern with a windowed trigger names a direct matcher, each a different one,
// and without extra flags (the matchers reproduce the expressions as compiled without flags).
TEST(DirectMatchTest, EveryWindowedBuiltinHasItsOwnMatcher) {
  std::vector<Shape> seen;
  for (const DetectorSpec& d : builtin_detectors()) {
    for (const PatternSpec& p : d.patterns) {
      if (p.trigger & kWindowedTriggers) {
        EXPECT_NE(p.shape, Shape::kNone) << p.expression;
      }
      if (p.shape == Shape::kNone) continue;
      EXPECT_EQ(p.flags, 0u) << p.expression;
      EXPECT_EQ(std::count(seen.begin(), seen.end(), p.shape), 0) << p.expression;
      seen.push_back(p.shape);
    }
  }
  EXPECT_EQ(seen.size(), 13u);
}

// For the key and email shapes: of Hyperscan's (leftmost start, end) pairs, the longest per start.
Pairs longest_per_start(const Pairs& sorted) {
  Pairs out;
  for (const auto& p : sorted) {
    if (!out.empty() && out.back().first == p.first) out.back().second = std::max(out.back().second, p.second);
    else out.push_back(p);
  }
  return out;
}

TEST(DirectMatchTest, EqualHyperscanStartOfMatch) {
  CompiledSet set(compile_builtin_shapes());
  const std::vector<Compiled>& patterns = set.items;
  hs_scratch_t* scratch = nullptr;
  for (const Compiled& c : patterns) ASSERT_EQ(hs_alloc_scratch(c.db, &scratch), HS_SUCCESS);
  std::mt19937_64 rng(7);
  Pairs direct, tmp;
  std::vector<std::size_t> matched(patterns.size());
  for (int i = 0; i < 120000; ++i) {
    const std::string s = random_text(rng, i % 2 ? kDigitPieces : kKeyAndEmailPieces);
    for (std::size_t k = 0; k < patterns.size(); ++k) {
      const Compiled& c = patterns[k];
      direct.clear();
      match_shape(c.shape, s, direct, tmp);
      std::sort(direct.begin(), direct.end());
      Pairs expected = hyperscan_matches(c.db, scratch, s);
      if (c.shape >= kFirstLongestShape) expected = longest_per_start(expected);
      matched[k] += expected.size();
      ASSERT_EQ(direct, expected) << c.expression << " on \"" << s << "\"";
    }
  }
  // The generators reach every shape, not only its misses.
  for (std::size_t k = 0; k < patterns.size(); ++k) EXPECT_GT(matched[k], 200u) << patterns[k].expression;
  hs_free_scratch(scratch);
}

// Hand-picked edges: buffer edges (\b outside), adjacent word bytes, several ends from one
// start, several starts for one end.
TEST(DirectMatchTest, Edges) {
  auto run = [](Shape shape, const std::string& s) {
    Pairs out, tmp;
    match_shape(shape, s, out, tmp);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(run(Shape::kSsn, "123-45-6789"), (Pairs{{0, 11}}));
  EXPECT_TRUE(run(Shape::kSsn, "_123-45-6789").empty());
  EXPECT_TRUE(run(Shape::kSsn, "123-45-67890").empty());
  EXPECT_EQ(run(Shape::kSsn, "\xc3\xa9" "123-45-6789-"), (Pairs{{2, 13}}));
  EXPECT_EQ(run(Shape::kIpv4, "1.2.3.4.5"), (Pairs{{0, 7}, {2, 9}}));
  EXPECT_TRUE(run(Shape::kIpv4, "1.2.3.4444").empty());
  EXPECT_EQ(run(Shape::kPhoneParen, "x(415) 555-2671"), (Pairs{{1, 15}}));
  EXPECT_EQ(run(Shape::kPhonePlusOne, "+1 (650) 253 0000"), (Pairs{{0, 17}}));
  EXPECT_EQ(run(Shape::kPhoneOne, "1-800-555-1234"), (Pairs{{0, 14}}));
  EXPECT_EQ(run(Shape::kNanp, "2125551234"), (Pairs{{0, 10}}));
  EXPECT_TRUE(run(Shape::kNanp, "1125551234").empty());
  // 13..19 digits: every end, the leftmost start for each.
  EXPECT_EQ(run(Shape::kCard, "4111 1111 1111 1111 1"), (Pairs{{0, 19}, {0, 21}}));
  EXPECT_EQ(run(Shape::kCard, "1 2 3 4 5 6 7 8 9 0 1 2 3 4"), (Pairs{{0, 25}, {0, 27}}));
  EXPECT_EQ(run(Shape::kE164, "+44 20 7946 0958"), (Pairs{{0, 11}, {0, 16}}));
  EXPECT_EQ(run(Shape::kE164, "+4912345678901234"), (Pairs{{0, 17}}));  // 2 + 14 after [2-9]
  EXPECT_EQ(run(Shape::kE164, "+4 1 2 3 4 5 6"), (Pairs{{0, 14}}));
  EXPECT_TRUE(run(Shape::kE164, "+4 1 2 3 4 5").empty());
  // Keys: the longest end of each leftmost start; a key inside a key has no start of its own.
  EXPECT_EQ(run(Shape::kOpenRouterKey, "sk-or-v1-abc"), (Pairs{{0, 12}}));
  EXPECT_TRUE(run(Shape::kOpenRouterKey, "xsk-or-v1-abc").empty());
  EXPECT_EQ(run(Shape::kOpenAiKey, "sk-aaaaaaaaaaaaaaaaaaaa-sk-bbbbbbbbbbbbbbbbbbbbbbbb"), (Pairs{{0, 51}}));
  EXPECT_TRUE(run(Shape::kOpenAiKey, "sk-aaaaaaaaaaaaaaaaaaa").empty());  // 19 after "sk-"
  // Emails: leftmost start with \b, longest domain, one match per '@'.
  EXPECT_EQ(run(Shape::kEmail, "..john.doe@example.co.uk."), (Pairs{{2, 24}}));
  EXPECT_EQ(run(Shape::kEmail, "x@y@z.io"), (Pairs{{2, 8}}));
  EXPECT_EQ(run(Shape::kEmail, "a@b.co-uk"), (Pairs{{0, 6}}));
  EXPECT_TRUE(run(Shape::kEmail, "a@b..co").empty());
  EXPECT_TRUE(run(Shape::kEmail, "a@b.c0m").empty());
}

// The Scanner uses the direct matchers for the windowed triggers of the default detectors,
// and only when every pattern of a trigger names its matcher.
TEST(DirectMatchTest, ScannerUsesThemOnlyWhereEveryPatternHasOne) {
  auto defaults = Engine::compile(RedactConfig{});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(Scanner(*defaults).direct_triggers_for_test(), kWindowedTriggers);

  std::vector<DetectorSpec> changed = builtin_detectors();
  for (DetectorSpec& d : changed) {
    // An edited built-in without a matcher: its trigger's windows go back to Hyperscan.
    if (d.name == "ssn") {
      d.patterns[0].expression = R"(\b[0-9]{3}-[0-9]{2}-[0-9]{3,4}\b)";
      d.patterns[0].shape = Shape::kNone;
    }
    // A validator that looks at the end: the email matcher's longest-per-start answer no longer suffices.
    if (d.name == "email") d.patterns[0].validator = Validator::kLuhn;
  }
  auto engine = Engine::compile(std::move(changed));
  ASSERT_TRUE(engine.ok());
  EXPECT_EQ(Scanner(*engine).direct_triggers_for_test(), kWindowedTriggers & ~kTriggerGroupOf4 & ~kTriggerAt);
}

}  // namespace
}  // namespace auditship::redact
