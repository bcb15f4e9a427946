#pragma once
// Rides out Kafka outages longer than the memory bound: decorates the Kafka sink and, while it
// is not keeping up, writes batches to zstd segment files (format: buffer/segment.h) under
// `<state_dir>/buffer/` instead of holding them in memory.
//
//  - Pass-through: a batch goes straight to the inner sink; its acknowledgements go downstream.
//  - Spilling starts when the inner sink holds `spill_bytes` unacknowledged or its oldest
//    unacknowledged batch is older than `spill_after`. From then on every batch is appended to
//    the current segment and, once durable (fsync policy), acknowledged downstream at once, which
//    frees its memory and lets checkpoints pass it. Spilling lasts until replay has caught up
//    with the last frame written, so records of a file reach Kafka in file order.
//  - Replay (own thread) reads segments in order, rebuilds each batch and sends it to the inner
//    sink, keeping at most `replay_bytes` unacknowledged. Their acknowledgements go nowhere
//    upstream (already checkpointed); a segment is deleted once every record read from it is
//    acknowledged. Leftover segments from a previous run are replayed first, each from the end
//    of its acknowledged prefix (`<segment>.acked`, written every 20 ms and at shutdown).
//  - A corrupt or torn frame is copied to `<dir>/quarantine/`, counted, and skipped; replay
//    resumes at the next valid frame.
//  - At `max_disk_bytes`: kBlock makes send() wait for space (backpressure on the tailer) for up
//    to `spill_after`, then hands the batch to the inner sink, where it waits in memory under
//    the memory bound (reading pauses there; a shutdown is never stuck behind a full disk);
//    kDropOldest deletes the oldest segment and counts its unreplayed records as dropped.
//
// Threads: send()/flush()/failure() from the pipeline; inner acknowledgements on the inner
// sink's delivery thread; the replay thread. Owned by the sink factory's Sinks; the inner sink
// is destroyed (purging what it holds, unacknowledged) after the replay thread stopped.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "auditship/buffer/buffer_config.h"
#include "auditship/common/result.h"
#include "auditship/sink/sink.h"

namespace auditship::buffer {

struct DiskBufferOptions {
  std::string dir;  // segments; quarantine/ below it
  std::uint64_t max_disk_bytes = 64u << 20;
  std::uint64_t segment_bytes = 4u << 20;
  bool drop_oldest = false;
  bool fsync_always = true;  // false: fsync every fsync_interval
  std::chrono::milliseconds fsync_interval{1000};
  std::chrono::milliseconds spill_after{2000};
  std::uint64_t spill_bytes = 4u << 20;
  std::uint64_t replay_bytes = 4u << 20;
  // From the config: segments of max_disk_bytes/8 (64 KiB..4 MiB) so the bound is reached
  // (and drop_oldest drops) in small steps; `memory_share` is this sink's part of
  // pipeline.max_in_flight_bytes, half of it may wait in Kafka before spilling, half be replayed.
  static DiskBufferOptions from(const BufferConfig& config, const std::string& state_dir,
                                std::uint64_t memory_share);
};

class DiskBufferSink;
using DiskBufferSinkPtr = std::unique_ptr<DiskBufferSink>;

class DiskBufferSink final : public sink::Sink {
 public:
  // Creates the directory and lists leftover segments (nothing is read yet).
  [[nodiscard]] static Result<DiskBufferSinkPtr> make(DiskBufferOptions options, sink::DeliveryListener& downstream);
  ~DiskBufferSink() override;
  // The listener the inner sink must be built with.
  [[nodiscard]] sink::DeliveryListener& inner_listener() { return inner_listener_; }
  // Takes the inner sink and starts replaying (leftover segments first). Before the first send().
  void start(sink::SinkPtr inner);

  void send(BatchPtr batch) override;
  // Makes spilled frames durable, then waits until the inner sink acknowledged everything
  // passed through and every segment is replayed, acknowledged and deleted.
  bool flush(std::chrono::milliseconds timeout) override;
  [[nodiscard]] std::optional<std::string> failure() const override;

  [[nodiscard]] bool spilling() const;
  [[nodiscard]] std::uint64_t disk_bytes() const;
  [[nodiscard]] std::size_t segment_count() const;

 private:
  struct Segment;
  using SegmentPtr = std::shared_ptr<Segment>;
  struct Cursor;
  class InnerListener final : public sink::DeliveryListener {
   public:
    explicit InnerListener(DiskBufferSink& owner) : owner_(owner) {}
    void delivered(const Batch& batch, std::size_t record_index) override;

   private:
    DiskBufferSink& owner_;
  };
  struct Passed {
    std::uint64_t seq, bytes;
    std::size_t remaining;
  };
  struct Replayed {
    SegmentPtr segment;
    std::uint64_t bytes;
    std::size_t remaining;
    std::uint64_t frame_begin;  // offset of its frame in the segment
  };

  DiskBufferSink(DiskBufferOptions options, sink::DeliveryListener& downstream);
  Status open_dir();
  void pass_through(BatchPtr batch);
  bool should_spill();
  // The rest run with mu_ held (`lk`).
  bool full(std::uint64_t frame_bytes) const;
  bool drop_oldest_segment();
  Status append_frame(const std::string& frame, std::uint32_t records);
  Status open_segment();
  void seal_current();
  void sync_pending();        // interval policy: fsync, then move pending_ to ready_
  void deliver_ready(std::unique_lock<std::mutex>& lk);  // acknowledges ready_ downstream, unlocked
  void maybe_delete(const SegmentPtr& segment);
  void persist_progress();  // writes each segment's acknowledged prefix if it advanced
  void update_gauges();
  void replay_loop();
  // Without mu_: reads what is written of the cursor's segment and returns the next batch, or
  // null when everything written so far is consumed (quarantining what does not check out).
  BatchPtr read_next(Cursor& cur, std::uint64_t written, bool sealed);
  void quarantine(const Cursor& cur, std::size_t begin, std::size_t end, const std::string& why);
  void on_inner_delivered(const Batch& batch, std::size_t index);

  const DiskBufferOptions opts_;
  sink::DeliveryListener& downstream_;
  InnerListener inner_listener_{*this};
  sink::SinkPtr inner_;

  std::mutex pass_mu_;  // pass-through bookkeeping (kept off the disk path)
  std::unordered_map<const Batch*, Passed> passed_;
  std::map<std::uint64_t, std::chrono::steady_clock::time_point> passed_at_;  // by seq: oldest first
  std::uint64_t next_pass_seq_ = 0;
  std::atomic<std::uint64_t> pass_bytes_{0};

  mutable std::mutex mu_;  // everything below
  std::condition_variable cv_;
  bool stopping_ = false;
  bool spilling_ = false;
  bool leftovers_only_ = false;  // spilling only because of a previous run's segments
  std::deque<SegmentPtr> segments_;  // oldest first; the last one may be open for writing
  int writer_fd_ = -1;               // the last segment's, while open
  std::uint64_t next_seq_ = 1;
  std::uint64_t disk_bytes_ = 0;
  std::uint64_t replay_unacked_ = 0;
  std::unordered_map<const Batch*, Replayed> replayed_;
  std::vector<BatchPtr> pending_, ready_;  // interval policy: written, not yet fsynced / fsynced
  std::chrono::steady_clock::time_point last_sync_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_progress_ = std::chrono::steady_clock::now();
  std::thread replayer_;
};

}  // namespace auditship::buffer
