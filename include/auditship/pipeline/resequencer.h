#pragma once
// Puts items finished out of order by parallel workers back into the order they were numbered
// in, and hands each on exactly once, in that order, to one consumer call at a time.
//
// Why: the tailer numbers batches as it reads them (per-file order is the order of the
// numbers); N workers parse and redact them concurrently; the stages after them (enricher,
// formatter, sink) must see every file's batches in file order, and are single-threaded.
//
// How: complete(seq, item) parks the item; the thread that completes the next expected number
// becomes the one that hands items on (while it does, later completions only park theirs and
// return, and it picks them up before it lets go). `next` runs without the lock held, so a
// consumer that blocks (a full sink) blocks that one worker, and through the bounded input
// queue the tailer — never the workers that merely park. How many items can be parked is not
// bounded here: in the pipeline every parked batch holds a memory lease, so
// pipeline.max_in_flight_bytes bounds them (the tailer stops reading, the workers run dry).
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace auditship::pipeline {

template <class T>
class Resequencer {
 public:
  using NextFn = std::function<void(T)>;
  explicit Resequencer(NextFn next, std::uint64_t first = 0) : next_(std::move(next)), expected_(first) {}

  // `seq` must be unique and every number from `first` on must eventually be completed, or the
  // items after a missing one stay parked (the pipeline completes every batch it took).
  void complete(std::uint64_t seq, T item) {
    std::unique_lock lock(mu_);
    parked_.emplace(seq, std::move(item));
    if (handing_on_) return;  // the thread handing on will find it
    handing_on_ = true;
    while (!parked_.empty() && parked_.begin()->first == expected_) {
      T ready = std::move(parked_.begin()->second);
      parked_.erase(parked_.begin());
      ++expected_;
      lock.unlock();
      next_(std::move(ready));
      lock.lock();
    }
    handing_on_ = false;
  }

  // Items finished but waiting for an earlier one.
  [[nodiscard]] std::size_t parked() const {
    std::lock_guard lock(mu_);
    return parked_.size();
  }

 private:
  NextFn next_;
  mutable std::mutex mu_;
  std::map<std::uint64_t, T> parked_;  // few entries (about one per worker)
  std::uint64_t expected_;
  bool handing_on_ = false;
};

}  // namespace auditship::pipeline
