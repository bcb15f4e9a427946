#pragma once
// The Kafka side of integration tests: a mock cluster in its own process and a follower
// that reads topics while the agent ships (the mock keeps only ~5 MiB per partition).
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"

namespace auditship::testing {

class MockCluster {
 public:
  explicit MockCluster(int partitions = 8, int brokers = 1);
  [[nodiscard]] const std::string& bootstrap() const { return bootstrap_; }
  // Sends a command (see tests/tools/mock_cluster.cpp) and waits for its "ok".
  void command(const std::string& line);

 private:
  std::unique_ptr<Process> process_;
  std::string bootstrap_;
};

struct Message {
  int partition = 0;
  long long offset = 0;
  std::string key, value;
  std::map<std::string, std::string> headers;
};

// Follows one topic from the beginning in a background thread.
class TopicFollower {
 public:
  TopicFollower(const std::string& bootstrap, const std::string& topic);
  ~TopicFollower();
  [[nodiscard]] std::size_t count() const;
  [[nodiscard]] std::vector<Message> messages() const;
  // True when `n` messages have arrived within `timeout`.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mu_;
  std::vector<Message> messages_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace auditship::testing
