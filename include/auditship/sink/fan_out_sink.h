#pragma once
// Ships every batch to several sinks (Kafka and SQLite) and acknowledges a record to the
// downstream listener (the DeliveryTracker) only once every child sink has acknowledged it,
// so checkpoints follow the slowest sink and a restart re-sends what any sink lacks.
//
// Each child owns its own copy of a batch (Sink::send takes ownership): the last child gets
// the original's buffers, the others a copy. The original's memory lease moves into the
// fan-out's bookkeeping and is released when the last child is done with the batch, so the
// budget still gates reading; the copies are not leased (the pipeline divides
// max_in_flight_bytes by the number of sinks to keep the total within the bound).
//
// Threads: send()/flush()/failure() from the pipeline; child acknowledgements arrive on each
// child's delivery thread. The downstream listener is called with the batch of the child that
// acknowledged last, which that child keeps alive during the call.
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "auditship/sink/sink.h"

namespace auditship::sink {

class FanOutSink final : public Sink {
 public:
  explicit FanOutSink(DeliveryListener& downstream);
  ~FanOutSink() override;
  // The listener to give each child at its construction.
  [[nodiscard]] DeliveryListener& child_listener() { return children_listener_; }
  // Adds a child built with child_listener(). All children are added before the first send().
  void add(SinkPtr child);

  void send(BatchPtr batch) override;
  bool flush(std::chrono::milliseconds timeout) override;
  [[nodiscard]] std::optional<std::string> failure() const override;

 private:
  struct Shared;  // one per original batch: lease, per-record counts
  class ChildListener final : public DeliveryListener {
   public:
    explicit ChildListener(FanOutSink& owner) : owner_(owner) {}
    void delivered(const Batch& batch, std::size_t record_index) override;

   private:
    FanOutSink& owner_;
  };

  DeliveryListener& downstream_;
  ChildListener children_listener_{*this};
  std::vector<SinkPtr> children_;
  std::mutex mu_;
  // A child's batch (by address) -> its original's bookkeeping. An entry lives from send()
  // until that child acknowledged the batch's last record, before the child frees the batch,
  // so an address is never reused while it is still mapped.
  struct Copy {
    std::shared_ptr<Shared> shared;
    std::size_t unacknowledged;  // records of this copy its child has not acknowledged
  };
  std::unordered_map<const Batch*, Copy> batches_;
};

}  // namespace auditship::sink
