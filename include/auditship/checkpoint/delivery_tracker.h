#pragma once
// Turns out-of-order record acknowledgements into per-file committed offsets.
//
// The tailer registers each batch with track() in file order before handing it on; the sink
// reports each acknowledged record with delivered(). For each file the tracker keeps its
// batches in order and advances the committed offset to the end of the longest prefix of
// acknowledged records, telling the CheckpointStore. Enqueueing into Kafka is not delivery.
// Thread-safe (track from the tailer thread, delivered from the sink's delivery thread).
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "auditship/checkpoint/checkpoint_store.h"
#include "auditship/sink/sink.h"

namespace auditship::checkpoint {

class DeliveryTracker final : public sink::DeliveryListener {
 public:
  explicit DeliveryTracker(CheckpointStore& store) : store_(store) {}

  // Assigns batch.ticket and remembers its records' end offsets. Batches with no source
  // (e.g. enrichment events) are not tracked.
  void track(Batch& batch);
  void delivered(const Batch& batch, std::size_t record_index) override;

  // Records tracked but not yet acknowledged (all files).
  [[nodiscard]] std::uint64_t pending_records() const;
  [[nodiscard]] std::uint64_t pending_batches() const;

 private:
  struct Entry {
    std::uint64_t ticket;
    std::uint64_t begin_offset, end_offset;
    std::vector<std::uint64_t> record_ends;  // end offset of each record, in order
    std::vector<bool> acked;
    std::size_t prefix = 0;  // records [0, prefix) are acknowledged
  };
  struct FileState {
    SourceFilePtr source;
    std::deque<Entry> entries;
  };
  void advance(std::uint64_t source_id);  // caller holds mu_

  CheckpointStore& store_;
  mutable std::mutex mu_;
  std::map<std::uint64_t, FileState> files_;  // by SourceFile::id
  std::uint64_t next_ticket_ = 1;
  std::uint64_t pending_records_ = 0;
  std::uint64_t pending_batches_ = 0;
};

}  // namespace auditship::checkpoint
