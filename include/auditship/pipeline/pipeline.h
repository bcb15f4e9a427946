#pragma once
// The whole agent in one place:
//
//   FileTailer ──batches──▶ [queue] ──▶ worker: Parser → Redactor → Enricher ──▶ KafkaSink
//        ▲                                                                         │
//        └── MemoryBudget (leases released as batches are acknowledged) ◀──────────┤
//   CheckpointStore ◀── DeliveryTracker ◀── per-record delivery reports ◀──────────┘
//
// Threads: the tailer's, one worker, the sink's delivery thread, and the caller's (run()),
// which persists checkpoints, watches for signals and failures, and shuts down in order:
// stop the tailer → drain the queue → drain the enricher (bounded) → flush the sink (bounded)
// → final checkpoint.
#include <atomic>
#include <memory>
#include <string>

#include "auditship/common/result.h"
#include "auditship/config/config.h"

namespace auditship::pipeline {

struct RunOptions {
  bool once = false;  // exit when every file is shipped to its current end and acknowledged
};

class Pipeline;
using PipelinePtr = std::unique_ptr<Pipeline>;

class Pipeline {
 public:
  // Builds every stage (opening the checkpoint store, compiling detectors, connecting the
  // producer). Any error is returned before anything is read.
  [[nodiscard]] static Result<PipelinePtr> make(const config::Config& config);
  virtual ~Pipeline() = default;
  // Runs until `stop` becomes non-zero (a signal), --once completes, or the sink fails.
  // Returns the process exit code.
  virtual int run(const std::atomic<int>& stop, const RunOptions& options) = 0;
  // The bootstrap address the sink uses (the embedded broker's when brokers=embedded).
  [[nodiscard]] virtual std::string bootstrap() const = 0;
};

}  // namespace auditship::pipeline
