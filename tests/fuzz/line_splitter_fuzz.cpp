// libFuzzer target for the tailer's LineSplitter: a file's bytes arrive in reads of arbitrary
// sizes (chosen by the input), sometimes a read fails and is retried (abort()).
//
// Properties checked against a one-pass reference split of the whole file:
//  - the records are exactly the non-empty lines, in order, with their file offsets and sizes
//    (newline included); a line longer than max_line_bytes is a kLineTooLong dead letter whose
//    raw bytes are the first preview_bytes of the line; every other raw equals its line;
//  - line_offset() after each read is the offset after the last newline read so far, and the
//    held bytes never exceed max_line_bytes (+ the read) — memory stays bounded.
//
// Input layout: byte 0 = max_line_bytes (1..64), byte 1 = preview (1..16), then blocks of
// [1 length byte][that many file bytes]; a length byte with the high bit set also aborts once.
// Build/run: see redact_fuzz.cpp; ctest runs it AUDITSHIP_FUZZ_SECONDS (10 s). Longer:
//   build-asan/tests/fuzz/line_splitter_fuzz -max_total_time=3600 -jobs=2 /tmp/lcorpus
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "auditship/tail/line_splitter.h"

namespace {

[[noreturn]] void fail(const char* what, std::uint64_t a, std::uint64_t b) {
  std::fprintf(stderr, "PROPERTY VIOLATED: %s (%llu vs %llu)\n", what, static_cast<unsigned long long>(a),
               static_cast<unsigned long long>(b));
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace auditship;
  if (size < 2) return 0;
  const std::uint64_t max_line = 1 + data[0] % 64;
  const std::size_t preview = 1 + data[1] % 16;
  tail::LineSplitter splitter(max_line, preview);
  splitter.reset(0);

  std::string file;  // every byte fed so far, to compare with
  struct Got {
    std::uint64_t offset, bytes;
    std::string raw;
    bool too_long;
  };
  std::vector<Got> got;
  std::size_t at = 2;
  while (at < size) {
    const std::uint8_t len_byte = data[at++];
    const std::size_t len = std::min<std::size_t>(len_byte & 0x7f, size - at);
    std::string input;
    if (len_byte & 0x80) {  // a failed read: begin, then abort, then the real read
      splitter.begin(input);
      input.append("garbage that must not stick");
      splitter.abort(input);
    }
    splitter.begin(input);
    if (input.size() > max_line + preview + 128) fail("held bytes exceed the bound", input.size(), max_line);
    input.append(reinterpret_cast<const char*>(data + at), len);
    file.append(reinterpret_cast<const char*>(data + at), len);
    at += len;
    std::vector<Record> records;
    const std::uint64_t end = splitter.split(input, records);
    for (const Record& r : records)
      got.push_back({r.file_offset, r.line_bytes, std::string(input, r.raw.offset, r.raw.length),
                     r.reason == DeadLetterReason::kLineTooLong});
    const auto last_nl = file.rfind('\n');
    const std::uint64_t expect_end = last_nl == std::string::npos ? 0 : last_nl + 1;
    if (end != expect_end || splitter.line_offset() != expect_end) fail("line_offset", end, expect_end);
    if (splitter.read_offset() != file.size()) fail("read_offset", splitter.read_offset(), file.size());
  }

  std::size_t i = 0, begin = 0;
  for (std::size_t nl; (nl = file.find('\n', begin)) != std::string::npos; begin = nl + 1) {
    const std::size_t length = nl - begin;
    if (length == 0) continue;
    if (i >= got.size()) fail("a line has no record", begin, got.size());
    const Got& g = got[i++];
    if (g.offset != begin) fail("record offset", g.offset, begin);
    if (g.bytes != length + 1) fail("record line_bytes", g.bytes, length + 1);
    const bool too_long = length > max_line;
    if (g.too_long != too_long) fail("too-long flag", g.too_long, too_long);
    const std::string expect = file.substr(begin, too_long ? std::min(length, preview) : length);
    if (g.raw != expect) fail("record bytes differ from the line", g.raw.size(), expect.size());
  }
  if (i != got.size()) fail("records without a line", got.size(), i);
  return 0;
}
