#include "auditship/tail/line_splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace auditship::tail {
namespace {

struct Line {
  std::uint64_t offset = 0, bytes = 0;
  std::string raw;
  DeadLetterReason reason = DeadLetterReason::kNone;
  bool operator==(const Line&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Line& l) {
  return os << "{" << l.offset << "," << l.bytes << ",'" << l.raw << "'," << reason_name(l.reason) << "}";
}

// One read: what the splitter produces when `chunk` follows what it held.
struct Fed {
  std::vector<Line> lines;
  std::uint64_t end = 0;
  std::string input;
  std::vector<Record> records;
};

Fed feed(LineSplitter& s, const std::string& chunk) {
  Fed f;
  s.begin(f.input);
  f.input.append(chunk);
  f.end = s.split(f.input, f.records);
  for (const Record& r : f.records) {
    EXPECT_LE(r.raw.offset + r.raw.length, f.input.size());
    EXPECT_EQ(r.payload.offset, r.raw.offset);
    EXPECT_EQ(r.payload.length, r.raw.length);
    f.lines.push_back({r.file_offset, r.line_bytes, f.input.substr(r.raw.offset, r.raw.length), r.reason});
  }
  return f;
}

TEST(LineSplitterTest, RecordsAreSlicesOfTheInput) {
  LineSplitter s(100, 16);
  s.reset(0);
  Fed f = feed(s, "{\"a\":1}\n{\"b\":2}\n");
  EXPECT_EQ(f.lines, (std::vector<Line>{{0, 8, "{\"a\":1}"}, {8, 8, "{\"b\":2}"}}));
  EXPECT_EQ(f.records[0].raw.offset, 0u);
  EXPECT_EQ(f.records[1].raw.offset, 8u);
  EXPECT_EQ(f.end, 16u);
  EXPECT_EQ(s.read_offset(), 16u);
  EXPECT_EQ(s.held_bytes(), 0u);
}

TEST(LineSplitterTest, HoldsThePartialLastLineUntilItsNewline) {
  LineSplitter s(100, 16);
  s.reset(0);
  Fed f1 = feed(s, "one\ntw");
  EXPECT_EQ(f1.lines, (std::vector<Line>{{0, 4, "one"}}));
  EXPECT_EQ(f1.end, 4u);
  EXPECT_EQ(s.held_bytes(), 2u);
  EXPECT_EQ(s.read_offset(), 6u);

  Fed f2 = feed(s, "o");  // still no newline: nothing, the line keeps growing
  EXPECT_TRUE(f2.lines.empty());
  EXPECT_EQ(f2.end, 4u);

  Fed f3 = feed(s, "\nthree\n");
  EXPECT_EQ(f3.lines, (std::vector<Line>{{4, 4, "two"}, {8, 6, "three"}}));
  EXPECT_EQ(f3.end, 14u);
}

TEST(LineSplitterTest, LeavesCrLfAsIs) {
  LineSplitter s(100, 16);
  s.reset(0);
  Fed f = feed(s, "a\r\nb\r\n");
  EXPECT_EQ(f.lines, (std::vector<Line>{{0, 3, "a\r"}, {3, 3, "b\r"}}));
}

TEST(LineSplitterTest, SkipsEmptyLinesButCoversTheirBytes) {
  LineSplitter s(100, 16);
  s.reset(10);
  Fed f = feed(s, "\n\na\n\n");
  EXPECT_EQ(f.lines, (std::vector<Line>{{12, 2, "a"}}));
  EXPECT_EQ(f.end, 15u);  // past the trailing blank line too
  Fed only_blank = feed(s, "\n");
  EXPECT_TRUE(only_blank.lines.empty());
  EXPECT_EQ(only_blank.end, 16u);
}

TEST(LineSplitterTest, LineOfExactlyMaxBytesIsShipped) {
  LineSplitter s(5, 3);
  s.reset(0);
  Fed f1 = feed(s, "12345");
  EXPECT_TRUE(f1.lines.empty());
  EXPECT_FALSE(s.skipping());
  Fed f2 = feed(s, "\n");
  EXPECT_EQ(f2.lines, (std::vector<Line>{{0, 6, "12345"}}));
}

TEST(LineSplitterTest, OverLongLineInOneReadIsAPreview) {
  LineSplitter s(5, 3);
  s.reset(0);
  Fed f = feed(s, "ok\n123456\nok\n");
  ASSERT_EQ(f.lines.size(), 3u);
  EXPECT_EQ(f.lines[0], (Line{0, 3, "ok"}));
  EXPECT_EQ(f.lines[1], (Line{3, 7, "123", DeadLetterReason::kLineTooLong}));
  EXPECT_EQ(f.records[1].disposition, Disposition::kDeadLetter);
  EXPECT_EQ(f.lines[2], (Line{10, 3, "ok"}));
}

TEST(LineSplitterTest, OverLongLineAcrossReadsKeepsOnlyItsPreview) {
  LineSplitter s(10, 4);
  s.reset(100);
  Fed f1 = feed(s, "ok\nabcdefghijkl");  // 12 bytes of a line, over the limit: skipping starts
  EXPECT_EQ(f1.lines, (std::vector<Line>{{100, 3, "ok"}}));
  EXPECT_TRUE(s.skipping());
  EXPECT_EQ(s.held_bytes(), 4u);
  for (int i = 0; i < 50; ++i) {
    Fed mid = feed(s, std::string(1000, 'x'));
    EXPECT_TRUE(mid.lines.empty());
    EXPECT_EQ(mid.end, 103u);  // the long line is not complete: nothing committed past its start
    EXPECT_EQ(s.held_bytes(), 4u) << "memory must stay bounded while skipping";
  }
  Fed last = feed(s, "zz\nnext\n");
  const std::uint64_t line_bytes = 12 + 50 * 1000 + 3;
  ASSERT_EQ(last.lines.size(), 2u);
  EXPECT_EQ(last.lines[0], (Line{103, line_bytes, "abcd", DeadLetterReason::kLineTooLong}));
  EXPECT_EQ(last.lines[1], (Line{103 + line_bytes, 5, "next"}));
  EXPECT_FALSE(s.skipping());
}

TEST(LineSplitterTest, PreviewGrowsWhenTheLimitIsBelowThePreviewSize) {
  // max_line_bytes under the preview size: the preview is the first bytes of the line even if
  // the skipping started before a full preview had been read.
  LineSplitter s(3, 8);
  s.reset(0);
  feed(s, "abcd");
  EXPECT_TRUE(s.skipping());
  Fed f = feed(s, "efghijk\n");
  EXPECT_EQ(f.lines, (std::vector<Line>{{0, 12, "abcdefgh", DeadLetterReason::kLineTooLong}}));
}

TEST(LineSplitterTest, StartingMidLineDropsThatLine) {
  LineSplitter s(100, 16);
  s.reset(7, /*mid_line=*/true);
  Fed f1 = feed(s, "rest of");
  EXPECT_TRUE(f1.lines.empty());
  EXPECT_EQ(s.held_bytes(), 0u);
  Fed f2 = feed(s, " it\nwhole\n");
  EXPECT_EQ(f2.lines, (std::vector<Line>{{18, 6, "whole"}}));
}

TEST(LineSplitterTest, AbortKeepsTheHeldLine) {
  LineSplitter s(100, 16);
  s.reset(0);
  feed(s, "a\npart");
  std::string input;
  s.begin(input);
  EXPECT_EQ(input, "part");
  input.append("garbage that was never read");
  s.abort(input);
  EXPECT_EQ(s.held_bytes(), 4u);
  Fed f = feed(s, "ial\n");
  EXPECT_EQ(f.lines, (std::vector<Line>{{2, 8, "partial"}}));
}

}  // namespace
}  // namespace auditship::tail
