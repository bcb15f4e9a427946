#include "auditship/sink/embedded_broker.h"

#include <vector>

namespace auditship::sink {

Result<EmbeddedBrokerPtr> EmbeddedBroker::start(int brokers, int partitions, const std::vector<std::string>& topics) {
  EmbeddedBrokerPtr b(new EmbeddedBroker());
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  b->handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!b->handle_) {
    rd_kafka_conf_destroy(conf);
    return Error{std::string("cannot start the embedded broker: ") + err};
  }
  b->cluster_ = rd_kafka_mock_cluster_new(b->handle_, brokers);
  if (!b->cluster_) return Error{"cannot start the embedded broker (mock cluster)"};
  b->brokers_ = brokers;
  b->bootstrap_ = rd_kafka_mock_cluster_bootstraps(b->cluster_);
  for (const auto& t : topics) {
    if (auto e = rd_kafka_mock_topic_create(b->cluster_, t.c_str(), partitions, 1))
      return Error{"cannot create topic '" + t + "' on the embedded broker: " + rd_kafka_err2str(e)};
  }
  return b;
}

EmbeddedBroker::~EmbeddedBroker() {
  if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_) rd_kafka_destroy(handle_);
}

void EmbeddedBroker::set_all_down(bool down) {
  for (int id = 1; id <= brokers_; ++id) {
    if (down) rd_kafka_mock_broker_set_down(cluster_, id);
    else rd_kafka_mock_broker_set_up(cluster_, id);
  }
}

void EmbeddedBroker::set_rtt_ms(int ms) {
  for (int id = 1; id <= brokers_; ++id) rd_kafka_mock_broker_set_rtt(cluster_, id, ms);
}

void EmbeddedBroker::push_request_errors(int api_key, int count, rd_kafka_resp_err_t error) {
  std::vector<rd_kafka_resp_err_t> errors(static_cast<std::size_t>(count), error);
  rd_kafka_mock_push_request_errors_array(cluster_, static_cast<int16_t>(api_key), errors.size(), errors.data());
}

}  // namespace auditship::sink
