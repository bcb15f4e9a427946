#pragma once
// Batches built by hand for sink tests: one record per payload, laid out as consecutive lines
// of one file, so acknowledgements can be checked by file offset.
#include <string>
#include <utility>
#include <vector>

#include "auditship/pipeline/batch.h"

namespace auditship::testing {

struct Line {
  std::string payload;
  Disposition disposition = Disposition::kShip;
  DeadLetterReason reason = DeadLetterReason::kNone;
};

// `path` empty: a batch with no source file (like the enricher's follow_up event batches).
BatchPtr make_batch(const std::vector<Line>& lines, const std::string& path = "/logs/a.jsonl",
                    std::uint64_t first_offset = 0);

}  // namespace auditship::testing
