#pragma once
// Follows the files matched by the configured globs and emits their complete lines in batches.
//
// Runs on: its own thread (an io_context with an inotify watcher plus a periodic rescan).
// Owned by: Pipeline; stop() before destroying. Errors: a file that cannot be opened is logged,
// counted and retried at the next rescan; the other files keep flowing.
//
// Behaviour:
//  - Globs are re-expanded every rescan_interval and on inotify events; excludes are matched
//    against the file name and the full path. Symlinks are followed: a file is known by its
//    target's device+inode, so one file reached through two paths is read once.
//  - A file is identified by device+inode plus a fingerprint: FNV-1a 64 of its first line
//    including the newline, capped at 1 KiB. A file whose first line is not complete yet is
//    not read (the fingerprint would change); it is polled again. A reused inode with another
//    first line is a new file.
//  - Start position: the checkpoint's offset when lookup.find(dev, ino) matches the fingerprint
//    (0, counted as a truncation, if the file is now shorter than it); otherwise 0, or the
//    size at the first scan for files present then when read_from is "end" (a line being
//    written at that moment is skipped whole, never emitted in half).
//  - Rotation by rename+create: the old file is read to EOF through its open descriptor and
//    closed once it has stayed at EOF for rescan_interval; the new file at the path is followed
//    from 0. A deleted file is read to EOF the same way. Counted in auditship_tail_rotations_total.
//  - copytruncate (size below the read offset, or a changed first line, checked before every
//    read): reading restarts at 0 under a new SourceFile (new id, new fingerprint), counted in
//    auditship_tail_truncations_total.
//  - A last line without a newline is held until its newline arrives (see line_splitter.h for
//    blank lines, CRLF and over-long lines).
//  - A line longer than max_line_bytes becomes one Record whose `raw` is a preview (the first
//    kPreviewBytes) with reason kLineTooLong; its `line_bytes` covers the whole line.
//  - Before reading a chunk it takes a MemoryBudget lease for it (plus the held partial line);
//    when none is granted it stops reading until the budget calls back (backpressure reaches
//    the files). The tailer owns the budget's on_available() callback while started.
//  - Files are read round-robin, one chunk each per turn, so one busy file cannot starve others.
//  - batch_wait: when a file grows while every file had been read to its end, reading waits up
//    to batch_wait for more lines, so a slow stream leaves in fewer, larger batches (one batch,
//    one worker hand-off and one Kafka message set per wait instead of per write), and the
//    watcher is paused meanwhile (no wake-up per write). The change that starts a wait is read
//    at once instead when a whole read chunk is waiting in a file, a file shrank, or a file not
//    started yet has bytes; a rescan (its tick, or name changes seen when the wait ends) ends a
//    wait too. So a line waits at most batch_wait; 0 reads at every change. caught_up() is false
//    while it waits.
//  - Each batch holds the lines of one file in file order; batches of one SourceFile are emitted
//    in order and tile the file without gaps: a batch's begin_offset is the previous batch's
//    end_offset (blank lines and skipped bytes fall inside a batch), end_offset is after the
//    last complete line. A read that completes no line emits nothing.
//  - `emit` is called on the tailer thread and may block; it must return once the pipeline
//    shuts down, since stop() joins the thread.
//  - Metrics (registry-global): auditship_tail_{lines_read,bytes_read,batches,rotations,
//    truncations,open_errors}_total, auditship_tail_files_watched and auditship_tail_bytes_behind (gauges).
//    open_errors grows once per failed attempt (each rescan) while a matched file stays
//    unopenable; it is logged once per file and condition.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auditship/checkpoint/checkpoint_lookup.h"
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
  std::chrono::milliseconds batch_wait{0};  // see "batch_wait" above; 0: read at every change
};

class FileTailer;
using FileTailerPtr = std::unique_ptr<FileTailer>;

class FileTailer {
 public:
  static constexpr std::size_t kPreviewBytes = 1024;
  using EmitFn = std::function<void(BatchPtr)>;

  // `checkpoints` and `budget` must outlive the tailer. Fails on options that cannot work
  // (no read_chunk_bytes, a chunk plus a line that would not fit a batch's 32-bit slices).
  [[nodiscard]] static Result<FileTailerPtr> make(const TailerOptions& options,
                                                  const checkpoint::CheckpointLookup& checkpoints,
                                                  MemoryBudget& budget, EmitFn emit);
  virtual ~FileTailer() = default;    // stops if still running
  virtual void start() = 0;           // starts the thread; the first scan runs on it
  virtual void stop() noexcept = 0;   // stops reading and joins; nothing is emitted after it returns; safe twice
  // True when the first scan is done, no rescan is pending and every followed file had been
  // read to its end at the last pass (a held line without its newline is not pending).
  // Used by `run --once`; a file appended to after that pass is caught by the next one.
  [[nodiscard]] virtual bool caught_up() const = 0;
  // Applies new sources (SIGHUP) without losing positions of files still matched; files no
  // longer matched stop being read after what was already emitted. Thread-safe.
  virtual void update_sources(std::vector<config::SourceConfig> sources) = 0;
  // For /ready: empty when the first scan is done and every matched file could be opened at
  // the last scan, else why not. Thread-safe.
  [[nodiscard]] virtual std::string readiness_problem() const = 0;
};

}  // namespace auditship::tail
