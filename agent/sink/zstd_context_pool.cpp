#include "auditship/sink/zstd_context_pool.h"

#include <zstd.h>

#include <array>
#include <mutex>

namespace auditship::sink::zstd_context_pool {
namespace {

constexpr std::size_t kMaxKept = 2;

struct Pool {
  std::mutex mutex;  // guards all below
  std::array<ZSTD_CCtx*, kMaxKept> kept{};
  std::size_t size = 0;
  std::uint64_t created = 0;
  std::uint64_t reused = 0;
};

// Never destroyed: a librdkafka thread may still free a context while the process exits.
Pool& pool() {
  static Pool* const instance = new Pool;
  return *instance;
}

}  // namespace

Counts counts() {
  Pool& p = pool();
  std::lock_guard lock(p.mutex);
  return {p.created, p.reused, p.size};
}

void release() {
  Pool& p = pool();
  std::array<ZSTD_CCtx*, kMaxKept> freed{};
  std::size_t n = 0;
  {
    std::lock_guard lock(p.mutex);
    freed = p.kept;
    n = p.size;
    p.size = 0;
  }
  for (std::size_t i = 0; i < n; ++i) ZSTD_freeCCtx(freed[i]);
}

}  // namespace auditship::sink::zstd_context_pool

// The interposed calls. A ZSTD_CStream is a ZSTD_CCtx (zstd >= 1.3.0), and libzstd's own
// versions are ZSTD_createCCtx and ZSTD_freeCCtx, which stay libzstd's.
extern "C" ZSTD_CStream* ZSTD_createCStream(void) {
  using namespace auditship::sink::zstd_context_pool;
  Pool& p = pool();
  {
    std::lock_guard lock(p.mutex);
    if (p.size > 0) {
      ++p.reused;
      return p.kept[--p.size];
    }
    ++p.created;
  }
  return ZSTD_createCCtx();
}

extern "C" size_t ZSTD_freeCStream(ZSTD_CStream* stream) {
  using namespace auditship::sink::zstd_context_pool;
  if (stream == nullptr) return 0;
  // As a new context: keeps the workspace, drops the level, parameters and dictionary.
  ZSTD_CCtx_reset(stream, ZSTD_reset_session_and_parameters);
  Pool& p = pool();
  {
    std::lock_guard lock(p.mutex);
    if (p.size < kMaxKept) {
      p.kept[p.size++] = stream;
      return 0;
    }
  }
  return ZSTD_freeCCtx(stream);
}
