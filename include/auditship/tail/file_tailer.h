#pragma once
// Follows the files matched by the configured globs and emits their complete lines in batches.
//
// Runs on: its own thread (an io_context with an inotify watcher plus a periodic rescan).
// Owned by: Pipeline; stop() before destroying. Errors: a file that cannot be opened is logged,
// counted and retried at the next rescan; the other files keep flowing.
//
// Behaviour:
//  - Globs are re-expanded every rescan_interval and on inotify events; excludes are matched
//    against the file name and the full path.
//  - A file is identified by device+inode plus a fingerprint of its first line (up to 1 KiB),
//    so a reused inode is not mistaken for the old file. A file with no checkpoint starts at 0,
//    or at its end for files present at the first scan when read_from is "end".
//  - Rotation by rename+create: the old file is read to EOF through its open descriptor, then
//    closed; the new file at the path is followed from 0.
//  - copytruncate (size below the read offset): reading restarts at 0 under a new SourceFile
//    (new id), counted in auditship_tail_truncations_total.
//  - A last line without a newline is held until its newline arrives.
//  - A line longer than max_line_bytes becomes one Record whose `raw` is a preview (the first
//    kPreviewBytes) with reason kLineTooLong; its `line_bytes` covers the whole line.
//  - Before reading a chunk it takes a MemoryBudget lease for it; when none is granted it stops
//    reading until the budget calls back (backpressure reaches the files).
//  - Each batch holds the lines of one file in file order; batches of one file are emitted in
//    order. `emit` is called on the tailer thread and may block.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auditship/checkpoint/checkpoint_store.h"
#include "auditship/common/memory_budget.h"
#include "auditship/common/result.h"
#include "auditship/config/config.h"
#include "auditship/pipeline/batch.h"

namespace auditship::tail {

struct TailerOptions {
  std::vector<config::SourceConfig> sources;
  std::uint64_t max_line_bytes = 1u << 20;
  std::uint64_t read_chunk_bytes = 256u << 10;
  std::chrono::milliseconds rescan_interval{1000};
};

class FileTailer;
using FileTailerPtr = std::unique_ptr<FileTailer>;

class FileTailer {
 public:
  static constexpr std::size_t kPreviewBytes = 1024;
  using EmitFn = std::function<void(BatchPtr)>;

  [[nodiscard]] static Result<FileTailerPtr> make(const TailerOptions& options,
                                                  const checkpoint::CheckpointStore& checkpoints,
                                                  MemoryBudget& budget, EmitFn emit);
  virtual ~FileTailer() = default;
  virtual void start() = 0;          // starts the thread
  virtual void stop() noexcept = 0;  // stops reading and joins; safe to call twice
  // True when every followed file has been read to its current end (used by `run --once`).
  [[nodiscard]] virtual bool caught_up() const = 0;
  // Applies new sources (SIGHUP) without losing positions of files still matched.
  virtual void update_sources(std::vector<config::SourceConfig> sources) = 0;
};

}  // namespace auditship::tail
