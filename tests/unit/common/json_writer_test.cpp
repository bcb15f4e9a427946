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

}  // namespace
}  // namespace auditship::json
