// SqliteSink against a real database file, read back through a second connection.
#include "auditship/sink/sqlite_sink.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <future>

#include "auditship/common/iso8601.h"
#include "auditship/common/metrics.h"
#include "support/batches.h"
#include "support/process.h"
#include "support/sqlite_db.h"
#include "support/temp_dir.h"

namespace auditship::sink {
namespace {

using testing::Line;
using testing::make_batch;
using testing::RecordingListener;
using testing::query;
using testing::scalar;
using std::chrono::seconds;

std::string record(const std::string& gen, const std::string& extra = {},
                   const std::string& ts = "2026-12-04T10:00:00Z") {
  return R"({"timestamp":")" + ts + R"(","generation_id":")" + gen +
         R"(","model_requested":"openrouter/auto","model_used":"openai/gpt-4o-mini","prompt_tokens":120,)"
         R"("completion_tokens":30,"total_cost":0.5,"latency_ms":812.5,"status":"success","user_id":"u_1",)"
         R"("prompt_hash":"9f2c1a","error_code":null)" +
         extra + "}";
}

std::uint64_t counter(const std::string& name, const metrics::Labels& labels) {
  return metrics::Registry::global().counter(name, "", labels).value();
}

class SqliteSinkTest : public ::testing::Test {
 protected:
  SqliteSinkPtr open(SqliteConfig config = {}) {
    if (config.path.empty()) config.path = db_;
    auto sink = SqliteSink::make(config, listener_);
    EXPECT_TRUE(sink.ok()) << sink.error();
    return sink.ok() ? std::move(sink.value()) : nullptr;
  }
  testing::TempDir dir_;
  std::string db_ = dir_.file("sub/dir/audit.db");  // the directory is created too
  RecordingListener listener_;
};

TEST_F(SqliteSinkTest, SeedSchemaInWalModeWithUpdatesRejected) {
  auto sink = open();
  ASSERT_TRUE(sink);
  EXPECT_EQ(scalar(db_, "PRAGMA journal_mode"), "wal");
  auto columns = query(db_, "SELECT name, type, \"notnull\" FROM pragma_table_info('audit_log') ORDER BY cid");
  const testing::Rows want = {{"id", "INTEGER", "0"},           {"timestamp", "TEXT", "1"},
                              {"generation_id", "TEXT", "1"},   {"model_requested", "TEXT", "1"},
                              {"model_used", "TEXT", "1"},      {"prompt_tokens", "INTEGER", "0"},
                              {"completion_tokens", "INTEGER", "0"}, {"total_cost", "REAL", "0"},
                              {"latency_ms", "REAL", "0"},      {"status", "TEXT", "1"},
                              {"user_id", "TEXT", "0"},         {"prompt_hash", "TEXT", "0"},
                              {"error_code", "TEXT", "0"}};
  EXPECT_EQ(columns, want);
  EXPECT_EQ(query(db_, "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='audit_log' "
                       "AND name LIKE 'idx_%' ORDER BY name"),
            (testing::Rows{{"idx_audit_ts"}, {"idx_audit_user"}}));
  EXPECT_EQ(scalar(db_, "SELECT \"unique\" FROM pragma_index_list('audit_log') WHERE origin='u'"), "1")
      << "generation_id UNIQUE";

  sink->send(make_batch({{record("gen-1")}}));
  ASSERT_TRUE(sink->flush(seconds(10)));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_NE(sqlite3_exec(db, "UPDATE audit_log SET total_cost = 0", nullptr, nullptr, &err), SQLITE_OK);
  EXPECT_NE(std::string(err ? err : "").find("append-only"), std::string::npos);
  sqlite3_free(err);
  sqlite3_close(db);
}

TEST_F(SqliteSinkTest, EveryRecordOnceAndAcknowledgedOnlyAfterCommit) {
  const auto dup_before = counter("auditship_sqlite_records_total", {{"outcome", "duplicate"}});
  auto sink = open();
  ASSERT_TRUE(sink);
  sink->send(make_batch({{record("gen-1")}, {record("gen-2")}, {record("gen-1")}}));
  ASSERT_TRUE(sink->flush(seconds(10)));
  EXPECT_EQ(listener_.count(), 3u) << "a duplicate is acknowledged too: it is durable (as the first copy)";
  // A restart re-sends what was not checkpointed: same ids, nothing new.
  sink.reset();
  sink = open();
  sink->send(make_batch({{record("gen-2")}, {record("gen-3")}}, "/logs/b.jsonl"));
  ASSERT_TRUE(sink->flush(seconds(10)));
  EXPECT_EQ(listener_.count(), 5u);
  EXPECT_EQ(query(db_, "SELECT generation_id, COUNT(*) FROM audit_log GROUP BY generation_id ORDER BY 1"),
            (testing::Rows{{"gen-1", "1"}, {"gen-2", "1"}, {"gen-3", "1"}}));
  EXPECT_EQ(counter("auditship_sqlite_records_total", {{"outcome", "duplicate"}}) - dup_before, 2u);
  // Values keep their JSON types: integers, reals, NULL for null.
  EXPECT_EQ(query(db_, "SELECT typeof(prompt_tokens), typeof(total_cost), typeof(latency_ms), typeof(error_code), "
                       "user_id FROM audit_log WHERE generation_id='gen-1'"),
            (testing::Rows{{"integer", "real", "real", "null", "u_1"}}));
}

TEST_F(SqliteSinkTest, ExactCostFromTheEnrichmentWins) {
  auto sink = open();
  ASSERT_TRUE(sink);
  sink->send(make_batch({{record("gen-1", R"(,"openrouter":{"total_cost":0.00123,"provider_name":"OpenAI"})")},
                         {record("gen-2", R"(,"openrouter":{"provider_name":"OpenAI"})")}}));
  ASSERT_TRUE(sink->flush(seconds(10)));
  EXPECT_EQ(query(db_, "SELECT generation_id, total_cost FROM audit_log ORDER BY 1"),
            (testing::Rows{{"gen-1", "0.00123"}, {"gen-2", "0.5"}}));
}

TEST_F(SqliteSinkTest, SiemEnvelopesYieldTheNestedRecord) {
  auto sink = open();
  ASSERT_TRUE(sink);
  // output.format ecs/datadog nest the record under record_field, splunk_hec under `event`;
  // their own top-level timestamp/status/user must not be taken for the record's.
  sink->send(make_batch({{R"({"@timestamp":"2026-12-04T10:00:00.000Z","user":{"id":"u_1"},"openrouter_audit":)" +
                          record("gen-ecs") + "}"},
                         {R"({"time":1796378400,"host":"h","event":)" + record("gen-hec") + "}"},
                         {R"({"status":"info","timestamp":1796378400000,"message":"x","audit":)" +
                          record("gen-dd") + "}"}}));
  ASSERT_TRUE(sink->flush(seconds(10)));
  EXPECT_EQ(query(db_, "SELECT generation_id, timestamp, status, model_used FROM audit_log ORDER BY 1"),
            (testing::Rows{{"gen-dd", "2026-12-04T10:00:00Z", "success", "openai/gpt-4o-mini"},
                           {"gen-ecs", "2026-12-04T10:00:00Z", "success", "openai/gpt-4o-mini"},
                           {"gen-hec", "2026-12-04T10:00:00Z", "success", "openai/gpt-4o-mini"}}));
}

TEST_F(SqliteSinkTest, ValuesOfOtherTypesAreKeptNotLost) {
  auto sink = open();
  ASSERT_TRUE(sink);
  // The app wrote an object where the seed has a string, a number for user_id, a string of
  // digits for a token count: stored as JSON text / as given (SQLite's column affinity applies).
  const std::string odd = R"({"timestamp":"2026-12-04T10:00:00Z","generation_id":"gen-odd","model_requested":"a",)"
                          R"("model_used":"b","status":"error","error_code":{"type":"Timeout","retry":[1,2]},)"
                          R"("user_id":1234,"prompt_tokens":"77","completion_tokens":true})";
  sink->send(make_batch({{odd}}));
  ASSERT_TRUE(sink->flush(seconds(10)));
  EXPECT_EQ(query(db_, "SELECT error_code, user_id, typeof(prompt_tokens), prompt_tokens, completion_tokens, "
                       "total_cost FROM audit_log"),
            (testing::Rows{{R"({"type":"Timeout","retry":[1,2]})", "1234", "integer", "77", "1", "NULL"}}));
}

TEST_F(SqliteSinkTest, UnusableRecordsAndDeadLettersLandInTheDeadLetterTable) {
  const auto missing_before = counter("auditship_sqlite_dead_letters_total", {{"reason", "missing_column"}});
  auto sink = open();
  ASSERT_TRUE(sink);
  const std::string no_model = R"({"timestamp":"2026-12-04T10:00:00Z","generation_id":"gen-x","status":"success"})";
  const std::string envelope = R"({"reason":"invalid_json","raw":"{oops"})";
  sink->send(make_batch({{record("gen-1")},
                         {no_model},
                         {record("gen-bad-ts", "", "yesterday")},
                         {record("gen-zoneless", "", "2026-12-04T10:00:00")},  // SQLite reads it as UTC
                         {record("gen-hour-offset", "", "2026-12-04T10:00:00+02")},  // SQLite cannot read it
                         {envelope, Disposition::kDeadLetter, DeadLetterReason::kInvalidJson},
                         {record("gen-dropped"), Disposition::kDrop}}));
  ASSERT_TRUE(sink->flush(seconds(10)));
  EXPECT_EQ(listener_.count(), 7u) << "every record is acknowledged once stored (or dropped on purpose)";
  EXPECT_EQ(scalar(db_, "SELECT group_concat(generation_id) FROM audit_log"), "gen-1,gen-zoneless");
  auto dead = query(db_, "SELECT reason, detail, source, file_offset, payload FROM audit_dead_letter ORDER BY id");
  ASSERT_EQ(dead.size(), 4u);
  EXPECT_EQ(dead[0][0], "missing_column");
  EXPECT_EQ(dead[0][1], "missing or not a string: model_requested, model_used");
  EXPECT_EQ(dead[0][2], "/logs/a.jsonl");
  EXPECT_EQ(dead[0][4], no_model) << "the record itself is kept";
  EXPECT_EQ(dead[1][0], "bad_timestamp");
  EXPECT_EQ(dead[2][0], "bad_timestamp");
  EXPECT_EQ(dead[3][0], "invalid_json");
  EXPECT_EQ(dead[3][4], envelope);
  EXPECT_EQ(counter("auditship_sqlite_dead_letters_total", {{"reason", "missing_column"}}) - missing_before, 1u);
}

TEST_F(SqliteSinkTest, FollowUpEnrichmentEventsGoBesideTheLog) {
  auto sink = open();
  ASSERT_TRUE(sink);
  const std::string event =
      R"({"type":"enrichment","generation_id":"gen-1","total_cost":0.0042,"openrouter":{"total_cost":0.0042}})";
  auto b = make_batch({{event}}, /*path=*/"");
  b->records[0].generation_id = b->add_field("gen-1");
  sink->send(std::move(b));
  ASSERT_TRUE(sink->flush(seconds(10)));
  EXPECT_EQ(query(db_, "SELECT generation_id, total_cost, payload FROM audit_enrichment"),
            (testing::Rows{{"gen-1", "0.0042", event}}));
  EXPECT_EQ(scalar(db_, "SELECT COUNT(*) FROM audit_log"), "0");
}

TEST_F(SqliteSinkTest, RetentionDeletesOnlyOlderRowsAndIsOffByDefault) {
  std::string now;
  iso8601::append(now, std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
  {
    auto sink = open();
    sink->send(make_batch({{record("gen-old", "", "2020-01-01T00:00:00Z")}, {record("gen-new", "", now)}}));
    ASSERT_TRUE(sink->flush(seconds(10)));
    EXPECT_EQ(sink->run_retention_for_test(), 0u) << "retention 0s deletes nothing";
  }
  SqliteConfig config;
  config.retention = std::chrono::hours(24 * 90);
  auto sink = open(config);
  EXPECT_EQ(sink->run_retention_for_test(), 1u);
  EXPECT_EQ(scalar(db_, "SELECT group_concat(generation_id) FROM audit_log"), "gen-new");
}

TEST_F(SqliteSinkTest, AnotherWriterHoldingTheLockStallsAndThenBackpressuresSend) {
  const auto retries_before = counter("auditship_sqlite_retries_total", {});
  auto sink = open();
  ASSERT_TRUE(sink);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  // The writer takes one batch and retries it; kQueueBatches more fill the queue; the next
  // send() must block until the lock is released.
  const std::size_t n = SqliteSink::kQueueBatches + 2;
  auto sender = std::async(std::launch::async, [&] {
    for (std::size_t i = 0; i < n; ++i)
      sink->send(make_batch({{record("gen-" + std::to_string(i))}}, "/logs/a.jsonl", i * 1000));
  });
  EXPECT_EQ(sender.wait_for(seconds(2)), std::future_status::timeout) << "send() did not block on a full queue";
  EXPECT_EQ(listener_.count(), 0u) << "nothing is acknowledged before it is committed";
  EXPECT_TRUE(testing::eventually([&] { return counter("auditship_sqlite_retries_total", {}) > retries_before; },
                                  seconds(10)));
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  ASSERT_EQ(sender.wait_for(seconds(30)), std::future_status::ready);
  ASSERT_TRUE(sink->flush(seconds(30)));
  EXPECT_EQ(listener_.count(), n);
  EXPECT_EQ(scalar(db_, "SELECT COUNT(*) FROM audit_log"), std::to_string(n));
}

TEST_F(SqliteSinkTest, AnIncompatibleExistingTableIsReportedAtStart) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.file("old.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, line TEXT)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  SqliteConfig config;
  config.path = dir_.file("old.db");
  auto sink = SqliteSink::make(config, listener_);
  ASSERT_FALSE(sink.ok());
  EXPECT_NE(sink.error().find(dir_.file("old.db")), std::string::npos) << sink.error();

  testing::write_file(dir_.file("plain"), "x");
  config.path = dir_.file("plain/audit.db");
  auto under_file = SqliteSink::make(config, listener_);
  ASSERT_FALSE(under_file.ok());
  EXPECT_NE(under_file.error().find("cannot create"), std::string::npos) << under_file.error();
}

}  // namespace
}  // namespace auditship::sink
