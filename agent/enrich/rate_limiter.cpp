#include "auditship/enrich/rate_limiter.h"

#include <algorithm>

namespace auditship::enrich {
namespace {

// A burst of at most 50 ms worth of requests (and at least one): a bigger bucket would let
// a full bucket plus a second of refill through in one second, above max_rps.
double capacity(double rate) { return std::max(1.0, rate * 0.05); }
// The floor keeps a throttled fetcher probing instead of stalling forever.
constexpr double kMinRate = 0.2;

}  // namespace

RateLimiter::RateLimiter(double max_rps, Clock::time_point now)
    : max_rps_(max_rps), rate_(max_rps), tokens_(1.0), last_(now) {}

void RateLimiter::refill(Clock::time_point now) {
  if (now <= last_) return;
  const double dt = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  if (now < paused_until_) return;
  rate_ = std::min(max_rps_, rate_ + max_rps_ * 0.1 * dt);
  tokens_ = std::min(capacity(rate_), tokens_ + rate_ * dt);
}

RateLimiter::Clock::duration RateLimiter::delay(Clock::time_point now) {
  refill(now);
  if (now < paused_until_) return paused_until_ - now;
  if (tokens_ >= 1.0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>((1.0 - tokens_) / rate_)) +
         Clock::duration(1);
}

void RateLimiter::take(Clock::time_point now) {
  refill(now);
  tokens_ -= 1.0;
}

void RateLimiter::throttle(Clock::time_point now, Clock::time_point until) {
  refill(now);
  rate_ = std::max(kMinRate, rate_ / 2);
  tokens_ = std::min(tokens_, 0.0);
  paused_until_ = std::max(paused_until_, until);
  // Time spent paused does not count towards recovery.
  last_ = std::max(last_, paused_until_);
}

}  // namespace auditship::enrich
