// Engine: what the custom detectors' prefilter database compiles.
#include "auditship/redact/engine.h"

#include <gtest/gtest.h>
#include <hs/hs.h>

#include <random>
#include <set>

namespace auditship::redact {
namespace {

TEST(PrefilterExpression, DropsOnlyARealTrailingWordBoundary) {
  EXPECT_EQ(prefilter_expression("\\bZ[0-9]{2}\\b"), "\\bZ[0-9]{2}");
  EXPECT_EQ(prefilter_expression("foo\\b|bar\\b"), "foo\\b|bar");
  EXPECT_EQ(prefilter_expression("x\\\\\\b"), "x\\\\") << "an escaped backslash, then \\b";
  EXPECT_EQ(prefilter_expression("x\\\\b"), "x\\\\b") << "a literal backslash and b";
  EXPECT_EQ(prefilter_expression("\\Qa\\b"), "\\Qa\\b") << "quoted text";
  EXPECT_EQ(prefilter_expression("\\b"), "\\b") << "never empty";
  EXPECT_EQ(prefilter_expression("ab"), "ab");
  EXPECT_EQ(prefilter_expression("\\bab"), "\\bab") << "a leading \\b stays";
  EXPECT_EQ(prefilter_expression("a\\B"), "a\\B");
}

// Every end Hyperscan reports for the pattern it also reports for the prefilter's expression,
// on random text of word and non-word bytes.
TEST(PrefilterExpression, ReportsEveryEndOfThePattern) {
  auto ends = [](const std::string& expression, const std::string& text) {
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    EXPECT_EQ(hs_compile(expression.c_str(), 0, HS_MODE_BLOCK, nullptr, &db, &err), HS_SUCCESS) << expression;
    hs_scratch_t* scratch = nullptr;
    hs_alloc_scratch(db, &scratch);
    std::set<unsigned long long> out;
    hs_scan(db, text.data(), static_cast<unsigned>(text.size()), 0, scratch,
            [](unsigned, unsigned long long, unsigned long long to, unsigned, void* p) -> int {
              static_cast<std::set<unsigned long long>*>(p)->insert(to);
              return 0;
            },
            &out);
    hs_free_scratch(scratch);
    hs_free_database(db);
    return out;
  };
  std::mt19937 rng(11);
  const std::string alphabet = "Z12a_ -.\\\"";
  std::string text;
  for (int i = 0; i < 20000; ++i) text += alphabet[rng() % alphabet.size()];
  for (const std::string expression : {"\\bZ[0-9]{2}\\b", "Z1\\b|a\\b", "[0-9]+\\b", "\\\\\\b"}) {
    const auto exact = ends(expression, text), prefilter = ends(prefilter_expression(expression), text);
    EXPECT_GT(exact.size(), 10u) << expression << " must match the text";
    EXPECT_GT(prefilter.size(), exact.size()) << expression << ": without \\b it matches more";
    for (auto e : exact) EXPECT_TRUE(prefilter.count(e)) << expression << " ends at " << e;
  }
}

}  // namespace
}  // namespace auditship::redact
