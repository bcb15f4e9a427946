#pragma once
// Ships each record as one Kafka message (librdkafka): kShip records to kafka.topic keyed by
// the record's key field, dead letters to kafka.dead_letter_topic. Headers carry the source
// path, the file offset and the host name so consumers can trace and de-duplicate (a batch
// without a source, e.g. follow_up enrichment events, carries only the host).
//
// send() may be called from any thread (the pipeline's worker, or the enricher's emitter in
// hold mode); it touches only its own batch, atomics and librdkafka, which is thread-safe.
//
// Payloads are not copied: a message points into its batch, which the sink keeps alive until
// the last of its records is acknowledged. Delivery reports (on the sink's poll thread) drive
// the DeliveryListener. Retriable errors are retried by librdkafka forever
// (message.timeout.ms=0 by default, safe with the idempotent producer); a record too large for
// the broker is dead-lettered with a preview; any other permanent error is fatal: failure()
// says why and checkpoints never pass the record.
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "auditship/common/result.h"
#include "auditship/config/config.h"
#include "auditship/sink/sink.h"

namespace auditship::sink {

class KafkaSink;
using KafkaSinkPtr = std::unique_ptr<KafkaSink>;

// librdkafka properties the agent sets by default; kafka.properties overrides them.
std::map<std::string, std::string> default_producer_properties(const config::KafkaConfig& config,
                                                               std::uint64_t max_in_flight_bytes);

class KafkaSink final : public Sink {
 public:
  // `bootstrap` is kafka.brokers, or the embedded broker's address.
  [[nodiscard]] static Result<KafkaSinkPtr> make(const config::KafkaConfig& config, const std::string& bootstrap,
                                                 std::uint64_t max_in_flight_bytes, std::string host,
                                                 DeliveryListener& listener);
  ~KafkaSink() override;

  void send(BatchPtr batch) override;
  bool flush(std::chrono::milliseconds timeout) override;
  [[nodiscard]] std::optional<std::string> failure() const override;
  // For /ready: empty when a metadata request for kafka.topic succeeded within the last
  // second (probing at most once a second, for at most 1 s), else why not. Thread-safe; a
  // caller arriving while another probes gets the previous answer instead of waiting.
  [[nodiscard]] std::string metadata_problem();

 private:
  struct InFlight;
  struct MessageRef {
    InFlight* batch;
    std::uint32_t index;
  };
  KafkaSink(const config::KafkaConfig& config, std::string host, DeliveryListener& listener);
  Status init(const std::string& bootstrap, std::uint64_t max_in_flight_bytes);
  // Calls `attempt` (one rd_kafka_producev) until librdkafka takes the message, waiting while
  // its queue is full; counts the message in flight; any other error fails the sink.
  template <class Attempt>
  void submit(Attempt&& attempt, const char* what);
  void produce(InFlight& f, std::size_t index);
  void produce_too_large(InFlight& f, std::size_t index);
  void acknowledge(InFlight& f, std::size_t index);
  void set_failure(std::string why);
  void poll_loop();
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque);
  static void on_error(rd_kafka_t*, int err, const char* reason, void* opaque);
  static void on_log(const rd_kafka_t*, int level, const char* facility, const char* message);
  // librdkafka statistics (statistics.interval.ms): broker round-trip, bytes queued, brokers up.
  static int on_statistics(rd_kafka_t*, char* json, size_t json_len, void* opaque);

  config::KafkaConfig config_;
  std::string host_;
  DeliveryListener& listener_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* topic_ = nullptr;
  rd_kafka_topic_t* dlq_ = nullptr;
  std::size_t max_message_bytes_ = 1000000;
  std::thread poller_;
  std::atomic<bool> stopping_{false};
  std::mutex probe_mu_;   // held while one metadata probe runs
  std::mutex answer_mu_;  // guards the two below
  std::chrono::steady_clock::time_point probed_at_{};
  std::string probe_problem_ = "metadata not probed yet";
  std::atomic<std::uint64_t> in_flight_{0};  // messages produced, not yet reported
  mutable std::mutex mu_;
  std::condition_variable drained_;
  std::optional<std::string> failure_;
};

}  // namespace auditship::sink
