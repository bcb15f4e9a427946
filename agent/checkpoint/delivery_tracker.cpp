#include "auditship/checkpoint/delivery_tracker.h"

#include <algorithm>

#include "auditship/common/log.h"

namespace auditship::checkpoint {

void DeliveryTracker::track(Batch& batch) {
  if (!batch.source) return;
  std::lock_guard lock(mu_);
  batch.ticket = next_ticket_++;
  FileState& file = files_[batch.source->id];
  if (!file.source) file.source = batch.source;
  Entry e{batch.ticket, batch.begin_offset, batch.end_offset, {}, {}, 0};
  e.record_ends.reserve(batch.records.size());
  for (const Record& r : batch.records) e.record_ends.push_back(r.end_offset());
  e.acked.assign(batch.records.size(), false);
  pending_records_ += batch.records.size();
  ++pending_batches_;
  file.entries.push_back(std::move(e));
  // A batch with no records (e.g. only part of an over-long line) commits as soon as it
  // reaches the front.
  if (batch.records.empty()) advance(batch.source->id);
}

void DeliveryTracker::delivered(const Batch& batch, std::size_t index) {
  if (!batch.source || batch.ticket == 0) return;
  std::lock_guard lock(mu_);
  auto fit = files_.find(batch.source->id);
  if (fit == files_.end()) return;
  FileState& file = fit->second;
  // Batches complete mostly in order: search from the front.
  auto it = std::find_if(file.entries.begin(), file.entries.end(),
                         [&](const Entry& e) { return e.ticket == batch.ticket; });
  if (it == file.entries.end() || index >= it->acked.size() || it->acked[index]) {
    log::warn("delivery report for an unknown or already acknowledged record",
              {{"ticket", batch.ticket}, {"index", index}});
    return;
  }
  it->acked[index] = true;
  --pending_records_;
  while (it->prefix < it->acked.size() && it->acked[it->prefix]) ++it->prefix;
  if (it == file.entries.begin()) advance(batch.source->id);
}

void DeliveryTracker::advance(std::uint64_t source_id) {
  auto fit = files_.find(source_id);
  FileState& file = fit->second;
  std::uint64_t committed = 0;
  bool moved = false;
  while (!file.entries.empty()) {
    Entry& front = file.entries.front();
    if (front.prefix == front.acked.size()) {
      committed = front.end_offset;
      moved = true;
      file.entries.pop_front();
      --pending_batches_;
      continue;
    }
    if (front.prefix > 0) {
      committed = front.record_ends[front.prefix - 1];
      moved = true;
    }
    break;
  }
  if (moved) store_.update(*file.source, committed);
  // Rotated-away files stop sending batches: forget them once nothing is pending, so a
  // long-running agent does not accumulate one entry per file it ever read.
  if (file.entries.empty()) files_.erase(fit);
}

std::uint64_t DeliveryTracker::pending_records() const {
  std::lock_guard lock(mu_);
  return pending_records_;
}

std::uint64_t DeliveryTracker::pending_batches() const {
  std::lock_guard lock(mu_);
  return pending_batches_;
}

}  // namespace auditship::checkpoint
