#include "auditship/sink/sink_factory.h"

#include "auditship/buffer/disk_buffer_sink.h"
#include "auditship/common/log.h"
#include "auditship/sink/fan_out_sink.h"
#include "auditship/sink/sqlite_sink.h"

namespace auditship::sink {

std::size_t sink_count(const config::Config& config) {
  return (config.kafka.brokers.empty() ? 0 : 1) + (config.sqlite.enabled() ? 1 : 0);
}

Result<Sinks> make_sinks(const config::Config& config, const std::string& host, DeliveryListener& listener) {
  Sinks out;
  std::unique_ptr<FanOutSink> fan_out;
  if (sink_count(config) > 1) fan_out = std::make_unique<FanOutSink>(listener);
  DeliveryListener& child_listener = fan_out ? fan_out->child_listener() : listener;
  std::vector<SinkPtr> children;

  if (!config.kafka.brokers.empty()) {
    out.bootstrap = config.kafka.brokers;
    if (out.bootstrap == "embedded") {
      auto broker = EmbeddedBroker::start(1, config.kafka.embedded_partitions,
                                          {config.kafka.topic, config.kafka.dead_letter_topic});
      if (!broker) return Error{broker.error()};
      out.embedded = std::move(broker.value());
      out.bootstrap = out.embedded->bootstrap();
      log::info("embedded Kafka broker started (librdkafka mock cluster: demo and tests only)",
                {{"bootstrap", out.bootstrap}});
    }
    // buffer.max_disk_bytes: the disk buffer sits between the pipeline and Kafka only (the
    // outages it rides out are Kafka's), hearing Kafka's acknowledgements first.
    buffer::DiskBufferSinkPtr disk;
    if (config.buffer.enabled()) {
      auto made = buffer::DiskBufferSink::make(
          buffer::DiskBufferOptions::from(config.buffer, config.state_dir,
                                          config.pipeline.max_in_flight_bytes / sink_count(config)),
          child_listener);
      if (!made) return Error{made.error()};
      disk = std::move(made.value());
    }
    auto kafka = KafkaSink::make(config.kafka, out.bootstrap, config.pipeline.max_in_flight_bytes, host,
                                 disk ? disk->inner_listener() : child_listener);
    if (!kafka) return Error{kafka.error()};
    out.kafka = kafka->get();
    if (disk) disk->start(std::move(kafka.value()));
    children.push_back(disk ? SinkPtr(std::move(disk)) : SinkPtr(std::move(kafka.value())));
  }
  if (config.sqlite.enabled()) {
    auto sqlite = SqliteSink::make(config.sqlite, child_listener);
    if (!sqlite) return Error{sqlite.error()};
    out.sqlite = sqlite->get();
    children.push_back(std::move(sqlite.value()));
  }
  if (children.empty()) return Error{"no sink configured: set kafka.brokers, sqlite.path or both"};
  if (!fan_out) {
    out.sink = std::move(children.front());
    return out;
  }
  // SQLite first: it usually commits before Kafka acknowledges, so its copy is freed early.
  for (auto it = children.rbegin(); it != children.rend(); ++it) fan_out->add(std::move(*it));
  out.sink = std::move(fan_out);
  return out;
}

}  // namespace auditship::sink
