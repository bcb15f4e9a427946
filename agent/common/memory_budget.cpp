#include "auditship/common/memory_budget.h"

namespace auditship {

bool MemoryBudget::try_acquire(std::uint64_t bytes, Lease& out) {
  std::uint64_t cur = used_.load(std::memory_order_relaxed);
  while (true) {
    if (cur != 0 && cur + bytes > limit_) {
      waiting_.store(true, std::memory_order_release);
      // Re-check: a release between the load and the flag must not be missed.
      if (used_.load(std::memory_order_acquire) <= low_ && waiting_.exchange(false)) {
        cur = used_.load(std::memory_order_relaxed);
        continue;
      }
      return false;
    }
    if (used_.compare_exchange_weak(cur, cur + bytes, std::memory_order_acq_rel)) break;
  }
  out = Lease(this, bytes);
  return true;
}

void MemoryBudget::on_available(std::function<void()> callback) {
  std::lock_guard lock(mu_);
  callback_ = std::move(callback);
}

void MemoryBudget::release(std::uint64_t bytes) noexcept {
  std::uint64_t now = used_.fetch_sub(bytes, std::memory_order_acq_rel) - bytes;
  if (now <= low_ && waiting_.load(std::memory_order_acquire) && waiting_.exchange(false)) {
    std::lock_guard lock(mu_);
    if (callback_) callback_();
  }
}

}  // namespace auditship
