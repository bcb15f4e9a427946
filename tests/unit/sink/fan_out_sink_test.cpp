// FanOutSink with hand-driven children: a record reaches the tracker only once every child
// acknowledged it, and the batch's memory lease lives until the last child is done.
#include "auditship/sink/fan_out_sink.h"

#include <gtest/gtest.h>

#include <set>

#include "support/batches.h"

namespace auditship::sink {
namespace {

using testing::make_batch;
using testing::RecordingListener;

// Keeps what it is sent; the test acknowledges records (or kDrop ones at once, like KafkaSink).
class ManualSink : public Sink {
 public:
  explicit ManualSink(DeliveryListener& listener) : listener_(listener) {}
  void send(BatchPtr batch) override {
    for (std::size_t i = 0; i < batch->records.size(); ++i)
      if (batch->records[i].disposition == Disposition::kDrop) listener_.delivered(*batch, i);
    batches.push_back(std::move(batch));
  }
  void ack(std::size_t batch, std::size_t index) { listener_.delivered(*batches[batch], index); }
  // A sink destroys a batch once all of it is acknowledged.
  void done(std::size_t batch) { batches[batch].reset(); }
  bool flush(std::chrono::milliseconds) override { return flushed; }
  [[nodiscard]] std::optional<std::string> failure() const override { return why; }

  std::vector<BatchPtr> batches;
  bool flushed = true;
  std::optional<std::string> why;

 private:
  DeliveryListener& listener_;
};

TEST(FanOutSink, AcknowledgesARecordOnlyWhenEveryChildHas) {
  RecordingListener tracker;
  FanOutSink fan(tracker);
  auto kafka = std::make_unique<ManualSink>(fan.child_listener());
  auto sqlite = std::make_unique<ManualSink>(fan.child_listener());
  ManualSink& k = *kafka;
  ManualSink& s = *sqlite;
  fan.add(std::move(kafka));
  fan.add(std::move(sqlite));

  MemoryBudget budget(1 << 20);
  auto b = make_batch({{"{\"a\":1}"}, {"{\"a\":2}"}, {"{\"a\":3}", Disposition::kDrop}});
  ASSERT_TRUE(budget.try_acquire(1000, b->lease));
  const std::uint64_t second = b->records[1].file_offset;
  fan.send(std::move(b));
  ASSERT_EQ(k.batches.size(), 1u);
  ASSERT_EQ(s.batches.size(), 1u);
  EXPECT_NE(k.batches[0].get(), s.batches[0].get()) << "each child owns its batch";
  EXPECT_EQ(k.batches[0]->input, s.batches[0]->input);
  EXPECT_EQ(tracker.offsets(), std::set<std::uint64_t>{s.batches[0]->records[2].file_offset})
      << "a dropped record is acknowledged by both children at once";

  k.ack(0, 0);
  k.ack(0, 1);
  EXPECT_EQ(tracker.count(), 1u) << "Kafka alone is not enough";
  s.ack(0, 1);
  EXPECT_EQ(tracker.offsets().count(second), 1u);
  EXPECT_EQ(tracker.count(), 2u);
  k.done(0);  // Kafka is finished with its copy; SQLite still holds record 0
  EXPECT_EQ(budget.used(), 1000u) << "the lease lives until every child is done";
  s.ack(0, 0);
  s.done(0);
  EXPECT_EQ(tracker.count(), 3u);
  EXPECT_EQ(budget.used(), 0u);
}

TEST(FanOutSink, FlushAndFailureCoverEveryChild) {
  RecordingListener tracker;
  FanOutSink fan(tracker);
  auto a = std::make_unique<ManualSink>(fan.child_listener());
  auto b = std::make_unique<ManualSink>(fan.child_listener());
  ManualSink& second = *b;
  fan.add(std::move(a));
  fan.add(std::move(b));
  EXPECT_TRUE(fan.flush(std::chrono::milliseconds(10)));
  EXPECT_FALSE(fan.failure());
  second.flushed = false;
  EXPECT_FALSE(fan.flush(std::chrono::milliseconds(10)));
  second.why = "disk on fire";
  EXPECT_EQ(fan.failure(), "disk on fire");
}

TEST(FanOutSink, AnEmptyBatchGoesNowhere) {
  RecordingListener tracker;
  FanOutSink fan(tracker);
  auto a = std::make_unique<ManualSink>(fan.child_listener());
  ManualSink& child = *a;
  fan.add(std::move(a));
  fan.send(make_batch({}));
  EXPECT_TRUE(child.batches.empty());
}

}  // namespace
}  // namespace auditship::sink
