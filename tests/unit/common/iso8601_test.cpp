#include "auditship/common/iso8601.h"

#include <gtest/gtest.h>

namespace auditship::iso8601 {
namespace {

TEST(Iso8601, ParsesZonesAndFractions) {
  EXPECT_EQ(parse_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_ms("1970-01-01T00:00:01z"), 1000);
  EXPECT_EQ(parse_ms("2026-12-04T10:00:00Z"), 1796378400000);
  EXPECT_EQ(parse_ms("2026-12-04t10:00:00Z"), 1796378400000);
  EXPECT_EQ(parse_ms("2026-12-04 10:00:00Z"), 1796378400000);
  EXPECT_EQ(parse_ms("2026-12-04T12:00:00.5+02:00"), 1796378400500);
  EXPECT_EQ(parse_ms("2026-12-04T05:00:00.123456-0500"), 1796378400123);
  EXPECT_EQ(parse_ms("2024-07-15T23:33:19.433273+00:00"), 1721086399433);  // OpenRouter's created_at
  EXPECT_EQ(parse_ms("2000-02-29T00:00:00Z"), 951782400000);
  EXPECT_EQ(parse_ms("1969-12-31T23:59:59.250Z"), -750);
}

TEST(Iso8601, RejectsWhatIsNotATimestamp) {
  for (const char* bad : {"", "yesterday", "2026-13-04T10:00:00Z", "2026-12-32T10:00:00Z", "2026-12-04T24:00:00Z",
                          "2026-12-04X10:00:00Z", "2026-12-04T10:00Z", "2026-12-04T10:00:00.Z",
                          "2026-12-04T10:00:00+02", "2026-12-04T10:00:00+2:00", "2026-12-04T10:00:00+24:00",
                          "2026-12-04T10:00:00Zjunk", "2026-12-04T10:00:00+02:00junk", "2026-12-04T10:00:00 Z"}) {
    EXPECT_FALSE(parse_ms(bad)) << bad;
    EXPECT_FALSE(parse_ms(bad, Zone::kUtcIfMissing)) << bad;
  }
}

TEST(Iso8601, AZonelessTimeIsTheCallersChoice) {
  EXPECT_FALSE(parse_ms("2026-12-04T10:00:00"));
  EXPECT_FALSE(parse_ms("2026-12-04T10:00:00.250"));
  EXPECT_EQ(parse_ms("2026-12-04T10:00:00", Zone::kUtcIfMissing), 1796378400000);
  EXPECT_EQ(parse_ms("2026-12-04T10:00:00.250", Zone::kUtcIfMissing), 1796378400250);
}

TEST(Iso8601, PrintsWhatItParses) {
  std::string s;
  append(s, 1721086399433);
  EXPECT_EQ(s, "2024-07-15T23:33:19.433Z");
  for (std::int64_t ms : {std::int64_t{0}, std::int64_t{-750}, std::int64_t{951782400000}, std::int64_t{4102444799999}}) {
    std::string printed;
    append(printed, ms);
    EXPECT_EQ(parse_ms(printed), ms) << printed;
  }
}

}  // namespace
}  // namespace auditship::iso8601
