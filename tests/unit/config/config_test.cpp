#include "auditship/config/config.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace auditship::config {
namespace {

const LoadOptions kNoStateCheck{.check_state_dir = false};

TEST(Config, DefaultsFillWhatTheFileLeavesOut) {
  auto c = load_string("sources:\n  - path: /var/log/app/*.jsonl\nkafka:\n  brokers: embedded\n", "t.yaml", kNoStateCheck);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->max_line_bytes, 1u << 20);
  EXPECT_EQ(c->kafka.topic, "openrouter-audit");
  EXPECT_EQ(c->kafka.key_field, "") << "no key: whole batches per partition";
  EXPECT_EQ(c->sources[0].read_from, "beginning");
  EXPECT_EQ(c->pipeline.checkpoint_interval, std::chrono::seconds(1));
}

TEST(Config, ReadsUnitsAndPassThroughProperties) {
  auto c = load_string(R"(sources:
  - path: /a/*.jsonl
    exclude: ["*.gz"]
    read_from: end
max_line_bytes: 64KiB
pipeline: { max_in_flight_bytes: 8MiB, checkpoint_interval: 500ms }
kafka:
  brokers: "10.0.0.1:9092"
  properties: { linger.ms: 20, security.protocol: SASL_SSL }
)",
                       "t.yaml", kNoStateCheck);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->max_line_bytes, 64u << 10);
  EXPECT_EQ(c->pipeline.max_in_flight_bytes, 8u << 20);
  EXPECT_EQ(c->pipeline.checkpoint_interval, std::chrono::milliseconds(500));
  EXPECT_EQ(c->kafka.properties.at("linger.ms"), "20");
  EXPECT_EQ(c->sources[0].exclude, std::vector<std::string>{"*.gz"});
}

TEST(Config, EveryProblemIsReportedWithItsLine) {
  auto c = load_string(R"(sources:
  - path: /a/*.jsonl
    read_fromm: end
kafka:
  brokers: embedded
  linger: 5
pipeline:
  checkpoint_interval: 5
max_line_bytes: [1]
)",
                       "t.yaml", kNoStateCheck);
  ASSERT_FALSE(c.ok());
  const std::string& e = c.error();
  EXPECT_NE(e.find("t.yaml:3: sources[0].read_fromm: unknown key 'read_fromm'"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:6: kafka.linger: unknown key"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:8: pipeline.checkpoint_interval: expected a duration with a unit"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:9: max_line_bytes: expected a size in bytes"), std::string::npos) << e;
}

TEST(Config, AnUnknownKeyNamesTheNearestKnownOne) {
  auto c = load_string(R"(sources:
  - path: /a/*.jsonl
    read_fromm: end
kafak:
  brokers: embedded
kafka:
  brokers: embedded
  toppic: audit
  linger.ms: 5
  compression: zstd
)",
                       "t.yaml", kNoStateCheck);
  ASSERT_FALSE(c.ok());
  const std::string& e = c.error();
  EXPECT_NE(e.find("sources[0].read_fromm: unknown key 'read_fromm' in 'sources[0]'; did you mean 'read_from'?"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:4: kafak: unknown key 'kafak' at the top level; did you mean 'kafka'?"), std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:8: kafka.toppic: unknown key 'toppic' in 'kafka'; did you mean 'topic'?"), std::string::npos)
      << e;
  EXPECT_NE(e.find("kafka.linger.ms: unknown key 'linger.ms' in 'kafka'; client properties such as 'linger.ms' go "
                   "under 'kafka.properties'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("unknown key 'compression' in 'kafka' (known:"), std::string::npos) << "nothing near: no guess\n"
                                                                                         << e;
}

TEST(Config, AnUnknownDetectorOrGenerationFieldNamesTheNearestOne) {
  auto c = load_string(R"(sources: [{path: /a/*.jsonl}]
kafka: {brokers: embedded}
redact: {disable: [emial, nonsense]}
enrich: {enabled: true, api_key_env: X, fields: [totl_cost]}
)",
                       "t.yaml", kNoStateCheck);
  ASSERT_FALSE(c.ok());
  const std::string& e = c.error();
  EXPECT_NE(e.find("unknown built-in detector 'emial'; did you mean 'email'? (known:"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown built-in detector 'nonsense' (known:"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown generation field 'totl_cost'; did you mean 'total_cost'?"), std::string::npos) << e;
}

TEST(Config, RejectsBadGlobsAndValues) {
  auto c = load_string(R"(sources:
  - path: "/a/[x.jsonl"
  - path: "/a/**/x.jsonl"
    read_from: middle
kafka:
  brokers: embedded
  topic: same
  dead_letter_topic: same
  properties: { bootstrap.servers: "x:1" }
log: { level: loud }
)",
                       "t.yaml", kNoStateCheck);
  ASSERT_FALSE(c.ok());
  const std::string& e = c.error();
  EXPECT_NE(e.find("t.yaml:2: sources[0].path: glob '/a/[x.jsonl' has an unclosed '['"), std::string::npos) << e;
  EXPECT_NE(e.find("sources[1].path: glob '/a/**/x.jsonl' '**' is not supported"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:4: sources[1].read_from: must be 'beginning' or 'end'"), std::string::npos) << e;
  EXPECT_NE(e.find("kafka.dead_letter_topic: must differ"), std::string::npos) << e;
  EXPECT_NE(e.find("kafka.properties.bootstrap.servers: set kafka.brokers instead"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:10: log.level: must be"), std::string::npos) << e;
}

TEST(Config, MissingRequiredPieces) {
  auto c = load_string("state_dir: /tmp\n", "t.yaml", kNoStateCheck);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("sources: at least one source is required"), std::string::npos) << c.error();
  EXPECT_NE(c.error().find("kafka.brokers: is required unless sqlite.path is set"), std::string::npos) << c.error();
}

TEST(Config, SqliteAloneNeedsNoKafka) {
  auto c = load_string("sources: [{path: /a/*.jsonl}]\nsqlite: {path: /var/lib/auditship/audit.db}\n", "t.yaml",
                       kNoStateCheck);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(c->kafka.brokers.empty());
  EXPECT_EQ(c->sqlite.path, "/var/lib/auditship/audit.db");
  EXPECT_EQ(c->sqlite.retention.count(), 0) << "retention is off unless asked for";
  EXPECT_EQ(c->sqlite.retention_interval, std::chrono::hours(1));
}

TEST(Config, SqliteBesideKafkaWithRetention) {
  auto c = load_string("sources: [{path: /a/*.jsonl}]\nkafka: {brokers: embedded}\n"
                       "sqlite: {path: /db/audit.db, retention: 90d, retention_interval: 10m}\n",
                       "t.yaml", kNoStateCheck);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->kafka.brokers, "embedded");
  EXPECT_EQ(c->sqlite.retention, std::chrono::hours(24 * 90));
  EXPECT_EQ(c->sqlite.retention_interval, std::chrono::minutes(10));
}

TEST(Config, SqliteProblemsNameTheirKey) {
  auto c = load_string("sources: [{path: /a/*.jsonl}]\nsqlite:\n  path: \":memory:\"\n  retention_interval: 0s\n"
                       "  bogus: 1\n",
                       "t.yaml", kNoStateCheck);
  ASSERT_FALSE(c.ok());
  const std::string& e = c.error();
  EXPECT_NE(e.find("t.yaml:3: sqlite.path: must be a file path"), std::string::npos) << e;
  EXPECT_NE(e.find("t.yaml:4: sqlite.retention_interval: must be positive"), std::string::npos) << e;
  EXPECT_NE(e.find("sqlite.bogus"), std::string::npos) << e;
  EXPECT_EQ(e.find("kafka.brokers"), std::string::npos) << "sqlite.path is set, so Kafka is optional: " << e;
  auto dir = load_string("sources: [{path: /a/*.jsonl}]\nsqlite: {path: /var/lib/auditship/}\n", "t.yaml",
                         kNoStateCheck);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.error().find("sqlite.path: names a directory"), std::string::npos) << dir.error();
}

TEST(Config, BatchWaitDefaultsTo50msAndIsNeverNegative) {
  auto c = load_string("sources: [{path: /a/*.jsonl}]\nkafka: {brokers: embedded}\n", "t.yaml", kNoStateCheck);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->pipeline.batch_wait, std::chrono::milliseconds(50));
  auto off = load_string("sources: [{path: /a/*.jsonl}]\nkafka: {brokers: embedded}\npipeline: {batch_wait: 0ms}\n",
                         "t.yaml", kNoStateCheck);
  ASSERT_TRUE(off.ok()) << off.error();
  EXPECT_EQ(off->pipeline.batch_wait.count(), 0);
  // A config valid before batch_wait existed stays valid: a rescan_interval under the default
  // wait is accepted (the rescan tick ends any wait, file_tailer_test).
  auto fast = load_string("sources: [{path: /a/*.jsonl}]\nkafka: {brokers: embedded}\npipeline: {rescan_interval: 20ms}\n",
                          "t.yaml", kNoStateCheck);
  ASSERT_TRUE(fast.ok()) << fast.error();
  auto negative = load_string("sources: [{path: /a/*.jsonl}]\nkafka: {brokers: embedded}\n"
                              "pipeline:\n  batch_wait: -5ms\n",
                              "t.yaml", kNoStateCheck);
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.error().find("t.yaml:4: pipeline.batch_wait"), std::string::npos) << negative.error();
}

TEST(Config, DuplicateKeysAreAnError) {
  auto c = load_string("sources: [{path: /a/*.jsonl}]\nkafka: {brokers: embedded}\npipeline: {}\npipeline: {}\n",
                       "t.yaml", kNoStateCheck);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("t.yaml:4: pipeline: duplicate key (first given on line 3)"), std::string::npos)
      << c.error();
}

TEST(Config, InvalidYamlNamesTheLine) {
  auto c = load_string("sources:\n  - path: [unclosed\n", "t.yaml", kNoStateCheck);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().find("t.yaml:"), std::string::npos);
  EXPECT_NE(c.error().find("invalid YAML"), std::string::npos) << c.error();
}

TEST(Config, StateDirMustBeAUsableDirectory) {
  testing::TempDir dir;
  testing::write_file(dir.file("plain"), "x");
  const std::string base = "sources: [{path: /a/*.jsonl}]\nkafka: {brokers: embedded}\nstate_dir: ";
  auto not_dir = load_string(base + dir.file("plain") + "\n", "t.yaml");
  ASSERT_FALSE(not_dir.ok());
  EXPECT_NE(not_dir.error().find("t.yaml:3: state_dir: '" + dir.file("plain") + "' exists but is not a directory"),
            std::string::npos)
      << not_dir.error();
  auto under_file = load_string(base + dir.file("plain") + "/state\n", "t.yaml");
  ASSERT_FALSE(under_file.ok());
  EXPECT_NE(under_file.error().find("cannot be created"), std::string::npos) << under_file.error();
  EXPECT_TRUE(load_string(base + dir.file("new/state") + "\n", "t.yaml").ok());
}

TEST(Config, SqliteDirectoryMustBeUsable) {
  testing::TempDir dir;
  testing::write_file(dir.file("plain"), "x");
  const std::string base = "sources: [{path: /a/*.jsonl}]\nstate_dir: " + dir.file("state") + "\nsqlite:\n  path: ";
  auto under_file = load_string(base + dir.file("plain") + "/audit.db\n", "t.yaml");
  ASSERT_FALSE(under_file.ok());
  EXPECT_NE(under_file.error().find("t.yaml:4: sqlite.path: its directory '" + dir.file("plain") +
                                    "' exists but is not a directory"),
            std::string::npos)
      << under_file.error();
  EXPECT_TRUE(load_string(base + dir.file("new/db/audit.db") + "\n", "t.yaml").ok());
}

TEST(Config, MetricsAndOutputSections) {
  const std::string base = "sources: [{path: /a/*.jsonl}]\nkafka: {brokers: embedded}\n";
  auto defaults = load_string(base, "t.yaml", kNoStateCheck);
  ASSERT_TRUE(defaults.ok()) << defaults.error();
  EXPECT_EQ(defaults->metrics.listen, "127.0.0.1:9464");
  EXPECT_EQ(defaults->output.format, "raw");
  auto off = load_string(base + "metrics: {listen: \"\"}\noutput: {format: splunk_hec, splunk_index: audit}\n", "t.yaml",
                         kNoStateCheck);
  ASSERT_TRUE(off.ok()) << off.error();
  EXPECT_EQ(off->metrics.listen, "");
  EXPECT_EQ(off->output.splunk_index, "audit");
  auto bad = load_string(base + "metrics:\n  listen: 9464\noutput:\n  format: gelf\n", "t.yaml", kNoStateCheck);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("t.yaml:4: metrics.listen: must be host:port"), std::string::npos) << bad.error();
  EXPECT_NE(bad.error().find("t.yaml:6: output.format: must be raw, ecs, splunk_hec or datadog, got 'gelf'"),
            std::string::npos)
      << bad.error();
}

TEST(Config, EffectiveConfigRoundTrips) {
  auto c = load_string("sources: [{path: /a/*.jsonl}]\nkafka: {brokers: embedded}\n", "t.yaml", kNoStateCheck);
  ASSERT_TRUE(c.ok());
  std::string yaml = to_yaml(*c);
  auto again = load_string(yaml, "effective.yaml", kNoStateCheck);
  ASSERT_TRUE(again.ok()) << again.error() << "\n" << yaml;
  EXPECT_EQ(to_yaml(*again), yaml);
}

TEST(Config, ReferenceListsEveryKey) {
  std::string ref = reference_markdown();
  for (const char* key : {"`sources[].path`", "`state_dir`", "`kafka.properties`", "`pipeline.max_in_flight_bytes`",
                          "`sqlite.path`", "`sqlite.retention`"})
    EXPECT_NE(ref.find(key), std::string::npos) << key;
}

}  // namespace
}  // namespace auditship::config
