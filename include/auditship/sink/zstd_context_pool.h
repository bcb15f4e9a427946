#pragma once
// Keeps librdkafka's zstd compression contexts for reuse.
//
// librdkafka (Debian 12's 2.0.2) compresses every message set with a context it creates and
// frees on the spot: ZSTD_createCStream, ZSTD_initCStream, ..., ZSTD_freeCStream. Each fresh
// context allocates a ~1.4 MB workspace from the agent's one arena, between message-set and
// read buffers. zstd_context_pool.cpp defines those two calls in the executable, which
// interposes libzstd's for librdkafka: a freed context is reset to what a new one is (no
// level, parameters, dictionary or pledged size carried over) and kept; the next set reuses
// it with its workspace. Measured: 1-2 MB less peak RSS, CPU unchanged (BENCHMARKS.md,
// session 13). A librdkafka that stops calling them is simply not pooled (`counts()` stays at
// zero).
//
// At most two contexts are kept (compressions running at once: one per broker thread with
// work). release() frees them; the pipeline calls it when idle and KafkaSink once its producer
// is gone.
#include <cstdint>

namespace auditship::sink::zstd_context_pool {

struct Counts {
  std::uint64_t created = 0;  // contexts zstd allocated
  std::uint64_t reused = 0;   // creations answered with a kept context
  std::uint64_t kept = 0;     // contexts kept now
};

Counts counts();

// Frees the kept contexts. Safe at any time: a compression in progress holds its own.
void release();

}  // namespace auditship::sink::zstd_context_pool
