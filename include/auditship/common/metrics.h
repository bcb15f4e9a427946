#pragma once
// Process-wide metrics: counters, gauges and histograms with bounded label sets, rendered in
// Prometheus text format. Registration takes a lock and returns a stable reference; updates
// are lock-free atomics, so stages register at construction and update once per batch.
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace auditship::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

class Gauge {
 public:
  void set(double v) noexcept { v_.store(v, std::memory_order_relaxed); }
  void add(double d) noexcept {
    double cur = v_.load(std::memory_order_relaxed);
    while (!v_.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {}
  }
  [[nodiscard]] double value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v) noexcept;
  [[nodiscard]] const std::vector<double>& bounds() const { return bounds_; }
  [[nodiscard]] std::uint64_t bucket(std::size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  [[nodiscard]] double sum() const { return sum_.value(); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  Gauge sum_;
};

class Registry {
 public:
  // The same name+labels returns the same instrument; help is taken from the first call.
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                       const Labels& labels = {});
  // A counter whose value a collector copies from a total kept elsewhere (the kernel's CPU
  // time, librdkafka's statistics): rendered as TYPE counter, set like a gauge.
  Gauge& sampled_counter(std::string_view name, std::string_view help, const Labels& labels = {});
  // Runs before each render (e.g. to sample RSS or librdkafka statistics into gauges).
  void add_collector(std::function<void()> collect);

  [[nodiscard]] std::string render_prometheus() const;
  // Sum of a counter over all its label sets (tests, `status`); 0 if absent.
  [[nodiscard]] std::uint64_t counter_total(std::string_view name) const;

  // The registry every component of this process reports to.
  static Registry& global();

 private:
  enum class Kind { kCounter, kGauge, kHistogram, kSampledCounter };
  struct Family {
    Kind kind;
    std::string help;
    std::map<Labels, std::size_t> series;  // -> index into the instrument deque
  };
  Family& family(std::string_view name, std::string_view help, Kind kind);

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
  std::deque<Counter> counters_;
  std::deque<Gauge> gauges_;
  std::deque<Histogram> histograms_;
  std::vector<std::function<void()>> collectors_;
};

}  // namespace auditship::metrics
