#pragma once
// Follows a Kafka topic from the beginning of every partition (no consumer group) and hands
// each message to a callback. Used by the demo to print what was shipped, by the
// auditship-consume tool and by integration tests. Not part of the shipping path.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auditship/common/result.h"

namespace auditship::sink {

struct ConsumedMessage {
  std::string_view topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string_view key;
  std::string_view value;
  std::map<std::string, std::string> headers;
  std::int64_t timestamp_ms = -1;  // the message's timestamp (CreateTime: when it was produced), -1 if none
};

class TopicReader {
 public:
  [[nodiscard]] static Result<std::unique_ptr<TopicReader>> open(const std::string& bootstrap,
                                                                 const std::string& topic);
  ~TopicReader();
  // Reads what is available within `wait`; returns the number of messages handed over.
  std::size_t poll(std::chrono::milliseconds wait, const std::function<void(const ConsumedMessage&)>& fn);
  [[nodiscard]] int partition_count() const { return partitions_; }
  // Messages the topic holds now: the sum of every partition's high watermark (from offset 0,
  // as on the mock cluster). nullopt if the broker does not answer within `timeout`.
  [[nodiscard]] std::optional<std::uint64_t> size(std::chrono::milliseconds timeout);

 private:
  TopicReader() = default;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;
  int partitions_ = 0;
  std::string topic_;
};

}  // namespace auditship::sink
