#include "support/cluster.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "auditship/sink/topic_reader.h"

namespace auditship::testing {

MockCluster::MockCluster(int partitions, int brokers) {
  process_ = std::make_unique<Process>(std::string(AUDITSHIP_TOOLS_DIR) + "/auditship-mock-cluster",
                                       std::vector<std::string>{"--partitions", std::to_string(partitions),
                                                                "--brokers", std::to_string(brokers)},
                                       Process::Options{.stdin_pipe = true});
  auto line = process_->read_line(std::chrono::seconds(20));
  if (!line || line->rfind("bootstrap=", 0) != 0) throw std::runtime_error("mock cluster did not start");
  bootstrap_ = line->substr(10);
}

void MockCluster::command(const std::string& line) {
  process_->write_line(line);
  auto reply = process_->read_line(std::chrono::seconds(10));
  if (!reply || *reply != "ok") throw std::runtime_error("mock cluster: '" + line + "' failed");
}

TopicFollower::TopicFollower(const std::string& bootstrap, const std::string& topic) {
  auto reader = sink::TopicReader::open(bootstrap, topic);
  if (!reader) throw std::runtime_error(reader.error());
  thread_ = std::thread([this, r = std::move(reader.value())]() mutable {
    std::vector<Message> got;
    while (!stop_.load()) {
      got.clear();
      r->poll(std::chrono::milliseconds(100), [&](const sink::ConsumedMessage& m) {
        got.push_back({m.partition, m.offset, std::string(m.key), std::string(m.value), m.headers});
      });
      if (got.empty()) continue;
      std::lock_guard lock(mu_);
      for (auto& m : got) messages_.push_back(std::move(m));
    }
  });
}

TopicFollower::~TopicFollower() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::size_t TopicFollower::count() const {
  std::lock_guard lock(mu_);
  return messages_.size();
}

std::vector<Message> TopicFollower::messages() const {
  std::lock_guard lock(mu_);
  return messages_;
}

bool TopicFollower::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
  return eventually([&] { return count() >= n; }, timeout);
}

}  // namespace auditship::testing
