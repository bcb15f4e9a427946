// Golden files for every output format, and the batch contract of the Format stage.
//
// To regenerate after an intended change: AUDITSHIP_UPDATE_GOLDEN=1 ./formatter_test, then
// review the diff of tests/unit/format/golden/ like any other change.
#include "auditship/format/formatter.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace auditship::format {
namespace {

const std::string kGoldenDir = std::string(AUDITSHIP_SOURCE_DIR) + "/tests/unit/format/golden/";
constexpr const char* kSource = "/var/log/app/audit.jsonl";

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

FormatterPtr make_formatter(const std::string& format) {
  OutputConfig config;
  config.format = format;
  config.datadog_tags = "env:test,team:platform";
  config.splunk_index = format == "splunk_hec" ? "audit" : "";
  // A fixed clock: ECS needs @timestamp even for records without one.
  auto fixed = [] { return std::chrono::system_clock::time_point(std::chrono::milliseconds(1796385600123)); };
  auto f = Formatter::make(config, "host-1", fixed);
  EXPECT_TRUE(f) << f.error();
  return std::move(f.value());
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, MatchesFileAndStaysValidJson) {
  const std::string format = GetParam();
  auto formatter = make_formatter(format);
  std::string produced;
  std::uint64_t offset = 0;
  for (const auto& line : lines(read(kGoldenDir + "input.jsonl"))) {
    std::string out;
    formatter->format_record(line, kSource, offset, out);
    offset += line.size() + 1;
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    ASSERT_EQ(p.parse(out).get(doc), simdjson::SUCCESS) << out;
    if (format != "raw") {
      // The record travels verbatim inside the envelope: redaction and enrichment intact.
      const std::string nested = format == "splunk_hec" ? "\"event\":" + line : "\"openrouter_audit\":" + line;
      EXPECT_NE(out.find(nested), std::string::npos) << out;
    }
    produced += out + "\n";
  }
  const std::string golden = kGoldenDir + format + ".jsonl";
  if (std::getenv("AUDITSHIP_UPDATE_GOLDEN")) std::ofstream(golden) << produced;
  EXPECT_EQ(produced, read(golden)) << "regenerate with AUDITSHIP_UPDATE_GOLDEN=1 if intended";
}

INSTANTIATE_TEST_SUITE_P(Formats, Golden, ::testing::Values("raw", "ecs", "splunk_hec", "datadog"));

TEST(Formatter, RejectsUnknownFormat) {
  OutputConfig config;
  config.format = "gelf";
  EXPECT_FALSE(Formatter::make(config, "h"));
}

// Payloads already rewritten into batch.output (by the redactor) are read while the envelope
// is appended to the same buffer; dead letters and drops keep their payload.
TEST(Formatter, ProcessRewritesShipRecordsOnlyEvenWhenPayloadIsInOutput) {
  auto formatter = make_formatter("splunk_hec");
  Batch b;
  auto source = std::make_shared<SourceFile>();
  source->path = kSource;
  b.source = source;
  const std::string one = R"({"timestamp":"2026-12-04T10:00:00Z","status":"success"})";
  const std::string two = R"({"status":"error","user_id":"[EMAIL]"})";
  b.input = one + "\n";
  b.output = two;  // as if the redactor had rewritten record 2
  b.output.shrink_to_fit();
  Record r1;
  r1.payload = {0, static_cast<std::uint32_t>(one.size())};
  Record r2;
  r2.file_offset = one.size() + 1;
  r2.payload = {0, static_cast<std::uint32_t>(two.size())};
  r2.payload_in_output = true;
  Record dead = r2;
  dead.disposition = Disposition::kDeadLetter;
  Record drop = r1;
  drop.disposition = Disposition::kDrop;
  b.records = {r1, r2, dead, drop};
  formatter->process(b);
  EXPECT_EQ(b.payload(b.records[0]),
            R"({"time":1796378400.000,"host":"host-1","source":"/var/log/app/audit.jsonl","sourcetype":"openrouter:audit","index":"audit","event":)" + one + "}");
  EXPECT_EQ(b.payload(b.records[1]),
            R"({"host":"host-1","source":"/var/log/app/audit.jsonl","sourcetype":"openrouter:audit","index":"audit","event":)" + two + "}");
  EXPECT_EQ(b.payload(b.records[2]), two);
  EXPECT_EQ(b.payload(b.records[3]), one);
}

TEST(Formatter, RawIsZeroCopy) {
  auto formatter = make_formatter("raw");
  Batch b;
  b.input = R"({"a":1})";
  Record r;
  r.payload = {0, 7};
  b.records = {r};
  formatter->process(b);
  EXPECT_FALSE(b.records[0].payload_in_output);
  EXPECT_TRUE(b.output.empty());
}

}  // namespace
}  // namespace auditship::format
