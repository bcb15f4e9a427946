#pragma once
// Where batches end: Kafka (KafkaSink), or a fake in component tests. A sink owns each batch
// it is given until every record of it is acknowledged, reports each acknowledgement to the
// DeliveryListener, then destroys the batch (releasing its memory lease).
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "auditship/pipeline/batch.h"

namespace auditship::sink {

// Told once per record when the sink knows it is durable (Kafka acknowledged it, or it was
// dropped on purpose). May be called from the sink's delivery thread.
class DeliveryListener {
 public:
  virtual ~DeliveryListener() = default;
  virtual void delivered(const Batch& batch, std::size_t record_index) = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // Takes the batch. May block while the sink's own queue is full (backpressure).
  virtual void send(BatchPtr batch) = 0;
  // Waits until nothing sent is still unacknowledged, or `timeout`. True if all acknowledged.
  virtual bool flush(std::chrono::milliseconds timeout) = 0;
  // A non-retriable failure (the agent must stop without advancing checkpoints past it).
  [[nodiscard]] virtual std::optional<std::string> failure() const = 0;
};
using SinkPtr = std::unique_ptr<Sink>;

}  // namespace auditship::sink
