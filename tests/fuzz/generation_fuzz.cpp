// libFuzzer target for the enrich stage's JSON jobs (agent/enrich/generation.cpp): reading the
// generation endpoint's answer (GenerationParser), ISO-8601 timestamps (common/iso8601.cpp,
// which the enricher reads record times with), and rewriting an audit record with a result
// (RecordRewriter).
//
// Properties checked on every input:
//  - arbitrary bytes never crash (ASan/UBSan);
//  - a body the parser accepts yields an `openrouter` value that is a valid JSON object;
//  - a JSON object rewritten with that result (or a failed one) is a valid JSON object that keeps
//    every key of the original and has an `enrichment` object; a non-object is refused and
//    leaves `out` untouched;
//  - a parsed timestamp prints back as a timestamp that parses to the same value.
// Build/run: see redact_fuzz.cpp; ctest runs it AUDITSHIP_FUZZ_SECONDS (10 s). Longer:
//   build-asan/tests/fuzz/generation_fuzz -max_total_time=3600 -jobs=2 /tmp/gcorpus tests/fuzz/corpus/generation
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "auditship/common/iso8601.h"
#include "auditship/enrich/enrich_config.h"
#include "auditship/enrich/generation.h"

namespace {

[[noreturn]] void fail(const char* what, std::string_view in, std::string_view out) {
  std::fprintf(stderr, "PROPERTY VIOLATED: %s\n in: %.*s\nout: %.*s\n", what, static_cast<int>(in.size()), in.data(),
               static_cast<int>(out.size()), out.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace auditship::enrich;
  namespace iso8601 = auditship::iso8601;
  static GenerationParser parser(field_mask(all_generation_fields()));
  static RecordRewriter rewriter;
  static simdjson::dom::parser checker, in_checker;
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  LookupResult result;
  result.status = LookupStatus::kError;
  if (auto parsed = parser.parse(in)) {
    simdjson::dom::element obj;
    if (checker.parse(parsed->openrouter).get(obj) || !obj.is_object())
      fail("openrouter is not a JSON object", in, parsed->openrouter);
    result.status = LookupStatus::kOk;
    result.total_cost = parsed->total_cost;
    result.openrouter = parsed->openrouter;
  }

  // The same bytes as an audit record.
  std::string out = "unchanged";
  const bool rewritten = rewriter.rewrite(in, result, "fuzz", out);
  simdjson::dom::element original;
  const bool is_object = in_checker.parse(in.data(), in.size()).get(original) == simdjson::SUCCESS &&
                         original.is_object();
  if (!rewritten) {
    if (out != "unchanged") fail("a refused record changed out", in, out);
    if (is_object) fail("a JSON object was refused", in, out);
  } else if (is_object) {  // only parsed objects reach the rewriter in the agent
    std::string_view written = std::string_view(out).substr(9);
    simdjson::dom::element doc;
    if (checker.parse(written.data(), written.size()).get(doc) || !doc.is_object())
      fail("the rewritten record is not a JSON object", in, written);
    simdjson::dom::object enrichment;
    if (doc["enrichment"].get(enrichment)) fail("no enrichment object", in, written);
    simdjson::dom::object fields = original.get_object().value_unsafe();  // a copy: the result is a temporary
    for (auto field : fields)
      if (doc[field.key].error() == simdjson::NO_SUCH_FIELD) fail("a key of the record was lost", in, written);
  }

  if (size <= 64) {
    if (auto ms = iso8601::parse_ms(in, iso8601::Zone::kUtcIfMissing)) {
      std::string printed;
      iso8601::append(printed, *ms);
      auto back = iso8601::parse_ms(printed);
      if (!back || *back != *ms) fail("timestamp does not print back to itself", in, printed);
    }
  }
  return 0;
}
