#pragma once
// librdkafka's mock cluster, in this process: real Kafka wire protocol on 127.0.0.1 ports,
// no disk, no replication, about 5 MiB kept per partition. `kafka.brokers: embedded` uses it
// for the demo; tests run it as its own process (auditship-mock-cluster) instead.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <memory>
#include <string>
#include <vector>

#include "auditship/common/result.h"

namespace auditship::sink {

class EmbeddedBroker;
using EmbeddedBrokerPtr = std::unique_ptr<EmbeddedBroker>;

class EmbeddedBroker {
 public:
  // Starts `brokers` mock brokers and creates each topic with `partitions` partitions.
  [[nodiscard]] static Result<EmbeddedBrokerPtr> start(int brokers, int partitions,
                                                       const std::vector<std::string>& topics);
  ~EmbeddedBroker();
  [[nodiscard]] const std::string& bootstrap() const { return bootstrap_; }
  [[nodiscard]] int broker_count() const { return brokers_; }

  // Fault injection (tests and the chaos suite).
  void set_all_down(bool down);
  void set_rtt_ms(int ms);
  // Makes the next `count` requests of `api_key` (e.g. 0 = Produce) fail with `error`.
  void push_request_errors(int api_key, int count, rd_kafka_resp_err_t error);

 private:
  EmbeddedBroker() = default;
  rd_kafka_t* handle_ = nullptr;  // the mock cluster needs a client instance to live in
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_;
  int brokers_ = 0;
};

}  // namespace auditship::sink
