// libFuzzer target for the Redactor (default detectors).
//
// Properties checked on every input:
//  - arbitrary bytes never crash (ASan/UBSan catch memory and UB errors);
//  - what simdjson accepts, the redactor accepts;
//  - for valid JSON, the output is valid JSON with the same keys, in the same order, and the
//    same non-string values (strings may change: that is the point);
//  - redacting the output again changes nothing;
//  - with custom detectors (support/edge_detectors.h), Redactor::process over the input's lines as one batch (one
//    prefilter scan of the whole buffer) gives each line what redacting it alone gives.
//
// Build and run (see tests/fuzz/CMakeLists.txt); ctest runs it for 45 s (label `fuzz`):
//   cmake -G Ninja -S . -B build-asan -DCMAKE_CXX_COMPILER=clang++-14 -DAUDITSHIP_FUZZ=ON -DAUDITSHIP_SANITIZE=address,undefined -DAUDITSHIP_BENCH=OFF
//   ninja -C build-asan redact_fuzz && ctest --test-dir build-asan -L fuzz
// Longer (an hour, both cores, keeping new inputs):
//   mkdir -p /tmp/rcorpus && build-asan/tests/fuzz/redact_fuzz -max_total_time=3600 -jobs=2 -dict=tests/fuzz/redact.dict /tmp/rcorpus tests/fuzz/corpus/redact
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auditship/pipeline/batch.h"
#include "auditship/redact/redactor.h"
#include "support/edge_detectors.h"

namespace {

using auditship::redact::Redactor;
using simdjson::dom::element;
using simdjson::dom::element_type;

[[noreturn]] void fail(const char* what, std::string_view in, std::string_view out) {
  std::fprintf(stderr, "PROPERTY VIOLATED: %s\n in: %.*s\nout: %.*s\n", what, static_cast<int>(in.size()), in.data(),
               static_cast<int>(out.size()), out.data());
  std::abort();
}

bool same_shape(element a, element b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case element_type::OBJECT: {
      auto ao = a.get_object().value_unsafe();
      auto bo = b.get_object().value_unsafe();
      if (ao.size() != bo.size()) return false;
      auto bi = bo.begin();
      for (auto field : ao) {
        if (field.key != (*bi).key || !same_shape(field.value, (*bi).value)) return false;
        ++bi;
      }
      return true;
    }
    case element_type::ARRAY: {
      auto aa = a.get_array().value_unsafe();
      auto ba = b.get_array().value_unsafe();
      if (aa.size() != ba.size()) return false;
      auto bi = ba.begin();
      for (auto v : aa) {
        if (!same_shape(v, *bi)) return false;
        ++bi;
      }
      return true;
    }
    case element_type::STRING: return true;
    case element_type::INT64: return a.get_int64().value_unsafe() == b.get_int64().value_unsafe();
    case element_type::UINT64: return a.get_uint64().value_unsafe() == b.get_uint64().value_unsafe();
    case element_type::DOUBLE: return a.get_double().value_unsafe() == b.get_double().value_unsafe();
    case element_type::BOOL: return a.get_bool().value_unsafe() == b.get_bool().value_unsafe();
    case element_type::NULL_VALUE: return true;
    default: return false;
  }
}

void check_batch_equals_lines(std::string_view in) {
  static auto batch_redactor = [] {
    auto made = Redactor::make(auditship::testing::edge_custom_detectors());
    if (!made) std::abort();
    return std::move(*made);
  }();
  static auto line_redactor = batch_redactor->clone();
  auditship::Batch batch;
  batch.input.assign(in);
  for (std::size_t at = 0; at < in.size();) {
    std::size_t end = in.find('\n', at);
    if (end == std::string_view::npos) end = in.size();
    auditship::Record r;
    r.raw = r.payload = {static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(end - at)};
    batch.records.push_back(r);
    at = end + 1;
  }
  batch_redactor->process(batch);
  std::string alone;
  for (const auditship::Record& r : batch.records) {
    const std::string_view line = in.substr(r.raw.offset, r.raw.length);
    alone.clear();
    if (!line_redactor->redact_json(line, alone)) {
      if (r.disposition != auditship::Disposition::kDeadLetter) fail("batch shipped a line redaction rejects", line, batch.payload(r));
      continue;
    }
    if (batch.payload(r) != alone) fail("batch and line-by-line redaction differ", line, batch.payload(r));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto redactor = [] {
    auto made = Redactor::make(auditship::redact::RedactConfig{});
    if (!made) std::abort();
    return std::move(*made);
  }();
  static simdjson::dom::parser in_parser, out_parser;

  std::string_view in(reinterpret_cast<const char*>(data), size);
  check_batch_equals_lines(in);
  std::string out;
  bool ok = redactor->redact_json(in, out);
  auto in_doc = in_parser.parse(in.data(), in.size());
  bool valid = !in_doc.error();
  if (valid && !ok) fail("simdjson accepts what the redactor rejects", in, out);
  if (!ok) {
    if (!out.empty()) fail("rejected input produced output", in, out);
    return 0;
  }
  std::string again;
  if (!redactor->redact_json(out, again)) fail("output rejected on the second pass", in, out);
  if (again != out) fail("redacting twice differs from once", out, again);
  if (valid) {
    auto out_doc = out_parser.parse(out.data(), out.size());
    if (out_doc.error()) fail("output is not valid JSON", in, out);
    if (!same_shape(in_doc.value_unsafe(), out_doc.value_unsafe())) fail("output changed keys or non-string values", in, out);
  }
  return 0;
}
