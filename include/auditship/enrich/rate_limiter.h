#pragma once
// Token bucket for lookups with 429 adaptation. Pure logic with the time passed in, so tests
// step it; the fetcher calls it from its one thread (not thread-safe).
#include <chrono>

namespace auditship::enrich {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimiter(double max_rps, Clock::time_point now);

  // How long until a request may start (zero: now).
  [[nodiscard]] Clock::duration delay(Clock::time_point now);
  void take(Clock::time_point now);
  // The endpoint said 429: nothing starts before `until`, the rate halves, and then it climbs
  // back by a tenth of max_rps per second without another 429.
  void throttle(Clock::time_point now, Clock::time_point until);
  [[nodiscard]] double rate() const { return rate_; }

 private:
  void refill(Clock::time_point now);

  const double max_rps_;
  double rate_;
  double tokens_;
  Clock::time_point last_;
  Clock::time_point paused_until_{};
};

}  // namespace auditship::enrich
