#include "auditship/sink/fan_out_sink.h"

#include "auditship/common/log.h"

namespace auditship::sink {
namespace {

// Everything but the lease, which stays with the original (one batch, one lease).
BatchPtr copy_of(const Batch& b) {
  auto c = std::make_unique<Batch>();
  c->source = b.source;
  c->begin_offset = b.begin_offset;
  c->end_offset = b.end_offset;
  c->input = b.input;
  c->output = b.output;
  c->fields = b.fields;
  c->records = b.records;
  c->ticket = b.ticket;
  return c;
}

}  // namespace

struct FanOutSink::Shared {
  MemoryBudget::Lease lease;
  std::vector<std::uint8_t> remaining;  // per record: children that have not acknowledged it
};

FanOutSink::FanOutSink(DeliveryListener& downstream) : downstream_(downstream) {}

FanOutSink::~FanOutSink() {
  // Children may still report while they shut down; they go first, while the map is alive.
  children_.clear();
}

void FanOutSink::add(SinkPtr child) { children_.push_back(std::move(child)); }

void FanOutSink::send(BatchPtr batch) {
  const std::size_t n = children_.size();
  // Nothing to acknowledge: the tracker committed an empty batch when it was tracked.
  if (batch->records.empty() || n == 0) return;
  auto shared = std::make_shared<Shared>();
  shared->lease = std::move(batch->lease);
  shared->remaining.assign(batch->records.size(), static_cast<std::uint8_t>(n));
  std::vector<BatchPtr> copies;
  copies.reserve(n);
  for (std::size_t c = 0; c + 1 < n; ++c) copies.push_back(copy_of(*batch));
  copies.push_back(std::move(batch));
  {
    // Registered before any child sees its copy: a child may acknowledge inside send().
    std::lock_guard lock(mu_);
    for (const BatchPtr& copy : copies) batches_[copy.get()] = {shared, copy->records.size()};
  }
  for (std::size_t c = 0; c < n; ++c) children_[c]->send(std::move(copies[c]));
}

void FanOutSink::ChildListener::delivered(const Batch& batch, std::size_t index) {
  FanOutSink& f = owner_;
  std::shared_ptr<Shared> keep;  // the lease is released when the last child is done
  bool all_acknowledged = false;
  {
    std::lock_guard lock(f.mu_);
    auto it = f.batches_.find(&batch);
    if (it == f.batches_.end() || index >= it->second.shared->remaining.size()) {
      log::warn("fan-out: acknowledgement for an unknown batch", {{"index", index}});
      return;
    }
    keep = it->second.shared;
    all_acknowledged = --keep->remaining[index] == 0;
    if (--it->second.unacknowledged == 0) f.batches_.erase(it);
  }
  if (all_acknowledged) f.downstream_.delivered(batch, index);
}

bool FanOutSink::flush(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool all = true;
  for (const SinkPtr& child : children_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    all = child->flush(std::max(left, std::chrono::milliseconds(0))) && all;
  }
  return all;
}

std::optional<std::string> FanOutSink::failure() const {
  for (const SinkPtr& child : children_)
    if (auto why = child->failure()) return why;
  return std::nullopt;
}

}  // namespace auditship::sink
