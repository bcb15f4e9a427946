#pragma once
// The Redact stage: removes PII and secrets from JSON string values (issue #3).
//
// Threading: make() compiles the detectors once (the slow part, ~ms to 100s of ms); each
// worker thread then owns one Redactor, either the one make() returned or a clone(). Clones
// share the compiled databases, key and counters, and own their Hyperscan scratch and
// buffers, so a Redactor is never used by two threads at once and never locks.
//
// What is rewritten: JSON string values (and keys with `scan_keys`), matched as their
// decoded text; numbers, booleans, null, keys and structure are copied byte for byte, so an
// output line is valid JSON of the same shape. Unchanged parts of a string keep their
// original escapes. Field policies select by dotted member path; a path matches through
// arrays (`messages.content` is the `content` of every object in the `messages` array) and
// a policy covers everything below its member unless a longer path says otherwise.
//
// Errors: make() fails on a pattern Hyperscan rejects (naming the detector) and when a
// `hash` field has no HMAC key. A line that is not valid JSON is never echoed.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auditship/common/result.h"
#include "auditship/pipeline/batch.h"
#include "auditship/redact/engine.h"
#include "auditship/redact/redact_config.h"

namespace auditship::parse {
class Parser;
}

namespace auditship::redact {

class Redactor;
using RedactorPtr = std::unique_ptr<Redactor>;

class Redactor {
 public:
  enum class Outcome : std::uint8_t { kInvalid, kUnchanged, kChanged };

  // `detector_cache_file`: see Engine::compile (the agent passes <state_dir>/detectors.hsdb).
  [[nodiscard]] static Result<RedactorPtr> make(const RedactConfig& config, const std::string& detector_cache_file = {});
  // Benchmarks/tests: an explicit detector set with the default field policies.
  [[nodiscard]] static Result<RedactorPtr> make(std::vector<DetectorSpec> detectors);
  // The straightforward path the fast one must equal byte for byte: every string runs
  // through the exact (start-of-match) database, no prefilter, no triggers. Slow; for the
  // differential test (tests/unit/redact/redactor_diff_test.cpp) only.
  [[nodiscard]] static Result<RedactorPtr> make_reference_for_test(const RedactConfig& config);
  // Another Redactor for another worker thread, sharing everything compiled.
  [[nodiscard]] RedactorPtr clone() const;
  ~Redactor();

  // Rewrites every kShip record and dead-letter envelope of the batch: a changed payload
  // moves to batch.output, an unchanged one stays where it is (zero copy). A record the
  // redactor cannot parse becomes an `unredactable` dead letter without its bytes (counted),
  // never shipped unredacted. Flushes counters.
  // With a parser, this is the Parse stage too (see parser.h): the walk that redacts a line
  // also checks it as simdjson would and hands the parser its top-level members, so the
  // batch needs no parser.process() first and each line is read once.
  void process(Batch& batch, parse::Parser* parser = nullptr);
  // One JSON text in, its redacted form appended to `out`. False (and `out` untouched) if
  // `json` is not valid JSON (RFC 8259, UTF-8).
  bool redact_json(std::string_view json, std::string& out);
  // As redact_json, but appends only when something changed (kChanged).
  Outcome rewrite(std::string_view json, std::string& out);

  // Adds the per-detector counts gathered since the last flush to the process metrics
  // (auditship_redactions_total{detector=...}); process() calls it once per batch.
  void flush_counters();
  // Redactions by this instance since construction, by detector name (tests).
  [[nodiscard]] std::uint64_t count_for_test(std::string_view detector) const;

  struct Shared;  // compiled state shared by clones (see redactor.cpp)
  struct State;   // per-instance state
  struct Fields;  // where a parsing walk sends the members it reads

 private:
  explicit Redactor(std::shared_ptr<const Shared> shared);
  // Whether one prefilter scan of a whole buffer can stand in for one scan per line in it.
  [[nodiscard]] bool buffer_prefilter_usable() const;
  // Runs the custom detectors' prefilter over one line (state_->line_ends).
  void prefilter_line(std::string_view json);
  // rewrite(), once state_->line_ends holds the prefilter's answer for `json`; with `fields`,
  // the walk also parses (see process()).
  Outcome rewrite_scanned(std::string_view json, std::string& out, const Fields* fields = nullptr);
  // process() for one record's payload.
  Outcome redact_record(Batch& batch, Record& record, bool whole_buffer, const Fields* fields);
  std::shared_ptr<const Shared> shared_;
  std::unique_ptr<State> state_;
};

// Hex HMAC-SHA256 of `data` under `key` (what the `hash` policy writes).
[[nodiscard]] std::string hmac_sha256_hex(std::string_view key, std::string_view data);

}  // namespace auditship::redact
