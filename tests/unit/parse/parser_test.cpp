#include "auditship/parse/parser.h"

#include <gtest/gtest.h>
#include <simdjson.h>

namespace auditship::parse {
namespace {

// A batch whose input is `lines` joined by newlines, one record per line.
Batch make_batch(const std::vector<std::string>& lines) {
  Batch b;
  auto f = std::make_shared<SourceFile>();
  f->path = "/logs/app.jsonl";
  b.source = f;
  std::uint64_t offset = 0;
  for (const auto& l : lines) {
    Record r;
    r.file_offset = offset;
    r.line_bytes = l.size() + 1;
    r.raw = {static_cast<std::uint32_t>(b.input.size()), static_cast<std::uint32_t>(l.size())};
    r.payload = r.raw;
    b.input += l;
    b.input += '\n';
    offset += l.size() + 1;
    b.records.push_back(r);
  }
  b.end_offset = offset;
  return b;
}

std::string envelope_field(const Batch& b, const Record& r, const char* key) {
  simdjson::dom::parser p;
  auto doc = p.parse(std::string(b.payload(r)));
  EXPECT_FALSE(doc.error()) << b.payload(r);
  auto v = doc[key];
  if (v.is_string()) return std::string(v.get_string().value());
  return simdjson::to_string(v.value());
}

TEST(Parser, ExtractsFieldsAndKeepsPayloadZeroCopy) {
  Batch b = make_batch({R"({"timestamp":"2026-01-01T00:00:00Z","generation_id":"gen-1","user_id":"u\u00e9","total_cost":0.5})"});
  Parser parser({"generation_id", "host1"});
  parser.process(b);
  const Record& r = b.records[0];
  EXPECT_EQ(r.disposition, Disposition::kShip);
  EXPECT_FALSE(r.payload_in_output);
  EXPECT_EQ(b.payload(r), b.raw(r));
  EXPECT_EQ(b.field(r.generation_id), "gen-1");
  EXPECT_EQ(b.field(r.key), "gen-1");
  EXPECT_EQ(b.field(r.user_id), "u\xc3\xa9") << "fields are unescaped";
  EXPECT_EQ(b.field(r.timestamp), "2026-01-01T00:00:00Z");
  EXPECT_DOUBLE_EQ(r.total_cost, 0.5);
}

TEST(Parser, KeyFromAnotherFieldAndNumbers) {
  Batch b = make_batch({R"({"generation_id":"gen-1","user_id":42,"total_cost":1})", R"({"x":1})"});
  Parser parser({"user_id", "h"});
  parser.process(b);
  EXPECT_EQ(b.field(b.records[0].key), "42");
  EXPECT_DOUBLE_EQ(b.records[0].total_cost, 1.0);
  EXPECT_EQ(b.records[1].key.length, 0u) << "no key field: no key";
  EXPECT_EQ(b.records[1].total_cost, -1);
}

TEST(Parser, EachMalformedKindGetsItsReason) {
  Batch b = make_batch({
      R"({"a":)",              // truncated
      R"([1,2,3])",            // not an object
      "{\"a\":\"\xff\xfe\"}",  // invalid UTF-8
      "\x01\x02garbage\x7f",   // binary
      R"("just a string")",
      R"({"ok":true})",
  });
  Parser parser({"generation_id", "host1"});
  parser.process(b);
  EXPECT_EQ(b.records[0].reason, DeadLetterReason::kInvalidJson);
  EXPECT_EQ(b.records[1].reason, DeadLetterReason::kNotAnObject);
  EXPECT_EQ(b.records[2].reason, DeadLetterReason::kInvalidUtf8);
  EXPECT_EQ(b.records[3].reason, DeadLetterReason::kInvalidJson);
  EXPECT_EQ(b.records[4].reason, DeadLetterReason::kNotAnObject);
  EXPECT_EQ(b.records[5].disposition, Disposition::kShip);
  for (int i = 0; i < 5; ++i) {
    const Record& r = b.records[i];
    EXPECT_EQ(r.disposition, Disposition::kDeadLetter);
    EXPECT_EQ(envelope_field(b, r, "reason"), reason_name(r.reason));
    EXPECT_EQ(envelope_field(b, r, "source"), "/logs/app.jsonl");
    EXPECT_EQ(envelope_field(b, r, "offset"), std::to_string(r.file_offset));
  }
  EXPECT_EQ(envelope_field(b, b.records[0], "raw"), R"({"a":)") << "raw line survives escaped";
  EXPECT_EQ(envelope_field(b, b.records[2], "raw"), "{\"a\":\"\xc3\xbf\xc3\xbe\"}")
      << "invalid bytes become \\u00XX escapes";
}

// Lines with at least SIMDJSON_PADDING bytes of the batch after them are parsed in place, the
// rest from a padded copy: both must give what a line parsed alone gives, whatever follows it.
TEST(Parser, InPlaceAndCopiedLinesParseAlike) {
  const std::vector<std::string> kinds = {
      R"({"generation_id":"gen-1","user_id":"u1","total_cost":0.25,"note":"a fairly long line of text here"})",
      R"({"a":)",  // truncated: the next line must not complete it
      R"("b"})",
      R"({"a":1} {"b":2})",  // two values on one line
      "{\"a\":\"\xff\"}",
      R"([1,2,3])",
      R"({"generation_id":"gen-2","user_id":7})",
      "{\"a\":\"tail\"",  // unterminated object
  };
  std::vector<std::string> lines;
  for (int round = 0; round < 4; ++round)
    for (const auto& k : kinds) lines.push_back(k);
  Batch batch = make_batch(lines);
  Parser parser({"generation_id", "h"});
  parser.process(batch);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    Batch alone = make_batch({lines[i]});
    Parser({"generation_id", "h"}).process(alone);
    const Record& got = batch.records[i];
    const Record& want = alone.records[0];
    EXPECT_EQ(got.disposition, want.disposition) << "line " << i << ": " << lines[i];
    EXPECT_EQ(got.reason, want.reason) << "line " << i << ": " << lines[i];
    EXPECT_EQ(batch.field(got.generation_id), alone.field(want.generation_id)) << "line " << i;
    EXPECT_EQ(batch.field(got.user_id), alone.field(want.user_id)) << "line " << i;
    EXPECT_EQ(got.total_cost, want.total_cost) << "line " << i;
  }
  EXPECT_EQ(batch.records[1].reason, DeadLetterReason::kInvalidJson);
  EXPECT_EQ(batch.records[3].reason, DeadLetterReason::kInvalidJson);
  EXPECT_EQ(batch.records[0].disposition, Disposition::kShip);
}

TEST(Parser, OverLongLinesFromTheTailerBecomeEnvelopes) {
  Batch b = make_batch({R"({"a":"aaaa)"});
  b.records[0].disposition = Disposition::kDeadLetter;
  b.records[0].reason = DeadLetterReason::kLineTooLong;
  b.records[0].line_bytes = 5000000;
  Parser parser({"generation_id", "h"});
  parser.process(b);
  EXPECT_EQ(envelope_field(b, b.records[0], "reason"), "line_too_long");
  EXPECT_EQ(envelope_field(b, b.records[0], "line_bytes"), "5000000");
}

}  // namespace
}  // namespace auditship::parse
