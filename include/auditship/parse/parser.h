#pragma once
// The Parse stage: checks that each line is a JSON object in valid UTF-8 and extracts the
// fields later stages need (generation_id, user_id, timestamp, total_cost, the message key).
// A line that fails becomes a dead-letter envelope (see dead_letter.h) and is counted in
// auditship_parse_errors_total{error_type=...}; the batch carries on.
//
// Runs on: a pipeline worker; one Parser per worker (it reuses one simdjson parser, so the
// hot path allocates nothing per record). Validation is complete (simdjson DOM, not the lazy
// on-demand API): a malformed record must never ship, and on-demand only checks what it reads.
//
// Two ways to drive it, with the same results (records, fields, envelopes, metrics):
//  - process(): simdjson's DOM validates each line and the fields are read from it;
//  - a walk that validates every byte of the line anyway (the redactor's, see
//    Redactor::process) feeds it the line's top-level members and its verdict, so a line is
//    read once instead of twice. Only a line that walk rejects is parsed by the DOM, which
//    says why (the dead-letter reason) exactly as process() would.
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "auditship/pipeline/batch.h"

namespace auditship::parse {

struct ParserOptions {
  std::string key_field;  // top-level field that becomes the Kafka key; empty: no key
  std::string host;                         // written into dead-letter envelopes
};

// A top-level member's value as a walk over the line sees it.
struct Scalar {
  enum class Kind : std::uint8_t { kString, kInteger, kFloat, kOther };
  Kind kind = Kind::kOther;
  std::string_view text;  // kString: the unescaped contents; kInteger: the number as JSON prints it
  double number = 0;      // kInteger, kFloat: the value, rounded to the nearest double
};

class Parser {
 public:
  explicit Parser(ParserOptions options);
  // Parses every record of the batch still marked kShip, and turns records the tailer marked
  // kDeadLetter (over-long lines) and the ones that fail here into dead-letter envelopes.
  void process(Batch& batch);

  // What a top-level key is to the parser: a field it extracts, the message key, both, or
  // nothing (false).
  struct Wanted {
    Slice Record::*text = nullptr;  // generation_id, user_id or timestamp
    bool cost = false;              // total_cost
    bool key = false;               // kafka.key_field
    explicit operator bool() const { return text || cost || key; }
  };

  // Driven by another walk, per record in batch order:
  //  begin() — false if the record is not to be walked (an over-long line becomes its
  //            envelope here, as in process());
  //  member() for each top-level member whose key wants(), in line order;
  //  then accept() if the walk found the line a valid JSON object in UTF-8 that simdjson
  //  would take (64-bit integers, finite doubles, paired surrogate escapes), or else
  //  reject(): the DOM parses the line, dead-letters it with its reason and returns true; it
  //  returns false when the DOM accepts the line after all (its fields are then the DOM's).
  //  end_batch() after the last record (publishes the counts).
  bool begin(Batch& batch, Record& record);
  [[nodiscard]] Wanted wants(std::string_view key) const {
    Wanted w;
    // Asked for every top-level member: the length picks the one name to compare.
    switch (key.size()) {
      case 7: if (key == "user_id") w.text = &Record::user_id; break;
      case 9: if (key == "timestamp") w.text = &Record::timestamp; break;
      case 10: w.cost = key == "total_cost"; break;
      case 13: if (key == "generation_id") w.text = &Record::generation_id; break;
      default: break;
    }
    w.key = key == options_.key_field && !key.empty();
    return w;
  }
  void member(Batch& batch, Record& record, Wanted wanted, const Scalar& value);
  void accept() { ++parsed_; }
  bool reject(Batch& batch, Record& record);
  void end_batch();

 private:
  void parse_record(Batch& batch, Record& record);
  void dead_letter(Batch& batch, Record& record, DeadLetterReason reason, std::string_view detail);

  ParserOptions options_;
  std::uint64_t parsed_ = 0;  // since the last end_batch()
  simdjson::dom::parser parser_;
  std::string padded_;  // one line plus SIMDJSON_PADDING, reused
};

}  // namespace auditship::parse
