#pragma once
// The CPU-heavy middle of the pipeline, parse → redact, on N threads, without changing the
// order in which any file's batches reach the next stage.
//
//   push(batch) ─▶ [bounded FIFO, batches numbered in push order] ─▶ worker 1..N:
//       Parser → Redactor (each worker owns one of each) ─▶ Resequencer ─▶ next(batch)
//
// With a redactor the two are one pass: Redactor::process(batch, &parser) parses as it
// redacts (parser.h); without one (redact.enabled: false) the Parser runs alone.
//
// Batches are numbered as they are pushed (the tailer pushes them in file order), taken by
// whichever worker is free, and handed to `next` strictly in number order, one call at a time
// (see resequencer.h). So with one worker or eight, `next` sees the same sequence of batches;
// only the work inside a batch runs in parallel with other batches.
//
// Why batches and not records: a batch is one read chunk (~256 KiB, hundreds of records), so
// the hand-offs, locks and wake-ups cost nothing measurable per record, and a worker touches
// only its batch's buffers (no shared state on the hot path: each Redactor clone has its own
// Hyperscan scratch, each Parser its own simdjson buffers).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "auditship/common/bounded_queue.h"
#include "auditship/parse/parser.h"
#include "auditship/pipeline/batch.h"
#include "auditship/pipeline/resequencer.h"
#include "auditship/redact/redactor.h"

namespace auditship::pipeline {

struct WorkerPoolOptions {
  std::size_t workers = 1;
  std::size_t queue_batches = 16;  // batches waiting for a worker; push() blocks beyond
  parse::ParserOptions parser;
};

class WorkerPool {
 public:
  using NextFn = std::function<void(BatchPtr)>;
  // `redactor` may be null (redaction off). `next` is called from the worker threads, never
  // concurrently with itself.
  WorkerPool(WorkerPoolOptions options, redact::RedactorPtr redactor, NextFn next);
  ~WorkerPool();  // close() + join()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Blocks while the FIFO is full. False once closed (the batch is dropped by the caller).
  bool push(BatchPtr batch);
  // Every worker switches to a clone of `redactor` (null: no redaction) before its next batch.
  void replace_redactor(redact::RedactorPtr redactor);
  // No more pushes; returns once every pushed batch has been handed to `next`.
  void close_and_join();

  [[nodiscard]] std::size_t queued() const { return queue_.size(); }
  [[nodiscard]] std::size_t workers() const { return threads_.size(); }

 private:
  struct Numbered {
    std::uint64_t seq;
    BatchPtr batch;
  };
  void work(redact::RedactorPtr redactor);

  WorkerPoolOptions options_;
  BoundedQueue<Numbered> queue_;
  Resequencer<BatchPtr> resequencer_;
  std::uint64_t next_seq_ = 0;  // only the pushing thread touches it
  std::mutex redactor_mu_;      // guards prototype_
  std::shared_ptr<const redact::Redactor> prototype_;
  std::atomic<std::uint64_t> redactor_generation_{0};
  std::vector<std::thread> threads_;
};

}  // namespace auditship::pipeline
