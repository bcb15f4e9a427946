// The pool behind librdkafka's zstd calls: called directly here, and through librdkafka's own
// compression in kafka_sink_test (ReusesZstdContextsAcrossMessageSets).
#include "auditship/sink/zstd_context_pool.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <string>

namespace auditship::sink {
namespace {

// Compresses `text` as librdkafka does: a stream initialised with only a level.
std::string compress_stream(ZSTD_CStream* stream, const std::string& text) {
  EXPECT_FALSE(ZSTD_isError(ZSTD_initCStream(stream, 1)));
  std::string out(ZSTD_compressBound(text.size()), '\0');
  ZSTD_outBuffer o{out.data(), out.size(), 0};
  ZSTD_inBuffer i{text.data(), text.size(), 0};
  EXPECT_FALSE(ZSTD_isError(ZSTD_compressStream(stream, &o, &i)));
  EXPECT_EQ(ZSTD_endStream(stream, &o), 0u);
  out.resize(o.pos);
  return out;
}

std::string decompress(const std::string& frame, std::size_t size) {
  std::string out(size, '\0');
  const std::size_t n = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  EXPECT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

TEST(ZstdContextPool, AFreedContextComesBackAsIfNew) {
  zstd_context_pool::release();
  const auto before = zstd_context_pool::counts();
  ZSTD_CStream* first = ZSTD_createCStream();
  ASSERT_NE(first, nullptr);
  // Settings a new context would not have: a checksum and a pledged size.
  ASSERT_FALSE(ZSTD_isError(ZSTD_CCtx_setParameter(first, ZSTD_c_checksumFlag, 1)));
  const std::string text(100000, 'a');
  ASSERT_FALSE(ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(first, text.size())));
  std::string out(ZSTD_compressBound(text.size()), '\0');
  ASSERT_FALSE(ZSTD_isError(ZSTD_compress2(first, out.data(), out.size(), text.data(), text.size())));
  EXPECT_EQ(ZSTD_freeCStream(first), 0u);
  EXPECT_EQ(zstd_context_pool::counts().kept, 1u);

  ZSTD_CStream* second = ZSTD_createCStream();
  EXPECT_EQ(second, first) << "the kept context, workspace and all";
  const auto after = zstd_context_pool::counts();
  EXPECT_EQ(after.created - before.created, 1u);
  EXPECT_EQ(after.reused - before.reused, 1u);
  EXPECT_EQ(after.kept, 0u);

  const std::string record = R"({"model":"openai/gpt-4o","prompt":"hello hello hello hello"})";
  const std::string frame = compress_stream(second, record);
  ASSERT_GT(frame.size(), 4u);
  // The frame header descriptor after the 4-byte magic: bit 2 is the checksum flag (RFC 8878).
  EXPECT_EQ(static_cast<unsigned char>(frame[4]) & 0x04, 0) << "the first user's parameters were carried over";
  EXPECT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()), ZSTD_CONTENTSIZE_UNKNOWN)
      << "the first user's pledged size was carried over";
  EXPECT_EQ(decompress(frame, record.size()), record);
  ZSTD_freeCStream(second);
  zstd_context_pool::release();
  EXPECT_EQ(zstd_context_pool::counts().kept, 0u);
}

TEST(ZstdContextPool, KeepsAtMostTwoAndFreesTheRest) {
  zstd_context_pool::release();
  ZSTD_CStream* streams[3] = {ZSTD_createCStream(), ZSTD_createCStream(), ZSTD_createCStream()};
  for (ZSTD_CStream* s : streams) EXPECT_EQ(ZSTD_freeCStream(s), 0u);
  EXPECT_EQ(zstd_context_pool::counts().kept, 2u);
  EXPECT_EQ(ZSTD_freeCStream(nullptr), 0u);
  zstd_context_pool::release();
  EXPECT_EQ(zstd_context_pool::counts().kept, 0u);
}

}  // namespace
}  // namespace auditship::sink
