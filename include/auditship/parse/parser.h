#pragma once
// The Parse stage: checks that each line is a JSON object in valid UTF-8 and extracts the
// fields later stages need (generation_id, user_id, timestamp, total_cost, the message key).
// A line that fails becomes a dead-letter envelope (see dead_letter.h) and is counted in
// auditship_parse_errors_total{error_type=...}; the batch carries on.
//
// Runs on: a pipeline worker; one Parser per worker (it reuses one simdjson parser, so the
// hot path allocates nothing per record). Validation is complete (simdjson DOM, not the lazy
// on-demand API): a malformed record must never ship, and on-demand only checks what it reads.
#include <simdjson.h>

#include <string>

#include "auditship/pipeline/batch.h"

namespace auditship::parse {

struct ParserOptions {
  std::string key_field;  // top-level field that becomes the Kafka key; empty: no key
  std::string host;                         // written into dead-letter envelopes
};

class Parser {
 public:
  explicit Parser(ParserOptions options);
  // Parses every record of the batch still marked kShip, and turns records the tailer marked
  // kDeadLetter (over-long lines) and the ones that fail here into dead-letter envelopes.
  void process(Batch& batch);

 private:
  void parse_record(Batch& batch, Record& record);
  void dead_letter(Batch& batch, Record& record, DeadLetterReason reason, std::string_view detail);

  ParserOptions options_;
  simdjson::dom::parser parser_;
  std::string padded_;  // one line plus SIMDJSON_PADDING, reused
};

}  // namespace auditship::parse
