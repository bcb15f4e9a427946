// Redactor::process(batch, &parser) parses in the redactor's walk instead of a DOM parse
// before it. It must give exactly what Parser::process followed by Redactor::process gives:
// the same records (disposition, reason, payload bytes), the same extracted fields and the
// same parse metrics, on realistic lines and on the lines where simdjson is stricter than the
// JSON grammar (numbers out of range, unpaired surrogates).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "auditship/common/metrics.h"
#include "auditship/parse/parser.h"
#include "auditship/redact/redactor.h"
#include "auditship/tail/line_splitter.h"
#include "support/redact_corpus.h"

namespace auditship::redact {
namespace {

constexpr std::size_t kMaxLine = 64 * 1024;

Batch split(const std::vector<std::string>& lines) {
  Batch b;
  auto f = std::make_shared<SourceFile>();
  f->path = "/logs/app.jsonl";
  b.source = f;
  tail::LineSplitter splitter(kMaxLine, 256);
  splitter.reset(0);
  splitter.begin(b.input);
  for (const auto& l : lines) b.input += l + "\n";
  b.end_offset = splitter.split(b.input, b.records);
  return b;
}

struct ParseCounts {
  std::uint64_t parsed, invalid_json, not_object, invalid_utf8, too_long, unredactable;
  static ParseCounts now() {
    auto& reg = metrics::Registry::global();
    auto err = [&](const char* type) {
      return reg.counter("auditship_parse_errors_total", "", {{"error_type", type}}).value();
    };
    return {reg.counter("auditship_parse_records_total", "").value(),
            err("invalid_json"),
            err("not_an_object"),
            err("invalid_utf8"),
            err("line_too_long"),
            reg.counter("auditship_redact_rejected_total", "").value()};
  }
  ParseCounts operator-(const ParseCounts& o) const {
    return {parsed - o.parsed,         invalid_json - o.invalid_json, not_object - o.not_object,
            invalid_utf8 - o.invalid_utf8, too_long - o.too_long,     unredactable - o.unredactable};
  }
  bool operator==(const ParseCounts&) const = default;
};

struct Runs {
  Batch separate, fused;
  ParseCounts separate_counts, fused_counts;
};

RedactConfig hashing_config() {
  ::setenv("AUDITSHIP_TEST_HMAC", "parse-in-walk-test-key-0123", 1);
  RedactConfig config;
  config.fields = {{"user_id", "hash"}, {"prompt", "drop"}, {"model_used", "keep"}};
  config.hash_key_env = "AUDITSHIP_TEST_HMAC";
  return config;
}

// Both ways over the same lines, then every record compared.
Runs run_both(const std::vector<std::string>& lines, const std::string& key_field, const RedactConfig& config) {
  auto redactor = Redactor::make(config);
  EXPECT_TRUE(redactor.ok()) << (redactor.ok() ? "" : redactor.error());
  Runs runs{split(lines), split(lines), {}, {}};
  parse::Parser dom({key_field, "host1"}), walked({key_field, "host1"});
  auto before = ParseCounts::now();
  dom.process(runs.separate);
  (*redactor)->process(runs.separate);
  auto middle = ParseCounts::now();
  (*redactor)->clone()->process(runs.fused, &walked);
  runs.separate_counts = middle - before;
  runs.fused_counts = ParseCounts::now() - middle;

  auto show = [](const ParseCounts& c) {
    return std::to_string(c.parsed) + " parsed, " + std::to_string(c.invalid_json) + " invalid_json, " +
           std::to_string(c.not_object) + " not_an_object, " + std::to_string(c.invalid_utf8) + " invalid_utf8, " +
           std::to_string(c.too_long) + " line_too_long, " + std::to_string(c.unredactable) + " unredactable";
  };
  EXPECT_TRUE(runs.separate_counts == runs.fused_counts)
      << "parse metrics: " << show(runs.separate_counts) << " against " << show(runs.fused_counts);
  const Batch &a = runs.separate, &b = runs.fused;
  EXPECT_EQ(a.records.size(), b.records.size());
  for (std::size_t i = 0; i < a.records.size() && i < b.records.size(); ++i) {
    const Record &x = a.records[i], &y = b.records[i];
    const std::string where = "line " + std::to_string(i) + ": " + std::string(a.raw(x).substr(0, 200));
    EXPECT_EQ(x.disposition, y.disposition) << where;
    EXPECT_EQ(x.reason, y.reason) << where;
    EXPECT_EQ(a.payload(x), b.payload(y)) << where;
    EXPECT_EQ(x.payload_in_output, y.payload_in_output) << where;
    EXPECT_EQ(a.field(x.key), b.field(y.key)) << where;
    EXPECT_EQ(x.key.length == 0, y.key.length == 0) << where;
    EXPECT_EQ(a.field(x.generation_id), b.field(y.generation_id)) << where;
    EXPECT_EQ(a.field(x.user_id), b.field(y.user_id)) << where;
    EXPECT_EQ(a.field(x.timestamp), b.field(y.timestamp)) << where;
    EXPECT_EQ(x.total_cost, y.total_cost) << where;
  }
  return runs;
}

TEST(ParseInWalk, SameAsDomParseOnTheRedactionCorpus) {
  auto corpus = testing::Generator().make(3000);
  for (const char* key_field : {"", "generation_id", "user_id"}) {
    Runs runs = run_both(corpus.lines, key_field, hashing_config());
    EXPECT_EQ(runs.fused_counts.parsed, corpus.lines.size()) << "every corpus line is an object";
  }
  Runs defaults = run_both(corpus.lines, "generation_id", RedactConfig{});
  EXPECT_GT(defaults.fused.field(defaults.fused.records[0].generation_id).size(), 0u);
}

// Where simdjson's DOM is stricter than the JSON grammar, the walk must be too: each line
// below either ships or becomes the same dead letter on both paths.
TEST(ParseInWalk, SameAsDomParseOnTheEdges) {
  std::string deep_ok = "{\"a\":", deep_bad = "{\"a\":";
  for (int i = 1; i < 1024; ++i) deep_ok += '[';
  for (int i = 1; i < 1024; ++i) deep_ok += ']';
  for (int i = 1; i < 1025; ++i) deep_bad += '[';
  for (int i = 1; i < 1025; ++i) deep_bad += ']';
  deep_ok += '}';
  deep_bad += '}';
  const std::vector<std::string> lines = {
      // numbers at and past simdjson's limits, as fields and elsewhere
      R"({"generation_id":9223372036854775807,"total_cost":18446744073709551615})",
      R"({"generation_id":-9223372036854775808,"total_cost":-9223372036854775808})",
      R"({"a":9223372036854775808})",
      R"({"a":18446744073709551616})",
      R"({"a":-9223372036854775809})",
      R"({"a":123456789012345678901234567890})",
      R"({"a":[1.7976931348623157e308]})",
      R"({"total_cost":1.7976931348623159e308})",
      R"({"a":{"b":1e400}})",
      R"({"a":-2e308})",
      R"({"total_cost":1e-500})",
      R"({"total_cost":-1e-500})",
      R"({"total_cost":1.5e-320})",
      R"({"total_cost":0.0000000000000000000000000000000000001e-300})",
      R"({"total_cost":123456789012345678901234567890.5})",
      R"({"total_cost":0e999999999999})",
      R"({"total_cost":100000000000000000000000000000e280})",
      R"({"total_cost":1000000000000000000000000000000e280})",
      R"({"total_cost":0.00000000000000000000000001e333})",
      R"({"total_cost":0.00000000000000000000000001e334})",
      R"({"generation_id":-0,"total_cost":-0})",
      R"({"generation_id":1.0,"user_id":2e3,"total_cost":"0.5"})",
      R"({"total_cost":7,"total_cost":0.25})",
      // surrogate escapes, in values and keys
      R"({"a":"\ud83d\ude00"})",
      R"({"a":"\ud800"})",
      R"({"a":"\udc00"})",
      R"({"a":"\ud800\u0041"})",
      R"({"a":"\ud800x"})",
      R"({"a":"\ud800\ud800"})",
      R"({"a":"\ud800\udc00\udc00"})",
      R"({"\ud800":1})",
      R"({"user_id":"\udbff\udfff","generation_id":"g\u00e9\n"})",
      // escaped keys and field values, duplicates, odd types
      R"({"user\u005fid":"u1","generation\u005Fid":"gen-\"x\"","total\u005fcost":0.125})",
      R"({"generation_id":"first","generation_id":"second"})",
      R"({"user_id":null,"timestamp":true,"generation_id":{"a":1},"total_cost":[1]})",
      R"({"":"empty key","generation_id":""})",
      R"({"prompt":"dropped x@y.io","user_id":"alice@example.com","model_used":"keep x@y.io"})",
      R"({"user_id":12345,"timestamp":"2026-12-05T10:00:00Z"})",
      // not objects, broken, and whitespace
      R"([1,2,3])",
      R"("just a string")",
      R"(42)",
      R"(null)",
      "",
      "   ",
      R"(  {"generation_id":"padded"}	 )",
      R"({"a":)",
      R"({"a":1} {"b":2})",
      R"({"a":1,})",
      R"({"a":01})",
      R"({"a":1.})",
      R"({"a":"\x"})",
      "{\"a\":\"\xff\xfe\"}",
      "{\"a\":\"tab\there\"}",
      "{\"a\":\"\xed\xa0\x80\"}",
      "\x01\x02garbage\x7f",
      deep_ok,
      deep_bad,
      std::string(kMaxLine + 10, 'x'),  // over max_line_bytes: the tailer's preview
  };
  for (const char* key_field : {"", "generation_id", "user_id", "total_cost"}) {
    Runs runs = run_both(lines, key_field, hashing_config());
    EXPECT_GT(runs.fused_counts.invalid_json, 10u);
    EXPECT_EQ(runs.fused_counts.too_long, 1u);
  }
  Runs runs = run_both(lines, "generation_id", RedactConfig{});
  // A few spelled out, so the comparison above cannot pass with both paths wrong alike.
  const Batch& b = runs.fused;
  EXPECT_EQ(b.records[0].disposition, Disposition::kShip);
  EXPECT_EQ(b.field(b.records[0].generation_id), "9223372036854775807");
  EXPECT_EQ(b.records[3].reason, DeadLetterReason::kInvalidJson);
  EXPECT_EQ(b.records[8].reason, DeadLetterReason::kInvalidJson);
  EXPECT_EQ(b.records[10].disposition, Disposition::kShip);
  EXPECT_EQ(b.records[10].total_cost, 0.0);
  EXPECT_EQ(b.field(b.records[20].generation_id), "0");
  EXPECT_EQ(b.records[22].total_cost, 0.25);
  EXPECT_EQ(b.records[23].disposition, Disposition::kShip);
  EXPECT_EQ(b.records[24].reason, DeadLetterReason::kInvalidJson);
  EXPECT_EQ(b.records[30].reason, DeadLetterReason::kInvalidJson);
  EXPECT_EQ(b.field(b.records[32].generation_id), "gen-\"x\"");
  EXPECT_EQ(b.records[32].total_cost, 0.125);
  EXPECT_EQ(b.field(b.records[33].generation_id), "second");
  EXPECT_EQ(b.records[38].reason, DeadLetterReason::kNotAnObject);
}

}  // namespace
}  // namespace auditship::redact
