#pragma once
// Helpers shared by the enrich tests: batches built the way the parser builds them, a log
// capture, and polling instead of sleeping.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "auditship/common/log.h"
#include "auditship/enrich/enrich_config.h"
#include "auditship/pipeline/batch.h"

namespace auditship::testing {

// Polls `pred` every 5 ms until it holds or `timeout` passes.
inline bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// A batch of JSON lines with generation_id, timestamp and total_cost extracted like the parser does.
inline BatchPtr make_batch(const std::vector<std::string>& lines, SourceFilePtr source = nullptr) {
  auto b = std::make_unique<Batch>();
  b->source = std::move(source);
  simdjson::dom::parser parser;
  for (const auto& line : lines) {
    Record r;
    r.file_offset = b->input.size();
    r.raw = {static_cast<std::uint32_t>(b->input.size()), static_cast<std::uint32_t>(line.size())};
    r.payload = r.raw;
    r.line_bytes = line.size() + 1;
    b->input += line;
    b->input += '\n';
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc) == simdjson::SUCCESS) {
      std::string_view s;
      if (doc["generation_id"].get_string().get(s) == simdjson::SUCCESS) r.generation_id = b->add_field(s);
      if (doc["timestamp"].get_string().get(s) == simdjson::SUCCESS) r.timestamp = b->add_field(s);
      double cost = 0;
      if (doc["total_cost"].get_double().get(cost) == simdjson::SUCCESS) r.total_cost = cost;
    }
    b->records.push_back(r);
  }
  b->end_offset = b->input.size();
  return b;
}

inline std::string audit_line(const std::string& id, const std::string& extra = {}) {
  std::string line = "{\"timestamp\":\"2020-01-01T00:00:00Z\",\"generation_id\":\"" + id +
                     "\",\"model_requested\":\"openrouter/auto\",\"total_cost\":0,\"user_id\":\"u1\"";
  if (!extra.empty()) line += "," + extra;
  return line + "}";
}

// Captures the agent log while alive.
class LogCapture {
 public:
  LogCapture() {
    std::lock_guard lk(mu());
    text().clear();
    log::set_level(log::Level::kDebug);
    log::set_sink(&LogCapture::write);
  }
  ~LogCapture() {
    log::set_sink(nullptr);
    log::set_level(log::Level::kInfo);
  }
  static std::string contents() {
    std::lock_guard lk(mu());
    return text();
  }

 private:
  static void write(std::string_view line) {
    std::lock_guard lk(mu());
    text().append(line);
    text() += '\n';
  }
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  static std::string& text() {
    static std::string t;
    return t;
  }
};

inline std::size_t count_occurrences(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

}  // namespace auditship::testing
