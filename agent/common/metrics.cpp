#include "auditship/common/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace auditship::metrics {
namespace {

void append_value(std::string& out, double v) {
  char buf[40];
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.9g", v);
  out += buf;
}

void append_labels(std::string& out, const Labels& labels, const char* extra_key = nullptr,
                   const std::string& extra_value = {}) {
  if (labels.empty() && !extra_key) return;
  out += '{';
  bool first = true;
  auto one = [&](const std::string& k, const std::string& v) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    for (char c : v) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') { out += "\\n"; continue; }
      out += c;
    }
    out += '"';
  };
  for (const auto& [k, v] : labels) one(k, v);
  if (extra_key) one(extra_key, extra_value);
  out += '}';
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size()]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (std::size_t i = 0; i < bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double v) noexcept {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  if (it != bounds_.end()) buckets_[it - bounds_.begin()].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.add(v);
}

Registry::Family& Registry::family(std::string_view name, std::string_view help, Kind kind) {
  auto it = families_.find(name);
  if (it == families_.end()) it = families_.emplace(std::string(name), Family{kind, std::string(help), {}}).first;
  if (it->second.kind != kind) throw std::logic_error("metric registered with two kinds: " + std::string(name));
  return it->second;
}

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = family(name, help, Kind::kCounter);
  auto [it, inserted] = f.series.try_emplace(labels, counters_.size());
  if (inserted) counters_.emplace_back();
  return counters_[it->second];
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = family(name, help, Kind::kGauge);
  auto [it, inserted] = f.series.try_emplace(labels, gauges_.size());
  if (inserted) gauges_.emplace_back();
  return gauges_[it->second];
}

Gauge& Registry::sampled_counter(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = family(name, help, Kind::kSampledCounter);
  auto [it, inserted] = f.series.try_emplace(labels, gauges_.size());
  if (inserted) gauges_.emplace_back();
  return gauges_[it->second];
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                               const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = family(name, help, Kind::kHistogram);
  auto [it, inserted] = f.series.try_emplace(labels, histograms_.size());
  if (inserted) histograms_.emplace_back(std::move(bounds));
  return histograms_[it->second];
}

void Registry::add_collector(std::function<void()> collect) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::render_prometheus() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  for (auto& c : collectors) c();
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(8192);
  for (const auto& [name, f] : families_) {
    const char* type = f.kind == Kind::kCounter || f.kind == Kind::kSampledCounter ? "counter"
                       : f.kind == Kind::kGauge                                   ? "gauge"
                                                                                  : "histogram";
    out += "# HELP " + name + ' ' + f.help + "\n# TYPE " + name + ' ' + type + '\n';
    for (const auto& [labels, idx] : f.series) {
      if (f.kind == Kind::kHistogram) {
        const Histogram& h = histograms_[idx];
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < h.bounds().size(); ++i) {
          cumulative += h.bucket(i);
          std::string le;
          append_value(le, h.bounds()[i]);
          out += name + "_bucket";
          append_labels(out, labels, "le", le);
          out += ' ' + std::to_string(cumulative) + '\n';
        }
        out += name + "_bucket";
        append_labels(out, labels, "le", "+Inf");
        out += ' ' + std::to_string(h.count()) + '\n';
        out += name + "_sum";
        append_labels(out, labels);
        out += ' ';
        append_value(out, h.sum());
        out += '\n' + name + "_count";
        append_labels(out, labels);
        out += ' ' + std::to_string(h.count()) + '\n';
        continue;
      }
      out += name;
      append_labels(out, labels);
      out += ' ';
      if (f.kind == Kind::kCounter) out += std::to_string(counters_[idx].value());
      else append_value(out, gauges_[idx].value());
      out += '\n';
    }
  }
  return out;
}

std::uint64_t Registry::counter_total(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end() || it->second.kind != Kind::kCounter) return 0;
  std::uint64_t sum = 0;
  for (const auto& [labels, idx] : it->second.series) sum += counters_[idx].value();
  return sum;
}

Registry& Registry::global() {
  static Registry registry;
  return registry;
}

}  // namespace auditship::metrics
