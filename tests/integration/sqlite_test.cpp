// The real binary with the SQLite sink: alone (no Kafka at all) and beside Kafka (the mock
// cluster as its own process). The seed's three queries (conf/queries.sql, unchanged) run
// against what the agent wrote and must return what the generated records imply.
#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "auditship/common/iso8601.h"
#include "auditship/redact/redactor.h"
#include "support/agent.h"
#include "support/cluster.h"
#include "support/process.h"
#include "support/sqlite_db.h"
#include "support/temp_dir.h"

namespace auditship::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr int kUsers = 25;
const char* const kRequested[] = {"openrouter/auto", "anthropic/claude-sonnet-4", "openai/gpt-4o-mini"};
const char* const kUsed[] = {"anthropic/claude-sonnet-4", "openai/gpt-4o-mini", "meta-llama/llama-3.1-70b"};

// One generated call, and what its audit_log row must hold.
struct Call {
  std::string id, timestamp, requested, used, user, status;
  double cost = 0;        // what total_cost must hold
  bool exact = false;     // the cost is in openrouter.total_cost (the app wrote 0)
  bool recent = false;    // within the last 24 h
  std::string line;
};

std::string iso(std::chrono::system_clock::time_point t) {
  std::string out;
  iso8601::append(out, std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
  return out;
}

// `n` calls spread over the last five days; a third of them within the last 24 h, one in
// seven an error, one in five with its exact cost from the enrichment object.
std::vector<Call> generate(const std::string& tag, int n) {
  const auto now = std::chrono::system_clock::now();
  std::vector<Call> calls;
  for (int i = 0; i < n; ++i) {
    Call c;
    c.id = "gen-" + tag + "-" + std::to_string(i);
    c.recent = i % 3 == 0;
    // Recent: 1-3 h ago. Old: 3-5 days ago. Both far from the 24 h boundary, which the seed's
    // query compares as text (see README "SQLite store").
    auto t = c.recent ? now - std::chrono::minutes(60 + i % 120) : now - std::chrono::hours(72 + (i % 48));
    c.timestamp = iso(t);
    c.requested = kRequested[i % 3];
    c.used = kUsed[(i / 3) % 3];
    const int user = i % kUsers;
    c.user = "u_" + std::to_string(user);
    c.status = i % 7 == 0 ? "error" : "success";
    // The value as written (six decimals), so expectations and the stored REAL agree.
    const std::string cost = std::to_string(0.0001 * (user + 1) * (1 + i % 3));
    c.cost = std::stod(cost);
    c.exact = i % 5 == 0;
    c.line = R"({"timestamp":")" + c.timestamp + R"(","generation_id":")" + c.id + R"(","model_requested":")" +
             c.requested + R"(","model_used":")" + c.used + R"(","prompt_tokens":)" + std::to_string(100 + i % 50) +
             R"(,"completion_tokens":)" + std::to_string(i % 30) + R"(,"total_cost":)" +
             (c.exact ? std::string("0") : cost) + R"(,"latency_ms":812.5,"status":")" + c.status +
             R"(","user_id":")" + c.user + R"(","prompt_hash":"9f2c1a","error_code":)" +
             (c.status == "error" ? "\"RateLimitError\"" : "null") +
             (c.exact ? R"(,"openrouter":{"total_cost":)" + cost + R"(,"provider_name":"X"})"
                      : std::string()) +
             "}\n";
    calls.push_back(std::move(c));
  }
  return calls;
}

void write_lines(const std::string& path, const std::vector<Call>& calls, std::size_t from, std::size_t to) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  for (std::size_t i = from; i < to && i < calls.size(); ++i) out << calls[i].line;
}

std::string queries_sql() { return read_file(std::string(AUDITSHIP_SOURCE_DIR) + "/conf/queries.sql"); }

bool close(const std::string& text, double want) { return std::fabs(std::stod(text) - want) < 1e-9; }

// Runs conf/queries.sql and checks each result against what `calls` imply. The agent ran with
// the default config, which pseudonymises user_id with the key it generated in state_dir: the
// top spenders are the right users, each under its own stable HMAC, with exact sums.
void check_seed_queries(const std::string& db, const std::vector<Call>& calls, const std::string& state_dir) {
  std::string key = read_file(state_dir + "/hash.key");
  while (!key.empty() && key.back() == '\n') key.pop_back();
  ASSERT_EQ(key.size(), 64u) << "the agent's generated HMAC key";
  std::vector<Rows> results = query_each(db, queries_sql());
  ASSERT_EQ(results.size(), 3u) << "conf/queries.sql holds the seed's three queries";

  // 1. Daily cost by model: day, model_used, requests, cost; ORDER BY day DESC, cost DESC.
  std::map<std::pair<std::string, std::string>, std::pair<int, double>> daily;
  for (const Call& c : calls) {
    auto& d = daily[{c.timestamp.substr(0, 10), c.used}];
    d.first++;
    d.second += c.cost;
  }
  const Rows& got_daily = results[0];
  ASSERT_EQ(got_daily.size(), daily.size());
  for (std::size_t i = 0; i < got_daily.size(); ++i) {
    const auto& row = got_daily[i];
    ASSERT_EQ(row.size(), 4u);
    auto it = daily.find({row[0], row[1]});
    ASSERT_NE(it, daily.end()) << row[0] << " " << row[1];
    EXPECT_EQ(row[2], std::to_string(it->second.first)) << row[0] << " " << row[1];
    EXPECT_TRUE(close(row[3], it->second.second)) << row[3] << " vs " << it->second.second;
    if (i > 0) {
      const auto& prev = got_daily[i - 1];
      EXPECT_TRUE(prev[0] > row[0] || (prev[0] == row[0] && std::stod(prev[3]) >= std::stod(row[3])))
          << "ORDER BY day DESC, cost DESC";
    }
  }

  // 2. Error rate by model over the last 24 h: model_requested, total, errors, error_pct.
  std::map<std::string, std::pair<int, int>> rate;
  for (const Call& c : calls) {
    if (!c.recent) continue;
    auto& r = rate[c.requested];
    r.first++;
    r.second += c.status == "error";
  }
  const Rows& got_rate = results[1];
  ASSERT_EQ(got_rate.size(), rate.size());
  for (const auto& row : got_rate) {
    ASSERT_EQ(row.size(), 4u);
    auto it = rate.find(row[0]);
    ASSERT_NE(it, rate.end()) << row[0];
    const auto [total, errors] = it->second;
    EXPECT_EQ(row[1], std::to_string(total)) << row[0];
    EXPECT_EQ(row[2], std::to_string(errors)) << row[0];
    EXPECT_TRUE(close(row[3], std::round(1000.0 * errors / total) / 10)) << row[0] << " " << row[3];
  }

  // 3. Top ten users by cost: user_id, requests, total_cost.
  std::map<std::string, std::pair<int, double>> users;
  for (const Call& c : calls) {
    users[c.user].first++;
    users[c.user].second += c.cost;
  }
  std::vector<std::pair<double, std::string>> ranked;
  for (const auto& [u, v] : users) ranked.emplace_back(v.second, u);
  std::sort(ranked.rbegin(), ranked.rend());
  ASSERT_GT(ranked.size(), 10u);
  ASSERT_GT(ranked[9].first - ranked[10].first, 1e-9) << "the generated data must have a clear top ten";
  const Rows& got_top = results[2];
  ASSERT_EQ(got_top.size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(got_top[i][0], redact::hmac_sha256_hex(key, ranked[i].second)) << "rank " << i;
    EXPECT_EQ(got_top[i][1], std::to_string(users[ranked[i].second].first));
    EXPECT_TRUE(close(got_top[i][2], ranked[i].first)) << got_top[i][2] << " vs " << ranked[i].first;
  }
}

// Rows in audit_log, 0 while the agent has not created the table yet.
std::uint64_t logged(const std::string& db) {
  try {
    return std::stoull(scalar(db, "SELECT COUNT(*) FROM audit_log"));
  } catch (const std::exception&) {
    return 0;
  }
}

void expect_each_once(const std::string& db, const std::vector<Call>& calls) {
  EXPECT_EQ(scalar(db, "SELECT COUNT(*) FROM audit_log"), std::to_string(calls.size()));
  EXPECT_EQ(scalar(db, "SELECT COUNT(DISTINCT generation_id) FROM audit_log"), std::to_string(calls.size()));
  std::set<std::string> ids;
  for (const auto& row : query(db, "SELECT generation_id FROM audit_log")) ids.insert(row[0]);
  for (const Call& c : calls) EXPECT_EQ(ids.count(c.id), 1u) << c.id;
}

std::string sqlite_config(const std::string& logs, const std::string& state, const std::string& db,
                          const std::string& brokers = {}, const std::string& extra = {}) {
  std::string yaml = "sources:\n  - path: \"" + logs + "/*.jsonl\"\nstate_dir: \"" + state + "\"\n" +
                     "pipeline: { checkpoint_interval: 200ms, rescan_interval: 200ms }\n" + "sqlite:\n  path: \"" +
                     db + "\"\n";
  if (!brokers.empty()) yaml += "kafka:\n  brokers: \"" + brokers + "\"\n  key_field: generation_id\n  properties: { linger.ms: \"5\" }\n";
  return yaml + extra;
}

TEST(Sqlite, WithoutKafkaEveryRecordOnceThroughDuplicatesAndAKill) {
  TempDir dir;
  const std::string logs = dir.subdir("logs"), db = dir.file("db/audit.db");
  std::vector<Call> calls = generate("a", 30000);
  write_lines(logs + "/a.jsonl", calls, 0, calls.size());
  // App retries: a tenth of the calls written again to another file, same generation_id.
  std::ofstream retries(logs + "/b.jsonl", std::ios::binary);
  for (std::size_t i = 0; i < calls.size(); i += 10) retries << calls[i].line;
  retries.close();
  // What cannot become a row: no model_used (a NOT NULL column), and a line that is not JSON.
  write_file(logs + "/b.jsonl", R"({"timestamp":"2026-12-04T10:00:00Z","generation_id":"gen-nomodel","status":"error"})"
                                "\n{not json\n",
             true);
  const std::string config = sqlite_config(logs, dir.file("state"), db);
  {
    Agent agent(dir, config);
    // Killed mid-way: what was committed but not yet checkpointed is written again at restart
    // and ignored by generation_id, so the table still holds each call once.
    ASSERT_TRUE(eventually([&] { return logged(db) > 0; }, seconds(60))) << agent.log();
    agent.process().signal(SIGKILL);
    ASSERT_TRUE(agent.process().wait(seconds(10)).has_value());
    std::printf("killed with %llu of %zu rows committed\n", static_cast<unsigned long long>(logged(db)), calls.size());
  }
  write_file(dir.file("auditship.yaml"), config);
  auto run = run_and_capture(AUDITSHIP_BINARY, {"run", "-c", dir.file("auditship.yaml"), "--once"}, seconds(120));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err.find("\"level\":\"error\""), std::string::npos) << run.err;

  expect_each_once(db, calls);
  EXPECT_EQ(query(db, "SELECT reason, detail FROM audit_dead_letter ORDER BY reason"),
            (Rows{{"invalid_json", "NULL"},
                  {"missing_column", "missing or not a string: model_requested, model_used"}}));
  ASSERT_TRUE(calls[5].exact);
  EXPECT_TRUE(close(scalar(db, "SELECT total_cost FROM audit_log WHERE generation_id='gen-a-5'"), calls[5].cost))
      << "the exact cost from openrouter.total_cost, not the app's 0";
  check_seed_queries(db, calls, dir.file("state"));

  // The same queries through the sqlite3 CLI, as the README shows them.
  auto cli = run_and_capture("/bin/sh", {"-c", "sqlite3 -header '" + db + "' < '" + AUDITSHIP_SOURCE_DIR +
                                                   "/conf/queries.sql'"});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("day|model_used|requests|cost"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("model_requested|total|errors|error_pct"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("user_id|requests|total_cost"), std::string::npos) << cli.out;
}

TEST(Sqlite, BesideKafkaBothGetEverythingAndCheckpointsWaitForTheSlowerSink) {
  MockCluster cluster(8);
  TopicFollower records(cluster.bootstrap(), "openrouter-audit");
  TempDir dir;
  const std::string logs = dir.subdir("logs"), db = dir.file("audit.db");
  std::vector<Call> calls = generate("k", 6000);
  write_lines(logs + "/a.jsonl", calls, 0, 2000);
  // Kafka gets ECS envelopes (output.format); SQLite still gets the records themselves.
  Agent agent(dir, sqlite_config(logs, dir.file("state"), db, cluster.bootstrap(), "output: {format: ecs}\n"));
  ASSERT_TRUE(records.wait_for(2000, seconds(60))) << agent.log();
  ASSERT_TRUE(eventually([&] { return logged(db) == 2000; }, seconds(30)));
  auto committed = [&] { return committed_offsets(dir.file("state"))[logs + "/a.jsonl"]; };
  ASSERT_TRUE(eventually([&] { return committed() == fs::file_size(logs + "/a.jsonl"); }, seconds(30)));
  const std::uint64_t before_outage = committed();

  // Kafka down: SQLite takes every new record, but the checkpoint must not pass them, since
  // Kafka has not acknowledged them.
  cluster.command("down");
  write_lines(logs + "/a.jsonl", calls, 2000, 4000);
  ASSERT_TRUE(eventually([&] { return logged(db) == 4000; }, seconds(30)))
      << agent.log();
  std::this_thread::sleep_for(seconds(1));  // a few checkpoint intervals
  EXPECT_EQ(committed(), before_outage);

  cluster.command("up");
  write_lines(logs + "/a.jsonl", calls, 4000, 6000);
  // App retries to the second file: duplicates go to Kafka (consumers de-duplicate by key)
  // and are ignored by SQLite.
  write_lines(logs + "/b.jsonl", calls, 0, 500);
  ASSERT_TRUE(records.wait_for(6500, seconds(90))) << "got " << records.count() << "\n" << agent.log();
  ASSERT_TRUE(eventually([&] { return committed() == fs::file_size(logs + "/a.jsonl"); }, seconds(30)));
  EXPECT_EQ(agent.stop(), 0) << agent.log();

  std::set<std::string> keys;
  for (const auto& m : records.messages()) keys.insert(m.key);
  EXPECT_EQ(keys.size(), calls.size()) << "every call reached Kafka";
  ASSERT_FALSE(records.messages().empty());
  EXPECT_NE(records.messages()[0].value.find("\"@timestamp\""), std::string::npos) << "Kafka got ECS envelopes";
  expect_each_once(db, calls);
  check_seed_queries(db, calls, dir.file("state"));
}

}  // namespace
}  // namespace auditship::testing
