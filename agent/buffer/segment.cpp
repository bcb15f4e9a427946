#include "auditship/buffer/segment.h"

#include <zstd.h>

#include <cstring>
#include <memory>

#include "auditship/common/hash.h"

namespace auditship::buffer {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t get_le(std::string_view b, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(b[at + i])) << (8 * i);
  return v;
}
void put_str(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

// Bounds-checked cursor over decode_batch() input: any read past the end sets `bad`.
struct Reader {
  std::string_view b;
  std::size_t at = 0;
  bool bad = false;
  std::uint64_t num(int n) {
    if (bad || b.size() - at < static_cast<std::size_t>(n)) {
      bad = true;
      return 0;
    }
    std::uint64_t v = get_le(b, at, n);
    at += n;
    return v;
  }
  std::string_view str() {
    const std::uint64_t n = num(4);
    if (bad || b.size() - at < n) {
      bad = true;
      return {};
    }
    std::string_view s = b.substr(at, n);
    at += n;
    return s;
  }
};

std::uint32_t header_hash(std::string_view header24) {
  return static_cast<std::uint32_t>(fnv1a64(header24.substr(0, 24)));
}

struct CctxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DctxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

}  // namespace

std::string segment_header() {
  std::string h(kSegmentMagic);
  put_u32(h, kSegmentVersion);
  put_u32(h, 0);
  return h;
}

bool valid_segment_header(std::string_view bytes) {
  return bytes.size() >= kSegmentHeaderBytes && bytes.substr(0, kSegmentMagic.size()) == kSegmentMagic &&
         get_le(bytes, 8, 4) == kSegmentVersion;
}

std::uint64_t batch_bytes(const Batch& b) {
  return b.input.capacity() + b.output.capacity() + b.fields.capacity() + b.records.capacity() * sizeof(Record) +
         sizeof(Batch);
}

void encode_batch(const Batch& b, std::string& out) {
  out.push_back(b.source ? 1 : 0);
  if (b.source) {
    put_u64(out, b.source->id);
    put_u64(out, b.source->dev);
    put_u64(out, b.source->ino);
    put_u64(out, b.source->fingerprint);
    put_u32(out, b.source->fingerprint_bytes);
    put_str(out, b.source->path);
  }
  put_u64(out, b.begin_offset);
  put_u64(out, b.end_offset);
  put_u32(out, static_cast<std::uint32_t>(b.records.size()));
  for (const Record& r : b.records) {
    put_u64(out, r.file_offset);
    put_u64(out, r.line_bytes);
    out.push_back(static_cast<char>(r.disposition));
    out.push_back(static_cast<char>(r.reason));
    std::uint64_t cost_bits;
    std::memcpy(&cost_bits, &r.total_cost, sizeof cost_bits);
    put_u64(out, cost_bits);
    put_str(out, b.payload(r));
    for (Slice s : {r.key, r.generation_id, r.user_id, r.timestamp}) put_str(out, b.field(s));
  }
}

Result<BatchPtr> decode_batch(std::string_view bytes) {
  Reader in{bytes};
  auto b = std::make_unique<Batch>();
  const std::uint64_t has_source = in.num(1);
  if (has_source > 1) return Error{"bad source flag"};
  if (has_source) {
    auto s = std::make_shared<SourceFile>();
    s->id = in.num(8);
    s->dev = in.num(8);
    s->ino = in.num(8);
    s->fingerprint = in.num(8);
    s->fingerprint_bytes = static_cast<std::uint32_t>(in.num(4));
    s->path = std::string(in.str());
    b->source = std::move(s);
  }
  b->begin_offset = in.num(8);
  b->end_offset = in.num(8);
  const std::uint64_t n = in.num(4);
  // Each record takes at least 46 bytes: a count beyond that is corrupt, not a reason to
  // reserve gigabytes.
  if (in.bad || n > (bytes.size() - in.at) / 46) return Error{"bad record count"};
  b->records.resize(n);
  for (Record& r : b->records) {
    r.file_offset = in.num(8);
    r.line_bytes = in.num(8);
    const std::uint64_t disposition = in.num(1), reason = in.num(1);
    if (disposition > static_cast<std::uint64_t>(Disposition::kDrop) ||
        reason > static_cast<std::uint64_t>(DeadLetterReason::kUnredactable))
      return Error{"bad disposition or reason"};
    r.disposition = static_cast<Disposition>(disposition);
    r.reason = static_cast<DeadLetterReason>(reason);
    const std::uint64_t cost_bits = in.num(8);
    std::memcpy(&r.total_cost, &cost_bits, sizeof cost_bits);
    const std::size_t start = b->output.size();
    b->output.append(in.str());
    b->set_output_payload(r, start);
    for (Slice* s : {&r.key, &r.generation_id, &r.user_id, &r.timestamp}) *s = b->add_field(in.str());
    if (in.bad) return Error{"truncated record"};
  }
  if (in.bad || in.at != bytes.size()) return Error{"trailing or missing bytes"};
  return b;
}

std::string encode_frame(const Batch& batch, int level) {
  thread_local std::string raw;
  raw.clear();
  encode_batch(batch, raw);
  thread_local std::unique_ptr<ZSTD_CCtx, CctxFree> cctx(ZSTD_createCCtx());
  ZSTD_CCtx_reset(cctx.get(), ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  std::string frame(kFrameHeaderBytes + ZSTD_compressBound(raw.size()), '\0');
  const std::size_t n = ZSTD_compress2(cctx.get(), frame.data() + kFrameHeaderBytes, frame.size() - kFrameHeaderBytes,
                                       raw.data(), raw.size());
  // Only a too-small destination can fail, and compressBound rules that out.
  if (ZSTD_isError(n)) return {};
  frame.resize(kFrameHeaderBytes + n);
  std::string header;
  put_u32(header, kFrameMagic);
  put_u32(header, static_cast<std::uint32_t>(n));
  put_u32(header, static_cast<std::uint32_t>(raw.size()));
  put_u32(header, static_cast<std::uint32_t>(batch.records.size()));
  put_u64(header, fnv1a64(std::string_view(frame).substr(kFrameHeaderBytes)));
  put_u32(header, header_hash(header));
  std::memcpy(frame.data(), header.data(), kFrameHeaderBytes);
  return frame;
}

namespace {

// A frame header at `pos` whose magic and header hash check out.
bool plausible_header(std::string_view bytes, std::size_t pos) {
  if (bytes.size() - pos < kFrameHeaderBytes) return false;
  return get_le(bytes, pos, 4) == kFrameMagic && get_le(bytes, pos + 24, 4) == header_hash(bytes.substr(pos, 24)) &&
         get_le(bytes, pos + 8, 4) <= kMaxFrameRawBytes;
}

}  // namespace

FrameScan scan_frame(std::string_view bytes, std::size_t pos) {
  FrameScan s;
  s.begin = s.end = pos;
  if (pos >= bytes.size()) return s;  // kNeedMore with nothing to look at
  if (bytes.size() - pos < kFrameHeaderBytes) {
    // A short tail may still be corrupt if it cannot even start a frame.
    std::string_view tail = bytes.substr(pos);
    char magic[4];
    for (int i = 0; i < 4; ++i) magic[i] = static_cast<char>((kFrameMagic >> (8 * i)) & 0xff);
    if (std::string_view(magic, std::min<std::size_t>(4, tail.size())) == tail.substr(0, std::min<std::size_t>(4, tail.size())))
      return s;
  } else if (plausible_header(bytes, pos)) {
    const std::uint64_t len = get_le(bytes, pos + 4, 4);
    if (bytes.size() - pos - kFrameHeaderBytes < len) return s;  // the rest is not written (yet)
    std::string_view compressed = bytes.substr(pos + kFrameHeaderBytes, len);
    if (fnv1a64(compressed) == get_le(bytes, pos + 16, 8)) {
      s.kind = FrameScan::kFrame;
      s.end = pos + kFrameHeaderBytes + len;
      s.raw_len = static_cast<std::uint32_t>(get_le(bytes, pos + 8, 4));
      s.records = static_cast<std::uint32_t>(get_le(bytes, pos + 12, 4));
      s.compressed = compressed;
      return s;
    }
  }
  // Corrupt: resynchronize on the next header that checks out (a payload may contain the
  // magic by chance; its header hash will not match).
  s.kind = FrameScan::kCorrupt;
  std::size_t next = pos + 1;
  for (; next < bytes.size(); ++next) {
    next = bytes.find("ASFR", next);
    if (next == std::string_view::npos) {
      next = bytes.size();
      break;
    }
    if (plausible_header(bytes, next)) break;
  }
  s.end = std::min(next, bytes.size());
  return s;
}

Result<BatchPtr> decode_frame(const FrameScan& frame) {
  thread_local std::unique_ptr<ZSTD_DCtx, DctxFree> dctx(ZSTD_createDCtx());
  thread_local std::string raw;
  raw.resize(frame.raw_len);
  const std::size_t n =
      ZSTD_decompressDCtx(dctx.get(), raw.data(), raw.size(), frame.compressed.data(), frame.compressed.size());
  if (ZSTD_isError(n)) return Error{std::string("zstd: ") + ZSTD_getErrorName(n)};
  if (n != frame.raw_len) return Error{"decompressed size differs from the frame header"};
  auto batch = decode_batch(std::string_view(raw).substr(0, n));
  if (!batch) return Error{batch.error()};
  if (batch.value()->records.size() != frame.records) return Error{"record count differs from the frame header"};
  return batch;
}

}  // namespace auditship::buffer
