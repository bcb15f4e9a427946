#include "auditship/common/units.h"

#include <gtest/gtest.h>

namespace auditship {
namespace {

TEST(Units, Durations) {
  EXPECT_EQ(parse_duration("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(parse_duration("2m"), std::chrono::minutes(2));
  EXPECT_EQ(parse_duration("1.5s"), std::chrono::milliseconds(1500));
  EXPECT_EQ(parse_duration("5"), std::nullopt) << "a duration needs a unit";
  EXPECT_EQ(parse_duration("5 parsecs"), std::nullopt);
  EXPECT_EQ(parse_duration("-1s"), std::nullopt);
  EXPECT_EQ(format_duration(std::chrono::minutes(2)), "2m");
  EXPECT_EQ(format_duration(std::chrono::milliseconds(1500)), "1500ms");
}

TEST(Units, Bytes) {
  EXPECT_EQ(parse_bytes("1048576"), 1048576u);
  EXPECT_EQ(parse_bytes("64MiB"), 64u << 20);
  EXPECT_EQ(parse_bytes("10MB"), 10000000u);
  EXPECT_EQ(parse_bytes("lots"), std::nullopt);
  EXPECT_EQ(format_bytes(64u << 20), "64MiB");
}

}  // namespace
}  // namespace auditship
