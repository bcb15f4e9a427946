#pragma once
// Batches built by hand for sink tests: one record per payload, laid out as consecutive lines
// of one file, so acknowledgements can be checked by file offset.
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "auditship/pipeline/batch.h"
#include "auditship/sink/sink.h"

namespace auditship::testing {

struct Line {
  std::string payload;
  Disposition disposition = Disposition::kShip;
  DeadLetterReason reason = DeadLetterReason::kNone;
};

// `path` empty: a batch with no source file (like the enricher's follow_up event batches).
BatchPtr make_batch(const std::vector<Line>& lines, const std::string& path = "/logs/a.jsonl",
                    std::uint64_t first_offset = 0);

// Stands in for the pipeline's DeliveryTracker: which (file, offset) a sink acknowledged. A
// record acknowledged twice fails the test; the batch must still be whole when it is.
class RecordingListener : public sink::DeliveryListener {
 public:
  void delivered(const Batch& batch, std::size_t index) override;
  std::size_t count();
  std::set<std::uint64_t> offsets();

 private:
  std::mutex mu_;
  std::set<std::pair<std::string, std::uint64_t>> acked_;
};

}  // namespace auditship::testing
