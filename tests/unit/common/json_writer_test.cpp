#include "auditship/common/json_writer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

namespace auditship::json {
namespace {

TEST(JsonWriter, EscapesControlQuotesAndInvalidUtf8) {
  std::string out;
  append_string(out, std::string("a\"b\\c\n\x01\xff\xc3\xa9", 10));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\\u00ff\xc3\xa9\"");
  simdjson::dom::parser p;
  EXPECT_FALSE(p.parse(out).error());
}

TEST(JsonWriter, NumbersAndNonFinite) {
  std::string out;
  append_number(out, 0.25);
  out += ',';
  append_number(out, std::numeric_limits<double>::infinity());
  out += ',';
  append_number(out, std::uint64_t{18446744073709551615ull});
  EXPECT_EQ(out, "0.25,null,18446744073709551615");
}

// Found by generation_fuzz: a total_cost of 44444444444444444444440.004206 printed as the
// integer 4444444444444444327936, which simdjson rejects as too big for an integer type.
TEST(JsonWriter, HugeDoublesStayReadableJsonNumbers) {
  simdjson::dom::parser parser;
  for (double v : {4.444444444444444e21, -1e300, 1e15, 123456789012345.0, 0.002643, 5e-324}) {
    std::string out;
    append_number(out, v);
    double back = 0;
    ASSERT_EQ(parser.parse(out).get(back), simdjson::SUCCESS) << out;
    EXPECT_EQ(back, v) << out;
  }
  std::string out;
  append_number(out, 0.002643);
  EXPECT_EQ(out, "0.002643") << "ordinary costs keep their plain form";
}

}  // namespace
}  // namespace auditship::json
