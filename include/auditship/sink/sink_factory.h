#pragma once
// Builds the sinks the config asks for: Kafka (kafka.brokers set; behind a DiskBufferSink when
// buffer.max_disk_bytes > 0), SQLite (sqlite.path set),
// or both behind a FanOutSink. Keeps the pipeline ignorant of which sinks exist.
#include <cstdint>
#include <string>

#include "auditship/common/result.h"
#include "auditship/config/config.h"
#include "auditship/sink/embedded_broker.h"
#include "auditship/sink/kafka_sink.h"
#include "auditship/sink/sink.h"
#include "auditship/sink/sqlite_sink.h"

namespace auditship::sink {

struct Sinks {
  EmbeddedBrokerPtr embedded;  // kafka.brokers=embedded: must outlive `sink` (declared first)
  SinkPtr sink;                // what the pipeline sends to
  KafkaSink* kafka = nullptr;    // the Kafka sink, if any (owned by `sink`), e.g. for /ready
  SqliteSink* sqlite = nullptr;  // the SQLite sink, if any (owned by `sink`)
  std::string bootstrap;       // Kafka bootstrap actually used ("" without Kafka)
};

// How many sinks the config ships to (each holds its own copy of a batch).
[[nodiscard]] std::size_t sink_count(const config::Config& config);

// `listener` hears each record once every sink has acknowledged it.
[[nodiscard]] Result<Sinks> make_sinks(const config::Config& config, const std::string& host,
                                       DeliveryListener& listener);

}  // namespace auditship::sink
