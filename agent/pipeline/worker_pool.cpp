#include "auditship/pipeline/worker_pool.h"

#include <algorithm>
#include <string>

#include "auditship/common/thread_name.h"

namespace auditship::pipeline {

WorkerPool::WorkerPool(WorkerPoolOptions options, redact::RedactorPtr redactor, NextFn next)
    : options_(std::move(options)),
      queue_(std::max<std::size_t>(1, options_.queue_batches)),
      resequencer_(std::move(next)),
      prototype_(std::move(redactor)) {
  const std::size_t n = std::max<std::size_t>(1, options_.workers);
  threads_.reserve(n);
  // Clones share the compiled databases (read-only); each owns its scratch and buffers.
  for (std::size_t i = 0; i < n; ++i)
    threads_.emplace_back([this, i, r = prototype_ ? prototype_->clone() : nullptr]() mutable {
      name_this_thread("as-work-" + std::to_string(i));
      work(std::move(r));
    });
}

WorkerPool::~WorkerPool() { close_and_join(); }

bool WorkerPool::push(BatchPtr batch) { return queue_.push(Numbered{next_seq_++, std::move(batch)}); }

void WorkerPool::replace_redactor(redact::RedactorPtr redactor) {
  std::lock_guard lock(redactor_mu_);
  prototype_ = std::move(redactor);
  redactor_generation_.fetch_add(1, std::memory_order_release);
}

void WorkerPool::close_and_join() {
  queue_.close();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void WorkerPool::work(redact::RedactorPtr redactor) {
  parse::Parser parser(options_.parser);
  std::uint64_t generation = 0;
  while (auto item = queue_.pop()) {
    if (const auto now = redactor_generation_.load(std::memory_order_acquire); now != generation) {
      std::lock_guard lock(redactor_mu_);
      redactor = prototype_ ? prototype_->clone() : nullptr;
      generation = redactor_generation_.load(std::memory_order_relaxed);
    }
    Batch& batch = *item->batch;
    // With a redactor, its walk over each line is the parse too (Redactor::process).
    if (redactor) redactor->process(batch, &parser);
    else parser.process(batch);
    resequencer_.complete(item->seq, std::move(item->batch));
  }
}

}  // namespace auditship::pipeline
