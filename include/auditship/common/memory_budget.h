#pragma once
// Bounds the bytes of records in flight (read but not yet acknowledged). The tailer acquires
// before reading; a batch releases its lease when it is destroyed (after its last ack). When
// the budget falls back under the low watermark, the waiter callback fires once so a paused
// tailer can resume without polling.
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>

namespace auditship {

class MemoryBudget {
 public:
  class Lease {
   public:
    Lease() = default;
    Lease(MemoryBudget* owner, std::uint64_t bytes) : owner_(owner), bytes_(bytes) {}
    Lease(Lease&& o) noexcept : owner_(o.owner_), bytes_(o.bytes_) { o.owner_ = nullptr; }
    Lease& operator=(Lease&& o) noexcept {
      if (this != &o) {
        reset();
        owner_ = o.owner_;
        bytes_ = o.bytes_;
        o.owner_ = nullptr;
      }
      return *this;
    }
    ~Lease() { reset(); }
    void reset() noexcept {
      if (owner_) owner_->release(bytes_);
      owner_ = nullptr;
    }
    [[nodiscard]] std::uint64_t bytes() const { return owner_ ? bytes_ : 0; }

   private:
    MemoryBudget* owner_ = nullptr;
    std::uint64_t bytes_ = 0;
  };

  explicit MemoryBudget(std::uint64_t limit) : limit_(limit), low_(limit / 2) {}

  // A lease if `bytes` fit under the limit (a single request larger than the limit is granted
  // when nothing else is in flight, so one huge line cannot deadlock the agent).
  [[nodiscard]] bool try_acquire(std::uint64_t bytes, Lease& out);
  // Called (from the releasing thread) once when usage drops to the low watermark after a
  // failed try_acquire. The callback must be cheap and thread-safe (e.g. post to a strand).
  void on_available(std::function<void()> callback);

  [[nodiscard]] std::uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t limit() const { return limit_; }

 private:
  void release(std::uint64_t bytes) noexcept;

  const std::uint64_t limit_;
  const std::uint64_t low_;
  std::atomic<std::uint64_t> used_{0};
  std::atomic<bool> waiting_{false};
  std::mutex mu_;
  std::function<void()> callback_;
};

}  // namespace auditship
