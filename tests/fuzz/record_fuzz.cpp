// libFuzzer target for the JSON record path the worker runs on every batch: the tailer's
// LineSplitter cuts the input into lines, then Parser → Redactor (default detectors plus
// field policies: hash, drop, keep) re-serialize each record.
//
// Properties checked on every input:
//  - arbitrary bytes never crash (ASan/UBSan catch memory errors and UB);
//  - every line becomes exactly one record; a kShip record's payload is a valid JSON object,
//    and a kDeadLetter record's payload is a valid JSON envelope with a `reason`;
//  - a line simdjson accepts as an object ships (it is never dead-lettered as invalid);
//  - the hashed field never ships as it was written (a line with "user_id":"<x>" does not
//    carry "<x>" under user_id afterwards), unless <x> already is a pseudonym (64 lowercase
//    hex digits): hashing leaves those as they are, so redacting twice changes nothing
//    (redactor_test, HashUsesHmacAndIsIdempotent);
//  - parsing in the redactor's walk (Redactor::process(batch, &parser), what the workers run)
//    gives exactly what Parser::process then Redactor::process gives: dispositions, reasons,
//    payload bytes and extracted fields.
// Build/run: see redact_fuzz.cpp; ctest runs it AUDITSHIP_FUZZ_SECONDS (10 s). Longer:
//   build-asan/tests/fuzz/record_fuzz -max_total_time=3600 -jobs=2 -dict=tests/fuzz/redact.dict /tmp/jcorpus tests/fuzz/corpus/redact
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "auditship/parse/parser.h"
#include "auditship/redact/hmac.h"
#include "auditship/redact/redactor.h"
#include "auditship/tail/line_splitter.h"

namespace {

[[noreturn]] void fail(const char* what, std::string_view line, std::string_view payload) {
  std::fprintf(stderr, "PROPERTY VIOLATED: %s\n line: %.*s\n payload: %.*s\n", what, static_cast<int>(line.size()),
               line.data(), static_cast<int>(payload.size()), payload.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace auditship;
  static auto redactor = [] {
    ::setenv("AUDITSHIP_FUZZ_HMAC", "fuzz-hmac-key-0123456789", 1);
    redact::RedactConfig config;
    config.fields = {{"user_id", "hash"}, {"prompt", "drop"}, {"model_used", "keep"}};
    config.hash_key_env = "AUDITSHIP_FUZZ_HMAC";
    auto made = redact::Redactor::make(config);
    if (!made) std::abort();
    return std::move(*made);
  }();
  static parse::Parser parser({"generation_id", "fuzz-host"}), walk_parser({"generation_id", "fuzz-host"});
  static auto walker = redactor->clone();
  static simdjson::dom::parser checker, in_checker;  // out and in stay valid side by side

  Batch batch;
  tail::LineSplitter splitter(4096, 256);
  splitter.reset(0);
  splitter.begin(batch.input);
  batch.input.append(reinterpret_cast<const char*>(data), size);
  batch.input += '\n';  // the last line is complete
  batch.end_offset = splitter.split(batch.input, batch.records);
  const std::string input = batch.input;  // records' raw slices index this
  Batch walked;
  walked.input = batch.input;
  walked.records = batch.records;

  parser.process(batch);
  redactor->process(batch);
  walker->process(walked, &walk_parser);

  for (std::size_t i = 0; i < batch.records.size(); ++i) {
    const Record &a = batch.records[i], &b = walked.records[i];
    std::string_view line(input.data() + a.raw.offset, a.raw.length);
    if (a.disposition != b.disposition || a.reason != b.reason || batch.payload(a) != walked.payload(b))
      fail("parsing in the walk shipped something else", line, walked.payload(b));
    if (batch.field(a.key) != walked.field(b.key) || batch.field(a.generation_id) != walked.field(b.generation_id) ||
        batch.field(a.user_id) != walked.field(b.user_id) || batch.field(a.timestamp) != walked.field(b.timestamp) ||
        !(a.total_cost == b.total_cost))
      fail("parsing in the walk extracted other fields", line, walked.payload(b));
  }

  for (const Record& r : batch.records) {
    std::string_view line(input.data() + r.raw.offset, r.raw.length);
    std::string_view payload = batch.payload(r);
    simdjson::dom::element out;
    if (checker.parse(payload.data(), payload.size()).get(out)) fail("payload is not valid JSON", line, payload);
    if (r.disposition == Disposition::kShip) {
      if (!out.is_object()) fail("a shipped payload is not an object", line, payload);
      std::string_view user;
      simdjson::dom::element in;
      std::string_view original;
      if (!out["user_id"].get(user) && in_checker.parse(line.data(), line.size()).get(in) == simdjson::SUCCESS &&
          !in["user_id"].get(original) && !original.empty() && user == original &&
          !redact::HmacSha256::is_digest_hex(original))
        fail("the hashed field shipped as written", line, payload);
    } else if (r.disposition == Disposition::kDeadLetter) {
      std::string_view reason;
      if (out["reason"].get(reason) || reason.empty()) fail("a dead letter without a reason", line, payload);
      simdjson::dom::element in;
      if (r.reason != DeadLetterReason::kLineTooLong && r.reason != DeadLetterReason::kUnredactable &&
          in_checker.parse(line.data(), line.size()).get(in) == simdjson::SUCCESS && in.is_object())
        fail("a valid object was dead-lettered", line, payload);
    }
  }
  return 0;
}
