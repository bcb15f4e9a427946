#pragma once
// The Format stage: wraps each shipped record in the envelope its SIEM expects (issue #5).
// Runs after Enrich, just before the sink, on whichever thread hands batches to the sink (one
// at a time: a Formatter is never used by two threads at once).
//
//   raw         the redacted, enriched record as is (zero copy: process() does nothing)
//   ecs         {"@timestamp","ecs":{version},"event":{kind,category,type,action,outcome,duration,
//               dataset},"user":{id},"host":{name},"log":{file:{path},offset},"error":{code},
//               "<record_field>":<record>}; event.duration is latency_ms in nanoseconds
//   splunk_hec  {"time":<epoch seconds>,"host","source","sourcetype"[,"index"],"event":<record>}
//   datadog     {"ddsource","service","hostname"[,"ddtags"],"status","timestamp":<epoch ms>,
//               "message":<one-line summary>,"<record_field>":<record>}
//
// Only kShip records are rewritten (dead letters keep their envelope: they go to another
// topic, read by people, not by the SIEM's parser). A field the record lacks is left out of
// the envelope, except ECS's mandatory @timestamp, which falls back to the time of formatting.
// The record itself is nested verbatim, so redaction and enrichment are preserved byte for byte.
//
// Allocation: one reused simdjson parser and padded buffer per Formatter; the envelope is
// appended to batch.output (reserved once per batch), nothing is allocated per record.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "auditship/common/result.h"
#include "auditship/format/format_config.h"
#include "auditship/pipeline/batch.h"

namespace auditship::format {

enum class Format : std::uint8_t { kRaw, kEcs, kSplunkHec, kDatadog };

class Formatter;
using FormatterPtr = std::unique_ptr<Formatter>;

class Formatter {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  // Fails on an unknown format. `host` is the agent's host name; `now` is for tests.
  [[nodiscard]] static Result<FormatterPtr> make(const OutputConfig& config, std::string host, Clock now = {});
  ~Formatter();

  [[nodiscard]] Format format() const { return format_; }
  // Rewrites every kShip record of the batch into batch.output (set_output_payload).
  void process(Batch& batch);
  // One record (a JSON object) appended to `out` in the configured envelope; `source` and
  // `offset` describe where it was read (empty source: none, e.g. an enrichment event).
  void format_record(std::string_view record, std::string_view source, std::uint64_t offset, std::string& out);

  struct State;

 private:
  Formatter(const OutputConfig& config, Format format, std::string host, Clock now);
  OutputConfig config_;
  Format format_;
  std::string host_;
  Clock now_;
  std::unique_ptr<State> state_;
};

}  // namespace auditship::format
