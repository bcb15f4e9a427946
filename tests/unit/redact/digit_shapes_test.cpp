// The direct digit matchers against Hyperscan itself: for each built-in digit expression, the
// (start, end) pairs match_digit_shape reports must be exactly those hs_scan reports with
// HS_FLAG_SOM_LEFTMOST on the same buffer, on random digit-heavy text (runs of every length,
// every separator, parentheses, '+', word and non-word neighbours, multi-byte UTF-8).
#include <hs/hs.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "auditship/redact/detectors.h"
#include "auditship/redact/digit_shapes.h"
#include "auditship/redact/engine.h"

namespace auditship::redact {
namespace {

using Pairs = std::vector<std::pair<std::uint32_t, std::uint32_t>>;

struct Compiled {
  std::string expression;
  DigitShape shape;
  hs_database_t* db = nullptr;
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

std::string random_text(std::mt19937_64& rng) {
  static const std::vector<std::string> pieces = {
      "0", "1", "2", "5", "9", "12", "123", "555", "800", "1234", "2125551234", "4111111111111111", "45", "6789",
      " ", " ", "-", "-", ".", ".", "(", ")", "+", "+1", "+1 ", "+44", "1 ", "1-", "1.", "_", "a", "Z", "x1",
      "\xc3\xa9", "/", ":", "@", "  ", "--", ". ", "192.168.1.1", "256.1.2.3", "(415)", "(415) ", "123-45-6789"};
  std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1), len(1, 16);
  std::string s;
  for (std::size_t i = 0, n = len(rng); i < n; ++i) s += pieces[pick(rng)];
  return s;
}

std::vector<Compiled> compile_builtin_digit_patterns() {
  std::vector<Compiled> out;
  for (const DetectorSpec& d : builtin_detectors())
    for (const PatternSpec& p : d.patterns) {
      const DigitShape shape = digit_shape_of(p.expression, p.flags);
      if (shape == DigitShape::kNone) continue;
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

// Every built-in pattern with a digit trigger has a direct matcher: a regex edited in
// detectors.cpp without its matcher would silently fall back to Hyperscan (correct, slower).
TEST(DigitShapesTest, EveryBuiltinDigitPatternHasAMatcher) {
  for (const DetectorSpec& d : builtin_detectors()) {
    for (const PatternSpec& p : d.patterns) {
      if (p.trigger & kTriggerDigits) {
        EXPECT_NE(digit_shape_of(p.expression, p.flags), DigitShape::kNone) << p.expression;
      }
    }
  }
  EXPECT_EQ(compile_builtin_digit_patterns().size(), 9u);
  EXPECT_EQ(digit_shape_of(R"(\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b)", HS_FLAG_CASELESS), DigitShape::kNone);
  EXPECT_EQ(digit_shape_of(R"(\b[0-9]{3}-[0-9]{2}-[0-9]{3,4}\b)", 0), DigitShape::kNone);
}

TEST(DigitShapesTest, EqualHyperscanStartOfMatch) {
  std::vector<Compiled> patterns = compile_builtin_digit_patterns();
  hs_scratch_t* scratch = nullptr;
  for (const Compiled& c : patterns) ASSERT_EQ(hs_alloc_scratch(c.db, &scratch), HS_SUCCESS);
  std::mt19937_64 rng(7);
  Pairs direct, tmp;
  std::size_t matched = 0;
  for (int i = 0; i < 60000; ++i) {
    const std::string s = random_text(rng);
    for (const Compiled& c : patterns) {
      direct.clear();
      match_digit_shape(c.shape, s, direct, tmp);
      std::sort(direct.begin(), direct.end());
      const Pairs expected = hyperscan_matches(c.db, scratch, s);
      matched += expected.size();
      ASSERT_EQ(direct, expected) << c.expression << " on \"" << s << "\"";
    }
  }
  EXPECT_GT(matched, 10000u);  // the generator reaches the shapes, not only their misses
  hs_free_scratch(scratch);
  for (Compiled& c : patterns) hs_free_database(c.db);
}

// Hand-picked edges: buffer edges (\b outside), adjacent word bytes, several ends from one
// start, several starts for one end.
TEST(DigitShapesTest, Edges) {
  auto run = [](DigitShape shape, const std::string& s) {
    Pairs out, tmp;
    match_digit_shape(shape, s, out, tmp);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(run(DigitShape::kSsn, "123-45-6789"), (Pairs{{0, 11}}));
  EXPECT_TRUE(run(DigitShape::kSsn, "_123-45-6789").empty());
  EXPECT_TRUE(run(DigitShape::kSsn, "123-45-67890").empty());
  EXPECT_EQ(run(DigitShape::kSsn, "\xc3\xa9" "123-45-6789-"), (Pairs{{2, 13}}));
  EXPECT_EQ(run(DigitShape::kIpv4, "1.2.3.4.5"), (Pairs{{0, 7}, {2, 9}}));
  EXPECT_TRUE(run(DigitShape::kIpv4, "1.2.3.4444").empty());
  EXPECT_EQ(run(DigitShape::kPhoneParen, "x(415) 555-2671"), (Pairs{{1, 15}}));
  EXPECT_EQ(run(DigitShape::kPhonePlusOne, "+1 (650) 253 0000"), (Pairs{{0, 17}}));
  EXPECT_EQ(run(DigitShape::kPhoneOne, "1-800-555-1234"), (Pairs{{0, 14}}));
  EXPECT_EQ(run(DigitShape::kNanp, "2125551234"), (Pairs{{0, 10}}));
  EXPECT_TRUE(run(DigitShape::kNanp, "1125551234").empty());
  // 13..19 digits: every end, the leftmost start for each.
  EXPECT_EQ(run(DigitShape::kCard, "4111 1111 1111 1111 1"), (Pairs{{0, 19}, {0, 21}}));
  EXPECT_EQ(run(DigitShape::kCard, "1 2 3 4 5 6 7 8 9 0 1 2 3 4"), (Pairs{{0, 25}, {0, 27}}));
  EXPECT_EQ(run(DigitShape::kE164, "+44 20 7946 0958"), (Pairs{{0, 11}, {0, 16}}));
  EXPECT_EQ(run(DigitShape::kE164, "+4912345678901234"), (Pairs{{0, 17}}));  // 2 + 14 after [2-9]
  EXPECT_EQ(run(DigitShape::kE164, "+4 1 2 3 4 5 6"), (Pairs{{0, 14}}));
  EXPECT_TRUE(run(DigitShape::kE164, "+4 1 2 3 4 5").empty());
}

// The Scanner uses the direct matchers for the digit triggers of the default detectors, and
// only when every pattern of a trigger is reproduced exactly.
TEST(DigitShapesTest, ScannerUsesThemOnlyForExactBuiltins) {
  auto defaults = Engine::compile(RedactConfig{});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(Scanner(*defaults).direct_triggers_for_test(), kTriggerDigits);

  std::vector<DetectorSpec> changed = builtin_detectors();
  for (DetectorSpec& d : changed)
    if (d.name == "ssn") d.patterns[0].expression = R"(\b[0-9]{3}-[0-9]{2}-[0-9]{3,4}\b)";
  auto engine = Engine::compile(std::move(changed));
  ASSERT_TRUE(engine.ok());
  EXPECT_EQ(Scanner(*engine).direct_triggers_for_test(), kTriggerDigits & ~kTriggerGroupOf4);
}

}  // namespace
}  // namespace auditship::redact
