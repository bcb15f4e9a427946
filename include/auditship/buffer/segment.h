#pragma once
// The disk buffer's on-disk format: segment files of zstd-compressed frames, one frame per
// batch. Pure functions over bytes (encode, scan, decode) plus a small appending writer, so the
// reader is fuzzed (tests/fuzz/segment_fuzz.cpp) without any file system.
//
//   segment = header frame*
//   header  = "AUDSHPSG" u32 version(=1) u32 reserved(=0)                       (16 bytes)
//   frame   = u32 magic "ASFR" | u32 compressed_len | u32 raw_len | u32 records
//             | u64 payload_hash | u32 header_hash | compressed_len bytes        (28 + n bytes)
//
// Integers are little-endian. header_hash is the low 32 bits of FNV-1a 64 over the 24 bytes
// before it, so a flipped length is caught before the length is trusted; payload_hash is
// FNV-1a 64 over the compressed bytes, and zstd's own frame checksum (XXH64 of the
// decompressed bytes, enabled on write) covers what decompression produces. A frame that
// fails either is quarantined, and the scan resynchronizes on the next frame magic whose
// header hash checks out.
//
// The decompressed frame holds what the sinks need to ship a batch again (source identity and
// path, offsets, per record: payload, key and the extracted fields, disposition, dead-letter
// reason, cost), never the raw input lines: those may hold the PII the redactor removed.
#include <cstdint>
#include <string>
#include <string_view>

#include "auditship/common/result.h"
#include "auditship/pipeline/batch.h"

namespace auditship::buffer {

inline constexpr std::string_view kSegmentMagic = "AUDSHPSG";
inline constexpr std::uint32_t kSegmentVersion = 1;
inline constexpr std::size_t kSegmentHeaderBytes = 16;
inline constexpr std::uint32_t kFrameMagic = 0x52465341;  // "ASFR" little-endian
inline constexpr std::size_t kFrameHeaderBytes = 28;
// Larger claimed sizes are corrupt: a batch is at most a few read chunks.
inline constexpr std::uint32_t kMaxFrameRawBytes = 256u << 20;

// The 16 bytes every segment starts with.
[[nodiscard]] std::string segment_header();
[[nodiscard]] bool valid_segment_header(std::string_view bytes);

// The uncompressed serialization of a batch (see the file comment for what it holds).
void encode_batch(const Batch& batch, std::string& out);
// A batch rebuilt from encode_batch() output: payloads in `output`, fields in `fields`, no
// raw input, no lease, ticket 0. Errors on any malformed byte (never reads out of bounds).
[[nodiscard]] Result<BatchPtr> decode_batch(std::string_view bytes);

// One complete frame (header + compressed bytes) for `batch`, compressed at `level`.
[[nodiscard]] std::string encode_frame(const Batch& batch, int level = 1);

// What scan_frame() found at a position of a segment's bytes.
struct FrameScan {
  enum Kind {
    kFrame,     // a whole frame whose header and payload hashes check out: [begin, end)
    kNeedMore,  // the bytes end inside a frame (torn tail if nothing more will be written)
    kCorrupt,   // bad magic/hash at `begin`; [begin, end) is what to quarantine, `end` the next
                // plausible frame header (or the end of the bytes when none follows)
  } kind = kNeedMore;
  std::size_t begin = 0, end = 0;
  std::uint32_t raw_len = 0, records = 0;
  std::string_view compressed;  // kFrame only
};
// Looks at `bytes[pos..]` (bytes = a whole segment or its prefix written so far).
[[nodiscard]] FrameScan scan_frame(std::string_view bytes, std::size_t pos);

// Calls `fn(const FrameScan&)` for every whole frame whose hashes check out in `bytes[from..]`,
// stepping over corrupt spans and stopping at a torn tail: what a reader of a finished segment
// (or of the prefix written so far) can trust.
template <class Fn>
void for_each_frame(std::string_view bytes, std::size_t from, Fn&& fn) {
  for (std::size_t pos = from < kSegmentHeaderBytes ? kSegmentHeaderBytes : from; pos < bytes.size();) {
    const FrameScan s = scan_frame(bytes, pos);
    if (s.kind == FrameScan::kNeedMore) break;
    if (s.kind == FrameScan::kFrame) fn(s);
    pos = s.end;
  }
}

// Decompresses and decodes a kFrame. Errors when zstd's checksum or the decode fails.
[[nodiscard]] Result<BatchPtr> decode_frame(const FrameScan& frame);

// Approximate memory a batch holds (buffers + records), for in-flight accounting.
[[nodiscard]] std::uint64_t batch_bytes(const Batch& batch);

}  // namespace auditship::buffer
