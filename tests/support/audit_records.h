#pragma once
// Generated audit records for integration tests: each carries its file tag and sequence
// number so a consumer can check that every record arrived, once, in per-file order.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "support/cluster.h"

namespace auditship::testing {

// One JSON line (with newline) shaped like the seed's audit record; `pad` adds free text.
std::string audit_line(const std::string& tag, std::uint64_t seq, std::size_t pad = 120);
// Appends records [from, from+count) of `tag` to `path`, in chunks of a few KiB (like an app).
void append_records(const std::string& path, const std::string& tag, std::uint64_t from, std::uint64_t count,
                    std::size_t pad = 120);

struct Delivery {
  // tag -> seq -> times seen
  std::map<std::string, std::map<std::uint64_t, int>> seen;
  std::uint64_t total = 0, unparsable = 0;
  // Records of one tag seen out of order within a partition.
  std::uint64_t order_violations = 0;
  [[nodiscard]] std::uint64_t duplicates() const;
  // Sequence numbers of `tag` in [0, expected) never seen.
  [[nodiscard]] std::vector<std::uint64_t> missing(const std::string& tag, std::uint64_t expected) const;
};
Delivery summarize(const std::vector<Message>& messages);

}  // namespace auditship::testing
