// libFuzzer target for the disk buffer's segment reader (buffer/segment.h): what replay does
// with whatever bytes a crash, a bad disk or an attacker with access to state_dir leaves.
//
// Byte 0 picks the mode:
//  - even: the rest is a segment's bytes. The scan must always advance, stay in bounds and end;
//    a frame that decodes must survive encode → scan → decode again with the same records.
//  - odd: the rest makes 1..6 batches (payloads cut from the input), written as a real segment;
//    one byte of one frame is flipped and the tail may be torn. Every untouched frame must
//    still be replayed, in order, with its exact payloads (the damaged one never is, since
//    every byte of a frame is covered by a hash; a payload that embeds a whole valid frame may
//    add one, so the check is "a subsequence", not "equal").
// Build/run: see redact_fuzz.cpp; ctest runs it 45 s. Longer:
//   build-asan/tests/fuzz/segment_fuzz -max_total_time=3600 -jobs=2 /tmp/scorpus tests/fuzz/corpus/segment
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "auditship/buffer/segment.h"

namespace {

using namespace auditship;

[[noreturn]] void fail(const char* what, std::uint64_t a, std::uint64_t b) {
  std::fprintf(stderr, "PROPERTY VIOLATED: %s (%llu vs %llu)\n", what, static_cast<unsigned long long>(a),
               static_cast<unsigned long long>(b));
  std::abort();
}

std::vector<std::string> payloads_of(const Batch& b) {
  std::vector<std::string> out;
  for (const Record& r : b.records) out.emplace_back(b.payload(r));
  return out;
}

// Every batch the reader replays from `seg`, as the disk buffer's replay does (header, then
// frames, skipping corrupt ranges, stopping at an incomplete tail).
std::vector<std::vector<std::string>> replay(std::string_view seg) {
  std::vector<std::vector<std::string>> out;
  if (!buffer::valid_segment_header(seg)) return out;
  std::size_t pos = buffer::kSegmentHeaderBytes;
  while (pos < seg.size()) {
    buffer::FrameScan s = buffer::scan_frame(seg, pos);
    if (s.kind == buffer::FrameScan::kNeedMore) break;
    if (s.begin != pos || s.end <= pos || s.end > seg.size()) fail("scan did not advance in bounds", s.end, pos);
    pos = s.end;
    if (s.kind != buffer::FrameScan::kFrame) continue;
    auto batch = buffer::decode_frame(s);
    if (!batch) continue;  // quarantined by the replay
    // What replay rebuilt ships the same after another trip through the format.
    const std::string again = buffer::encode_frame(**batch);
    buffer::FrameScan t = buffer::scan_frame(again, 0);
    if (t.kind != buffer::FrameScan::kFrame || t.end != again.size()) fail("re-encoded frame does not scan", t.end, again.size());
    auto back = buffer::decode_frame(t);
    if (!back) fail("re-encoded frame does not decode", 0, 0);
    if (payloads_of(**back) != payloads_of(**batch)) fail("re-encoded payloads differ", 0, 0);
    out.push_back(payloads_of(**batch));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((data[0] & 1) == 0) {
    replay(in);
    // The same bytes behind a valid header (most inputs lack one).
    replay(buffer::segment_header() + std::string(in));
    return 0;
  }
  if (in.size() < 4) return 0;
  // in[0]: batches; in[1]: which frame to damage; in[2]: where in it; in[3]: torn tail bytes.
  const std::size_t batches = 1 + static_cast<unsigned char>(in[0]) % 6;
  const std::string_view body = in.substr(4);
  std::string seg = buffer::segment_header();
  std::vector<std::pair<std::size_t, std::size_t>> frames;
  std::vector<std::vector<std::string>> expect;
  const std::size_t chunk = body.size() / batches + 1;
  for (std::size_t i = 0; i < batches; ++i) {
    Batch b;
    const std::string_view part = body.substr(std::min(body.size(), i * chunk), chunk);
    // Records of up to 16 bytes each.
    for (std::size_t at = 0; at < part.size(); at += 16) {
      Record r;
      r.file_offset = i * 1000 + at;
      const std::size_t start = b.output.size();
      b.output.append(part.substr(at, 16));
      b.set_output_payload(r, start);
      b.records.push_back(r);
    }
    const std::size_t begin = seg.size();
    seg += buffer::encode_frame(b);
    frames.emplace_back(begin, seg.size());
    expect.push_back(payloads_of(b));
  }
  const std::size_t damaged = static_cast<unsigned char>(in[1]) % batches;
  const auto [begin, end] = frames[damaged];
  seg[begin + static_cast<unsigned char>(in[2]) % (end - begin)] ^= 0x20;
  const std::size_t torn = static_cast<unsigned char>(in[3]) % 8;
  if (torn > 0) seg.resize(seg.size() - std::min<std::size_t>(torn, frames.back().second - frames.back().first));
  const std::size_t intact = torn > 0 ? batches - 1 : batches;

  const auto got = replay(seg);
  std::size_t j = 0;
  for (std::size_t i = 0; i < intact; ++i) {
    if (i == damaged) continue;
    while (j < got.size() && got[j] != expect[i]) ++j;
    if (j == got.size()) fail("an intact frame was not replayed", i, damaged);
    ++j;
  }
  return 0;
}
