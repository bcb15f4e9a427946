// The segment format on its own: a batch survives encode → frame → scan → decode with what the
// sinks need (and without the raw input lines), and the scan finds every intact frame around a
// flipped bit or a torn tail.
#include "auditship/buffer/segment.h"

#include <gtest/gtest.h>

#include "support/batches.h"

namespace auditship::buffer {
namespace {

using testing::make_batch;

BatchPtr sample(std::uint64_t first_offset = 0) {
  auto b = make_batch({{"{\"generation_id\":\"g1\",\"n\":1}"},
                       {"{\"reason\":\"x\"}", Disposition::kDeadLetter, DeadLetterReason::kInvalidJson},
                       {"{\"dup\":1}", Disposition::kDrop}},
                      "/logs/a.jsonl", first_offset);
  b->records[0].key = b->add_field("g1");
  b->records[0].generation_id = b->add_field("g1");
  b->records[0].user_id = b->add_field("u-7");
  b->records[0].timestamp = b->add_field("2026-12-05T00:00:00Z");
  b->records[0].total_cost = 0.25;
  return b;
}

TEST(Segment, FrameRoundTripKeepsWhatSinksShip) {
  BatchPtr in = sample(100);
  const std::string frame = encode_frame(*in);
  FrameScan s = scan_frame(frame, 0);
  ASSERT_EQ(s.kind, FrameScan::kFrame);
  EXPECT_EQ(s.end, frame.size());
  EXPECT_EQ(s.records, 3u);
  auto out = decode_frame(s);
  ASSERT_TRUE(out) << out.error();
  const Batch& b = **out;
  ASSERT_TRUE(b.source);
  EXPECT_EQ(b.source->path, in->source->path);
  EXPECT_EQ(b.source->id, in->source->id);
  EXPECT_EQ(b.begin_offset, in->begin_offset);
  EXPECT_EQ(b.end_offset, in->end_offset);
  ASSERT_EQ(b.records.size(), in->records.size());
  for (std::size_t i = 0; i < b.records.size(); ++i) {
    const Record &r = b.records[i], &w = in->records[i];
    EXPECT_EQ(b.payload(r), in->payload(w));
    EXPECT_EQ(r.file_offset, w.file_offset);
    EXPECT_EQ(r.line_bytes, w.line_bytes);
    EXPECT_EQ(r.disposition, w.disposition);
    EXPECT_EQ(r.reason, w.reason);
    EXPECT_EQ(r.total_cost, w.total_cost);
    EXPECT_EQ(b.field(r.key), in->field(w.key));
    EXPECT_EQ(b.field(r.user_id), in->field(w.user_id));
    EXPECT_EQ(b.field(r.timestamp), in->field(w.timestamp));
    EXPECT_TRUE(b.raw(r).empty()) << "raw input lines are never written to disk";
  }
}

TEST(Segment, RawInputIsNotSerialized) {
  BatchPtr b = sample();
  // A redacted payload lives in `output`; the original line (with the secret) only in `input`.
  b->input += "sk-or-v1-SECRETSECRET";
  const std::size_t start = b->output.size();
  b->output += "{\"key\":\"[REDACTED]\"}";
  b->set_output_payload(b->records[0], start);
  std::string raw;
  encode_batch(*b, raw);
  EXPECT_EQ(raw.find("SECRETSECRET"), std::string::npos);
  EXPECT_NE(raw.find("[REDACTED]"), std::string::npos);
}

TEST(Segment, ScanSkipsAFlippedBitAndStopsAtATornTail) {
  std::string seg = segment_header();
  std::vector<std::size_t> starts;
  for (int i = 0; i < 3; ++i) {
    starts.push_back(seg.size());
    seg += encode_frame(*sample(1000 * i));
  }
  const std::size_t end = seg.size();
  seg[starts[1] + kFrameHeaderBytes + 3] ^= 0x10;  // inside the middle frame's compressed bytes
  seg += encode_frame(*sample(9000)).substr(0, 20);  // a crash mid-write

  std::size_t pos = kSegmentHeaderBytes;
  FrameScan s = scan_frame(seg, pos);
  ASSERT_EQ(s.kind, FrameScan::kFrame);
  EXPECT_EQ(s.end, starts[1]);
  s = scan_frame(seg, s.end);
  ASSERT_EQ(s.kind, FrameScan::kCorrupt);
  EXPECT_EQ(s.begin, starts[1]);
  EXPECT_EQ(s.end, starts[2]) << "resynchronized on the next frame";
  s = scan_frame(seg, s.end);
  ASSERT_EQ(s.kind, FrameScan::kFrame);
  ASSERT_TRUE(decode_frame(s));
  EXPECT_EQ(s.end, end);
  s = scan_frame(seg, s.end);
  EXPECT_EQ(s.kind, FrameScan::kNeedMore) << "a torn tail is incomplete, not corrupt";
}

TEST(Segment, AFlippedLengthIsCaughtByTheHeaderHash) {
  std::string seg = encode_frame(*sample()) + encode_frame(*sample(500));
  const std::size_t second = encode_frame(*sample()).size();
  seg[5] ^= 0x40;  // compressed_len of the first frame claims 16 KiB more
  FrameScan s = scan_frame(seg, 0);
  ASSERT_EQ(s.kind, FrameScan::kCorrupt);
  EXPECT_EQ(s.end, second);
  EXPECT_EQ(scan_frame(seg, s.end).kind, FrameScan::kFrame);
}

TEST(Segment, GarbageWithoutAnyFrameIsOneCorruptRange) {
  const std::string junk(300, 'x');
  FrameScan s = scan_frame(junk, 0);
  ASSERT_EQ(s.kind, FrameScan::kCorrupt);
  EXPECT_EQ(s.end, junk.size());
  EXPECT_FALSE(valid_segment_header(junk));
  EXPECT_TRUE(valid_segment_header(segment_header()));
}

}  // namespace
}  // namespace auditship::buffer
