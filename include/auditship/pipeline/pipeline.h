#pragma once
// The whole agent in one place:
//
//   FileTailer ──batches──▶ WorkerPool [queue ▶ N × (Parser → Redactor) ▶ back in order]
//        ▲                        ──▶ Enricher → Formatter ──▶ Sink (Kafka / SQLite)
//        │                                                        │
//        └── MemoryBudget (leases released as batches are acknowledged) ◀──────┤
//   CheckpointStore ◀── DeliveryTracker ◀── per-record delivery reports ◀──────┘
//
// Threads: the tailer's; pipeline.workers parse+redact workers (batches are numbered as the
// tailer reads them and leave the pool in that order, so every file's records reach the
// enricher and the sink in file order whatever the number of workers); the sink's delivery
// thread; and the caller's (run()), which persists checkpoints, watches for signals and
// failures, and shuts down in order: stop the tailer → drain the workers → drain the enricher
// (bounded) → flush the sink (bounded) → final checkpoint.
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "auditship/common/result.h"
#include "auditship/config/config.h"

namespace auditship::pipeline {

struct RunOptions {
  bool once = false;  // exit when every file is shipped to its current end and acknowledged
  // SIGHUP: each time `*reload` changes, the config is read again with `load_config` and what
  // can change live is applied (see Pipeline::run); an invalid one is rejected and logged.
  const std::atomic<int>* reload = nullptr;
  std::function<Result<config::Config>()> load_config;
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
  //
  // Reload (RunOptions::reload): sources, redact, enrich, output and log.level apply without
  // losing file positions: new sources go to the tailer; each worker takes a new Redactor
  // between batches; the format stage swaps its Formatter between batches; a new Enricher
  // replaces the old one after the old one drained its held batches (bounded by
  // pipeline.shutdown_timeout). state_dir, max_line_bytes, pipeline, kafka and metrics need a
  // restart: a change there is logged and ignored. Anything that fails to build (a bad
  // pattern, a missing key) rejects the whole reload and the running config stays.
  virtual int run(const std::atomic<int>& stop, const RunOptions& options) = 0;
  // The bootstrap address the sink uses (the embedded broker's when brokers=embedded).
  [[nodiscard]] virtual std::string bootstrap() const = 0;
};

}  // namespace auditship::pipeline
