// RedactConfig::validate(): what `auditship check` reports for the redact section.
#include "auditship/redact/redact_config.h"

#include <gtest/gtest.h>

namespace auditship::redact {
namespace {

std::vector<config::Problem> problems_of(const RedactConfig& c) {
  std::vector<config::Problem> problems;
  std::map<std::string, int> lines;
  config::Checker check(problems, lines, "redact");
  c.validate(check);
  return problems;
}

TEST(RedactConfigTest, DefaultsAreValid) { EXPECT_TRUE(problems_of(RedactConfig{}).empty()); }

TEST(RedactConfigTest, BadPatternIsReportedWithTheDetectorName) {
  RedactConfig c;
  c.custom.push_back({"employee_id", "EMP-[0-9]{6}", "[E]", "none"});
  c.custom.push_back({"broken", "abc(", "[X]", "none"});
  auto p = problems_of(c);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].path, "redact.custom[1].pattern");
  EXPECT_NE(p[0].message.find("'broken'"), std::string::npos) << p[0].message;
}

TEST(RedactConfigTest, EveryProblemIsReported) {
  RedactConfig c;
  c.disable = {"ipv4", "nope"};
  c.custom.push_back({"email", "x+", "[X]", "crc"});
  c.custom.push_back({"", "", "", "none"});
  c.fields = {{"a", "scramble"}, {"b..c", "keep"}, {"d", "hash"}};
  auto p = problems_of(c);
  std::string all;
  for (const auto& x : p) all += x.path + ": " + x.message + "\n";
  for (const char* expected : {"redact.disable", "redact.custom[0].name", "redact.custom[0].validator",
                               "redact.custom[1].name", "redact.custom[1].pattern", "redact.fields.a",
                               "redact.fields.b..c"})
    EXPECT_NE(all.find(expected), std::string::npos) << expected << "\n" << all;
  // `hash` without a configured key is fine: the agent generates one (hash_key_test.cpp).
  EXPECT_EQ(all.find("redact.fields.d"), std::string::npos) << all;
}

TEST(RedactConfigTest, EmptyMatchingPatternIsRejected) {
  RedactConfig c;
  c.custom.push_back({"empty", "a*", "[X]", "none"});
  EXPECT_EQ(problems_of(c).size(), 1u);
}

}  // namespace
}  // namespace auditship::redact
