#include "support/batches.h"

#include <gtest/gtest.h>

namespace auditship::testing {

BatchPtr make_batch(const std::vector<Line>& lines, const std::string& path, std::uint64_t first_offset) {
  auto b = std::make_unique<Batch>();
  if (!path.empty()) {
    auto f = std::make_shared<SourceFile>();
    f->path = path;
    b->source = f;
  }
  std::uint64_t off = first_offset;
  b->begin_offset = off;
  for (const Line& line : lines) {
    Record r;
    r.file_offset = off;
    r.line_bytes = line.payload.size() + 1;
    r.payload = {static_cast<std::uint32_t>(b->input.size()), static_cast<std::uint32_t>(line.payload.size())};
    r.raw = r.payload;
    r.disposition = line.disposition;
    r.reason = line.reason;
    b->input += line.payload + "\n";
    off += r.line_bytes;
    b->records.push_back(r);
  }
  b->end_offset = off;
  return b;
}

void RecordingListener::delivered(const Batch& batch, std::size_t index) {
  EXPECT_FALSE(batch.payload(batch.records[index]).empty()) << "acknowledged after its batch was freed";
  std::lock_guard lock(mu_);
  EXPECT_TRUE(acked_.insert({batch.source ? batch.source->path : "", batch.records[index].file_offset}).second)
      << "acknowledged twice";
}

std::size_t RecordingListener::count() {
  std::lock_guard lock(mu_);
  return acked_.size();
}

std::set<std::uint64_t> RecordingListener::offsets() {
  std::lock_guard lock(mu_);
  std::set<std::uint64_t> out;
  for (const auto& a : acked_) out.insert(a.second);
  return out;
}

}  // namespace auditship::testing
