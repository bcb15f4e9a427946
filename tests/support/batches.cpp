#include "support/batches.h"

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

}  // namespace auditship::testing
