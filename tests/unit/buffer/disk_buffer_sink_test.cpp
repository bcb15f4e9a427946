// DiskBufferSink against a hand-driven inner sink (Kafka up or down) and real files in a temp
// dir: spill and acknowledge once durable, replay in order, delete a segment only after all of
// it is acknowledged, replay leftovers after a restart, quarantine corrupt frames, and the
// disk bound (block, drop_oldest).
#include "auditship/buffer/disk_buffer_sink.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>

#include "auditship/buffer/segment.h"
#include "auditship/common/metrics.h"
#include "support/batches.h"
#include "support/temp_dir.h"

namespace auditship::buffer {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::make_batch;
using testing::TempDir;

// Kafka stand-in: while up it acknowledges everything at once; while down it holds batches
// until up() or ack_one(). Remembers every payload in the order it was sent.
class FakeKafka : public sink::Sink {
 public:
  explicit FakeKafka(sink::DeliveryListener& listener, bool up) : listener_(listener), up_(up) {}
  void send(BatchPtr batch) override {
    std::unique_lock lock(mu_);
    for (const Record& r : batch->records) shipped_.emplace_back(batch->payload(r));
    held_.push_back(std::move(batch));
    if (up_) release(lock);
    cv_.notify_all();
  }
  void up() {
    std::unique_lock lock(mu_);
    up_ = true;
    release(lock);
  }
  // Acknowledges every record of the oldest held batch but the last one: true if one was held.
  bool ack_all_but_last() {
    std::lock_guard lock(mu_);
    if (held_.empty()) return false;
    const Batch& b = *held_.front();
    for (std::size_t i = 0; i + 1 < b.records.size(); ++i) listener_.delivered(b, i);
    return true;
  }
  void ack_last() {
    BatchPtr b;
    {
      std::lock_guard lock(mu_);
      b = std::move(held_.front());
      held_.pop_front();
    }
    listener_.delivered(*b, b->records.size() - 1);
  }
  bool wait_shipped(std::size_t n, milliseconds timeout = milliseconds(10000)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return shipped_.size() >= n; });
  }
  std::vector<std::string> shipped() {
    std::lock_guard lock(mu_);
    return shipped_;
  }
  bool flush(milliseconds) override { return true; }
  [[nodiscard]] std::optional<std::string> failure() const override { return std::nullopt; }

 private:
  void release(std::unique_lock<std::mutex>& lock) {
    std::deque<BatchPtr> out;
    out.swap(held_);
    lock.unlock();  // a real sink acknowledges from its own thread, holding none of its locks
    for (const BatchPtr& b : out)
      for (std::size_t i = 0; i < b->records.size(); ++i) listener_.delivered(*b, i);
    lock.lock();
  }
  sink::DeliveryListener& listener_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool up_;
  std::deque<BatchPtr> held_;
  std::vector<std::string> shipped_;
};

// Pseudo-random hex: zstd cannot shrink it much, so sizes on disk are predictable.
std::string payload(int n, std::size_t bytes = 200) {
  std::string s = "{\"n\":" + std::to_string(n) + ",\"pad\":\"";
  std::uint64_t x = 0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(n + 1);
  while (s.size() < bytes) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    s += "0123456789abcdef"[x & 15];
  }
  return s + "\"}";
}

// Batch i: two records at offsets 1000*i.
BatchPtr batch(int i) { return make_batch({{payload(2 * i)}, {payload(2 * i + 1)}}, "/logs/a.jsonl", 1000u * i); }

std::uint64_t counter(const char* name) {
  return metrics::Registry::global().counter(name, "").value();
}

template <class Pred>
bool eventually(Pred pred, milliseconds timeout = milliseconds(10000)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

std::size_t segment_files_in(const std::string& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".zst") ++n;
  return n;
}

std::size_t files_in(const std::string& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) ++n;
  return n;
}

struct Fixture {
  TempDir dir;
  testing::RecordingListener acks;
  DiskBufferOptions opts;
  Fixture() {
    opts.dir = dir.file("buffer");
    opts.segment_bytes = 4096;
    opts.max_disk_bytes = 1 << 20;
    opts.spill_bytes = 1;  // anything unacknowledged in Kafka: spill the next batch
    opts.spill_after = milliseconds(60000);
    opts.replay_bytes = 1 << 20;
  }
  struct Running {
    DiskBufferSinkPtr sink;
    FakeKafka* kafka;
  };
  Running start(bool kafka_up) {
    auto made = DiskBufferSink::make(opts, acks);
    EXPECT_TRUE(made) << made.error();
    auto kafka = std::make_unique<FakeKafka>(made.value()->inner_listener(), kafka_up);
    FakeKafka* k = kafka.get();
    made.value()->start(std::move(kafka));
    return {std::move(made.value()), k};
  }
};

TEST(DiskBufferSink, PassesThroughWhileKafkaKeepsUp) {
  Fixture f;
  Fixture::Running run = f.start(true);
  DiskBufferSinkPtr& sink = run.sink;  // not a structured binding: clang 14 cannot capture those
  for (int i = 0; i < 5; ++i) sink->send(batch(i));
  EXPECT_EQ(f.acks.count(), 10u);
  EXPECT_FALSE(sink->spilling());
  EXPECT_EQ(sink->segment_count(), 0u);
  EXPECT_TRUE(sink->flush(milliseconds(1000)));
}

TEST(DiskBufferSink, SpillsWhileKafkaIsDownThenReplaysInOrderAndDeletesSegments) {
  Fixture f;
  f.opts.replay_bytes = 1;  // replay sends one batch to the dead "Kafka", then waits for it
  Fixture::Running run = f.start(false);
  DiskBufferSinkPtr& sink = run.sink;  // not a structured binding: clang 14 cannot capture those
  FakeKafka* kafka = run.kafka;
  const std::uint64_t written = counter("auditship_buffer_frames_written_total");
  sink->send(batch(0));  // passes through and waits in "Kafka"
  EXPECT_EQ(f.acks.count(), 0u);
  for (int i = 1; i < 40; ++i) sink->send(batch(i));
  EXPECT_TRUE(sink->spilling());
  EXPECT_EQ(counter("auditship_buffer_frames_written_total") - written, 39u);
  EXPECT_EQ(f.acks.count(), 78u) << "spilled records are acknowledged once fsynced";
  EXPECT_GT(sink->segment_count(), 1u) << "4 KiB segments";

  kafka->up();
  ASSERT_TRUE(kafka->wait_shipped(80));
  ASSERT_TRUE(eventually([&] { return sink->segment_count() == 0; }));
  EXPECT_EQ(f.acks.count(), 80u);
  EXPECT_EQ(sink->disk_bytes(), 0u);
  EXPECT_FALSE(sink->spilling());
  std::vector<std::string> expect;
  for (int n = 0; n < 80; ++n) expect.push_back(payload(n));
  EXPECT_EQ(kafka->shipped(), expect) << "file order kept across memory and disk";
  EXPECT_EQ(files_in(f.opts.dir), 0u);
  sink->send(batch(50));
  EXPECT_EQ(f.acks.count(), 82u) << "straight to Kafka again";
}

TEST(DiskBufferSink, ASegmentIsDeletedOnlyWhenEveryRecordOfItIsAcknowledged) {
  Fixture f;
  Fixture::Running run = f.start(false);
  DiskBufferSinkPtr& sink = run.sink;  // not a structured binding: clang 14 cannot capture those
  FakeKafka* kafka = run.kafka;
  sink->send(batch(0));
  sink->send(batch(1));  // spilled: one frame in one segment
  ASSERT_EQ(sink->segment_count(), 1u);
  ASSERT_TRUE(kafka->wait_shipped(4)) << "replay sends it even while Kafka is down";
  ASSERT_TRUE(kafka->ack_all_but_last());  // batch 0 (passed through), not yet the segment's
  kafka->ack_last();
  ASSERT_TRUE(kafka->ack_all_but_last());  // batch 1's first record
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(segment_files_in(f.opts.dir), 1u) << "one record of the segment is still unacknowledged";
  kafka->ack_last();
  EXPECT_TRUE(eventually([&] { return files_in(f.opts.dir) == 0; }));
}

TEST(DiskBufferSink, ARestartReplaysLeftoverSegmentsFirst) {
  Fixture f;
  {
    f.opts.replay_bytes = 1;  // keep the first run from sending much to its dead "Kafka"
    Fixture::Running run = f.start(false);
    DiskBufferSinkPtr& sink = run.sink;  // not a structured binding: clang 14 cannot capture those
    for (int i = 0; i < 10; ++i) sink->send(batch(i));
    ASSERT_EQ(f.acks.count(), 18u);
  }  // destroyed with Kafka down: its held batches are lost, the segments stay
  f.opts.replay_bytes = 1 << 20;
  const std::size_t acked = f.acks.count();
  // Kafka still down at first, so the leftovers cannot drain before the check.
  Fixture::Running run = f.start(false);
  DiskBufferSinkPtr& sink = run.sink;  // not a structured binding: clang 14 cannot capture those
  FakeKafka* kafka = run.kafka;
  EXPECT_TRUE(sink->spilling()) << "new batches queue behind the leftovers";
  sink->send(batch(10));
  kafka->up();
  ASSERT_TRUE(kafka->wait_shipped(20));
  const auto shipped = kafka->shipped();
  for (int n = 2; n < 20; ++n) EXPECT_EQ(shipped[n - 2], payload(n)) << n;
  EXPECT_EQ(shipped[18], payload(20)) << "after the leftovers";
  ASSERT_TRUE(eventually([&] { return sink->segment_count() == 0; }));
  EXPECT_EQ(f.acks.count(), acked + 2) << "replayed records are not acknowledged upstream twice";
}

TEST(DiskBufferSink, ARestartResumesReplayAfterWhatKafkaAcknowledged) {
  Fixture f;
  f.opts.segment_bytes = 1 << 20;
  {
    Fixture::Running run = f.start(false);
    for (int i = 0; i < 6; ++i) run.sink->send(batch(i));  // 0 in "Kafka", 1..5 in one segment
    ASSERT_TRUE(run.kafka->wait_shipped(12)) << "replay sent 1..5 to the dead Kafka";
    for (int acked = 0; acked < 3; ++acked) {  // batch 0, then frames 1 and 2, wholly
      ASSERT_TRUE(run.kafka->ack_all_but_last());
      run.kafka->ack_last();
    }
  }  // shut down with frames 3..5 unacknowledged: the progress marker says "after frame 2"
  Fixture::Running run = f.start(true);
  ASSERT_TRUE(eventually([&] { return run.sink->segment_count() == 0; }));
  std::vector<std::string> expect;
  for (int n = 6; n < 12; ++n) expect.push_back(payload(n));
  EXPECT_EQ(run.kafka->shipped(), expect) << "frames 1 and 2 are not sent again";
  EXPECT_EQ(files_in(f.opts.dir), 0u) << "segment and marker deleted";
}

TEST(DiskBufferSink, AfterReplayingLeftoversAloneBatchesGoStraightToKafkaAgain) {
  Fixture f;
  {
    f.opts.replay_bytes = 1;
    Fixture::Running run = f.start(false);
    DiskBufferSinkPtr& sink = run.sink;  // not a structured binding: clang 14 cannot capture those
    for (int i = 0; i < 3; ++i) sink->send(batch(i));
  }
  f.opts.replay_bytes = 1 << 20;
  Fixture::Running run = f.start(true);
  DiskBufferSinkPtr& sink = run.sink;  // not a structured binding: clang 14 cannot capture those
  FakeKafka* kafka = run.kafka;
  ASSERT_TRUE(eventually([&] { return !sink->spilling(); }));
  EXPECT_EQ(sink->segment_count(), 0u);
  EXPECT_EQ(kafka->shipped().size(), 4u);
}

TEST(DiskBufferSink, CorruptAndTornFramesAreQuarantinedAndTheirNeighboursReplayed) {
  Fixture f;
  f.opts.segment_bytes = 1 << 20;
  {
    f.opts.replay_bytes = 1;
    Fixture::Running run = f.start(false);
    DiskBufferSinkPtr& sink = run.sink;  // not a structured binding: clang 14 cannot capture those
    for (int i = 0; i < 4; ++i) sink->send(batch(i));  // 0 in "Kafka", 1..3 in one segment
    ASSERT_EQ(sink->segment_count(), 1u);
  }
  std::string seg_path;
  for (const auto& e : fs::directory_iterator(f.opts.dir))
    if (e.is_regular_file() && e.path().extension() == ".zst") seg_path = e.path().string();
  std::string bytes = testing::read_file(seg_path);
  // Flip a bit in the middle frame's compressed bytes, and add half a frame (crash mid-write).
  std::size_t second = kSegmentHeaderBytes + scan_frame(bytes, kSegmentHeaderBytes).end - kSegmentHeaderBytes;
  bytes[second + kFrameHeaderBytes + 10] ^= 0x04;
  bytes += encode_frame(*batch(9)).substr(0, 60);
  testing::write_file(seg_path, bytes);

  const std::uint64_t quarantined = counter("auditship_buffer_frames_quarantined_total");
  f.opts.replay_bytes = 1 << 20;
  Fixture::Running run = f.start(true);
  DiskBufferSinkPtr& sink = run.sink;  // not a structured binding: clang 14 cannot capture those
  FakeKafka* kafka = run.kafka;
  ASSERT_TRUE(eventually([&] { return sink->segment_count() == 0; }));
  EXPECT_EQ(kafka->shipped(), (std::vector<std::string>{payload(2), payload(3), payload(6), payload(7)}));
  EXPECT_EQ(counter("auditship_buffer_frames_quarantined_total") - quarantined, 2u);
  EXPECT_EQ(files_in(f.opts.dir + "/quarantine"), 2u);
}

TEST(DiskBufferSink, AtTheDiskBoundSendBlocksUntilReplayFreesSpace) {
  Fixture f;
  f.opts.max_disk_bytes = 16 << 10;
  f.opts.replay_bytes = 1;
  Fixture::Running run = f.start(false);
  DiskBufferSinkPtr& sink = run.sink;  // not a structured binding: clang 14 cannot capture those
  FakeKafka* kafka = run.kafka;
  sink->send(batch(0));
  int i = 1;
  // Fill the bound (each frame ~ 450 bytes).
  while (sink->disk_bytes() + 600 < f.opts.max_disk_bytes) sink->send(batch(i++));
  const std::uint64_t waits = counter("auditship_buffer_full_waits_total");
  const std::uint64_t dropped = counter("auditship_buffer_records_dropped_total");
  std::atomic<bool> returned{false};
  auto blocked = std::async(std::launch::async, [&, s = sink.get()] {
    for (int k = 0; k < 3; ++k) s->send(batch(1000 + k));
    returned = true;
  });
  ASSERT_TRUE(eventually([&] { return counter("auditship_buffer_full_waits_total") > waits; }));
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_FALSE(returned.load()) << "send() waits for space: the tailer slows down";
  EXPECT_LE(sink->disk_bytes(), f.opts.max_disk_bytes);
  kafka->up();
  blocked.get();
  ASSERT_TRUE(eventually([&] { return sink->segment_count() == 0; }));
  EXPECT_EQ(kafka->shipped().size(), static_cast<std::size_t>(2 * (i + 3)));
  EXPECT_EQ(counter("auditship_buffer_records_dropped_total"), dropped) << "block never drops";
}

TEST(DiskBufferSink, StillFullAfterSpillAfterTheBatchWaitsInKafkaUnderTheMemoryBound) {
  Fixture f;
  f.opts.max_disk_bytes = 16 << 10;
  f.opts.replay_bytes = 1;
  f.opts.spill_after = milliseconds(100);
  Fixture::Running run = f.start(false);
  run.sink->send(batch(0));
  int i = 1;
  while (run.sink->disk_bytes() + 600 < f.opts.max_disk_bytes) run.sink->send(batch(i++));
  const std::uint64_t kept = counter("auditship_buffer_batches_kept_in_memory_total");
  const std::size_t acked = f.acks.count();
  run.sink->send(batch(500));  // returns after spill_after: a shutdown is never stuck here
  EXPECT_EQ(counter("auditship_buffer_batches_kept_in_memory_total") - kept, 1u);
  EXPECT_EQ(f.acks.count(), acked) << "in Kafka's queue, it is acknowledged only by Kafka";
  EXPECT_EQ(run.kafka->shipped().back(), payload(1001));
  run.kafka->up();
  ASSERT_TRUE(eventually([&] { return run.sink->segment_count() == 0; }));
  EXPECT_EQ(f.acks.count(), acked + 4) << "batch 0 and the one kept in memory, from Kafka";
}

TEST(DiskBufferSink, WithFsyncIntervalSpilledRecordsAreAcknowledgedAfterTheNextFsync) {
  Fixture f;
  f.opts.fsync_always = false;
  f.opts.fsync_interval = milliseconds(300);
  Fixture::Running run = f.start(false);
  run.sink->send(batch(0));
  run.sink->send(batch(1));
  run.sink->send(batch(2));
  // The first fsync may come early (the interval counts from start); then none for 300 ms.
  ASSERT_TRUE(eventually([&] { return f.acks.count() == 4; }, milliseconds(5000)));
  run.sink->send(batch(3));
  EXPECT_EQ(f.acks.count(), 4u) << "written, not yet fsynced: not acknowledged";
  ASSERT_TRUE(eventually([&] { return f.acks.count() == 6; }, milliseconds(5000)));
  // flush() fsyncs at once.
  run.sink->send(batch(4));
  run.sink->flush(milliseconds(1));
  EXPECT_EQ(f.acks.count(), 8u);
}

TEST(DiskBufferSink, DropOldestDeletesTheOldestSegmentAndCountsItsRecords) {
  Fixture f;
  f.opts.max_disk_bytes = 16 << 10;
  f.opts.replay_bytes = 1;
  f.opts.drop_oldest = true;
  Fixture::Running run = f.start(false);
  DiskBufferSinkPtr& sink = run.sink;  // not a structured binding: clang 14 cannot capture those
  FakeKafka* kafka = run.kafka;
  const std::uint64_t dropped = counter("auditship_buffer_records_dropped_total");
  for (int i = 0; i < 200; ++i) sink->send(batch(i));  // ~90 KB of frames for a 16 KiB bound
  EXPECT_LE(sink->disk_bytes(), f.opts.max_disk_bytes);
  const std::uint64_t lost = counter("auditship_buffer_records_dropped_total") - dropped;
  EXPECT_GT(lost, 100u);
  kafka->up();
  ASSERT_TRUE(eventually([&] { return sink->segment_count() == 0; }));
  EXPECT_EQ(kafka->shipped().size() + lost, 400u) << "every record shipped or counted as dropped";
}

}  // namespace
}  // namespace auditship::buffer
