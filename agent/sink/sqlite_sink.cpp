#include "auditship/sink/sqlite_sink.h"

#include <simdjson.h>
#include <sqlite3.h>

#include <array>
#include <filesystem>

#include "auditship/common/iso8601.h"
#include "auditship/common/log.h"
#include "auditship/common/metrics.h"
#include "auditship/common/thread_name.h"
#include "auditship/common/units.h"

namespace auditship::sink {
namespace {

using Clock = std::chrono::steady_clock;

// The seed's table and indexes, verbatim (its queries must run unchanged), then what the
// agent adds around them: an UPDATE guard and the two side tables.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS audit_log (
id INTEGER PRIMARY KEY AUTOINCREMENT,
timestamp TEXT NOT NULL,
generation_id TEXT UNIQUE NOT NULL,
model_requested TEXT NOT NULL,
model_used TEXT NOT NULL,
prompt_tokens INTEGER,
completion_tokens INTEGER,
total_cost REAL,
latency_ms REAL,
status TEXT NOT NULL,
user_id TEXT,
prompt_hash TEXT,
error_code TEXT
);
CREATE INDEX IF NOT EXISTS idx_audit_ts ON audit_log(timestamp);
CREATE INDEX IF NOT EXISTS idx_audit_user ON audit_log(user_id);
-- Append-only: rows are inserted, or deleted by sqlite.retention, never changed. (Anyone who
-- can write the file can drop this trigger: it guards against mistakes, not against root.)
CREATE TRIGGER IF NOT EXISTS audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TABLE IF NOT EXISTS audit_dead_letter (
id INTEGER PRIMARY KEY AUTOINCREMENT,
received_at TEXT NOT NULL,
reason TEXT NOT NULL,
detail TEXT,
source TEXT,
file_offset INTEGER,
payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_dead_letter_received ON audit_dead_letter(received_at);
CREATE TABLE IF NOT EXISTS audit_enrichment (
id INTEGER PRIMARY KEY AUTOINCREMENT,
received_at TEXT NOT NULL,
generation_id TEXT NOT NULL,
total_cost REAL,
payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_enrichment_generation ON audit_enrichment(generation_id);
CREATE INDEX IF NOT EXISTS idx_enrichment_received ON audit_enrichment(received_at);
)sql";

// audit_log's value columns in the seed's order; the insert binds parameter i+1 to column i.
constexpr std::array<std::string_view, 12> kColumns = {
    "timestamp", "generation_id", "model_requested", "model_used", "prompt_tokens", "completion_tokens",
    "total_cost", "latency_ms",   "status",          "user_id",    "prompt_hash",   "error_code"};
enum Column : std::size_t { kTimestamp = 0, kGenerationId = 1, kModelRequested = 2, kModelUsed = 3, kTotalCost = 6,
                            kStatus = 8 };
// The seed's NOT NULL columns: a record without one of them goes to audit_dead_letter.
constexpr std::array<std::size_t, 5> kNotNull = {kTimestamp, kGenerationId, kModelRequested, kModelUsed, kStatus};

constexpr const char* kInsert =
    "INSERT OR IGNORE INTO audit_log (timestamp, generation_id, model_requested, model_used, prompt_tokens, "
    "completion_tokens, total_cost, latency_ms, status, user_id, prompt_hash, error_code) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kInsertDeadLetter =
    "INSERT INTO audit_dead_letter (received_at, reason, detail, source, file_offset, payload) "
    "VALUES (?, ?, ?, ?, ?, ?)";
constexpr const char* kInsertEvent =
    "INSERT INTO audit_enrichment (received_at, generation_id, total_cost, payload) VALUES (?, ?, ?, ?)";
// Retention deletes in slices so the write lock is never held for long (readers are never
// blocked in WAL mode, but the agent's own inserts are).
constexpr int kDeleteSlice = 5000;
constexpr std::array<std::pair<const char*, const char*>, 3> kRetention = {{
    {"audit_log", "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE timestamp < ?1 LIMIT 5000)"},
    {"audit_dead_letter",
     "DELETE FROM audit_dead_letter WHERE id IN (SELECT id FROM audit_dead_letter WHERE received_at < ?1 LIMIT 5000)"},
    {"audit_enrichment",
     "DELETE FROM audit_enrichment WHERE id IN (SELECT id FROM audit_enrichment WHERE received_at < ?1 LIMIT 5000)"},
}};

struct SqliteStats {
  metrics::Registry& r = metrics::Registry::global();
  static constexpr const char* kRecords = "auditship_sqlite_records_total";
  static constexpr const char* kRecordsHelp = "Records the SQLite sink committed, by outcome";
  metrics::Counter& inserted = r.counter(kRecords, kRecordsHelp, {{"outcome", "inserted"}});
  metrics::Counter& duplicate = r.counter(kRecords, kRecordsHelp, {{"outcome", "duplicate"}});
  metrics::Counter& dead_letter = r.counter(kRecords, kRecordsHelp, {{"outcome", "dead_letter"}});
  metrics::Counter& event = r.counter(kRecords, kRecordsHelp, {{"outcome", "enrichment_event"}});
  metrics::Counter& dropped = r.counter(kRecords, kRecordsHelp, {{"outcome", "dropped"}});
  metrics::Counter& missing_column =
      r.counter("auditship_sqlite_dead_letters_total",
                "Records the SQLite sink put in audit_dead_letter itself (not the parser's), by reason",
                {{"reason", "missing_column"}});
  metrics::Counter& bad_timestamp =
      r.counter("auditship_sqlite_dead_letters_total",
                "Records the SQLite sink put in audit_dead_letter itself (not the parser's), by reason",
                {{"reason", "bad_timestamp"}});
  metrics::Counter& transactions = r.counter("auditship_sqlite_transactions_total", "Transactions committed");
  metrics::Counter& retries =
      r.counter("auditship_sqlite_retries_total", "Batches rolled back and written again (busy, locked, full, I/O)");
  metrics::Gauge& queued = r.gauge("auditship_sqlite_queue_batches", "Batches waiting for the SQLite writer");
  metrics::Histogram& commit = r.histogram("auditship_sqlite_transaction_seconds",
                                           "Time to write and commit one batch",
                                           {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
  metrics::Counter& deleted(const char* table) {
    return r.counter("auditship_sqlite_rows_deleted_total", "Rows removed by sqlite.retention", {{"table", table}});
  }
};
SqliteStats& stats() {
  static SqliteStats s;
  return s;
}

// A failed step, as an error that carries SQLite's code so the writer can tell a retriable
// failure (another writer holds the lock, the disk is full) from a permanent one.
struct DbError {
  int code = SQLITE_OK;
  std::string message;
};

bool retriable(int code) {
  switch (code & 0xff) {  // primary code
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
      return true;
    default:
      return false;
  }
}

std::string now_iso8601() {
  std::string out;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  iso8601::append(out, ms.count());
  return out;
}

// One column's value as found in the record.
struct Value {
  enum Kind : std::uint8_t { kAbsent, kNull, kText, kInt, kReal };
  Kind kind = kAbsent;
  std::string_view text;
  std::int64_t i = 0;
  double d = 0;
};

}  // namespace

struct SqliteSink::Db {
  sqlite3* db = nullptr;
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* dead = nullptr;
  sqlite3_stmt* event = nullptr;
  std::array<sqlite3_stmt*, 3> retention{};
  simdjson::dom::parser parser;
  std::string padded;
  std::array<Value, kColumns.size()> values;
  std::array<std::string, kColumns.size()> json_text;  // per column: an object/array as JSON text

  ~Db() {
    for (sqlite3_stmt* s : {insert, dead, event}) sqlite3_finalize(s);
    for (sqlite3_stmt* s : retention) sqlite3_finalize(s);
    if (db) sqlite3_close_v2(db);
  }

  [[nodiscard]] std::string what(std::string_view doing) const {
    return std::string(doing) + ": " + sqlite3_errmsg(db);
  }
  Status exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) == SQLITE_OK) return {};
    std::string message = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return Error{message};
  }
  Status prepare(const char* sql, sqlite3_stmt** out) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, nullptr) != SQLITE_OK)
      return Error{what("cannot prepare a statement")};
    return {};
  }
  // Runs a prepared statement to completion and resets it (keeping it for the next batch).
  std::optional<DbError> step(sqlite3_stmt* stmt) {
    int rc = sqlite3_step(stmt);
    std::optional<DbError> err;
    if (rc != SQLITE_DONE) err = DbError{sqlite3_extended_errcode(db), sqlite3_errmsg(db)};
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return err;
  }
  std::optional<DbError> exec_step(const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK) return std::nullopt;
    return DbError{sqlite3_extended_errcode(db), sqlite3_errmsg(db)};
  }

  // Fills `values` from a record's payload; false if it is not a JSON object.
  bool extract(std::string_view payload) {
    values.fill(Value{});
    padded.assign(payload);
    padded.append(simdjson::SIMDJSON_PADDING, '\0');
    simdjson::dom::object obj;
    if (parser.parse(padded.data(), payload.size(), false).get(obj)) return false;
    // With output.format ecs, splunk_hec or datadog the payload is a SIEM envelope with the
    // record nested in one member (record_field, or `event`): the row comes from the record.
    // Found by content rather than configured, so a SIGHUP that changes the format is followed.
    if (obj["generation_id"].error() == simdjson::NO_SUCH_FIELD) {
      for (auto [key, value] : obj) {
        simdjson::dom::object inner;
        if (!value.get(inner) && inner["generation_id"].error() != simdjson::NO_SUCH_FIELD) {
          obj = inner;
          break;
        }
      }
    }
    std::optional<double> exact_cost;
    for (auto [key, value] : obj) {
      if (key == "openrouter") {
        double cost;
        if (!value["total_cost"].get(cost)) exact_cost = cost;
        continue;
      }
      for (std::size_t c = 0; c < kColumns.size(); ++c)
        if (key == kColumns[c]) values[c] = to_value(value, json_text[c]);
    }
    if (exact_cost) values[kTotalCost] = Value{Value::kReal, {}, 0, *exact_cost};
    return true;
  }

  // Strings are views into the parser's document (valid until the next parse), objects and
  // arrays views into `own`.
  static Value to_value(simdjson::dom::element e, std::string& own) {
    Value v;
    switch (e.type()) {
      case simdjson::dom::element_type::NULL_VALUE: v.kind = Value::kNull; break;
      case simdjson::dom::element_type::STRING: v.kind = Value::kText; v.text = e.get_string().value(); break;
      case simdjson::dom::element_type::INT64: v.kind = Value::kInt; v.i = e.get_int64().value(); break;
      case simdjson::dom::element_type::BOOL: v.kind = Value::kInt; v.i = e.get_bool().value() ? 1 : 0; break;
      case simdjson::dom::element_type::UINT64:  // beyond int64: keep the magnitude as a real
      case simdjson::dom::element_type::DOUBLE: v.kind = Value::kReal; v.d = e.get_double().value(); break;
      default: {
        // An object or array where the seed has a scalar: keep its JSON text rather than lose it.
        own = simdjson::minify(e);
        v.kind = Value::kText;
        v.text = own;
      }
    }
    return v;
  }
};

SqliteSink::SqliteSink(const SqliteConfig& config, DeliveryListener& listener)
    : config_(config), listener_(listener), db_(std::make_unique<Db>()) {
  stats();
}

Result<SqliteSinkPtr> SqliteSink::make(const SqliteConfig& config, DeliveryListener& listener) {
  SqliteSinkPtr sink(new SqliteSink(config, listener));
  Db& d = *sink->db_;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path parent = fs::path(config.path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) return Error{"sqlite: cannot create " + parent.string() + ": " + ec.message()};
  if (sqlite3_open_v2(config.path.c_str(), &d.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK)
    return Error{"sqlite: cannot open " + config.path + ": " + (d.db ? sqlite3_errmsg(d.db) : "out of memory")};
  sqlite3_extended_result_codes(d.db, 1);
  // A reader (sqlite3 CLI, a dashboard) never blocks us in WAL mode; another writer may, for
  // up to this long per attempt before the batch is retried.
  sqlite3_busy_timeout(d.db, 1000);
  // WAL: readers see a consistent snapshot while the agent appends. synchronous=FULL: a COMMIT
  // that returned is on disk, so acknowledging after it cannot lose a record to a power cut.
  std::string mode;
  auto first_value = [](void* out, int, char** values, char**) {
    *static_cast<std::string*>(out) = values[0] ? values[0] : "";
    return 0;
  };
  if (sqlite3_exec(d.db, "PRAGMA journal_mode=WAL", first_value, &mode, nullptr) != SQLITE_OK)
    return Error{"sqlite: " + config.path + ": " + d.what("cannot set journal_mode=WAL")};
  // SQLite keeps its old mode where WAL is impossible (e.g. a network filesystem, where it is
  // not safe anyway): refuse rather than run without the mode the store is specified with.
  if (mode != "wal")
    return Error{"sqlite: " + config.path + ": WAL mode unavailable (journal_mode stays '" + mode +
                 "'); put the database on a local filesystem"};
  if (Status s = d.exec("PRAGMA synchronous=FULL"); !s)
    return Error{"sqlite: " + config.path + ": PRAGMA synchronous=FULL: " + s.error()};
  if (Status s = d.exec(kSchema); !s)
    return Error{"sqlite: " + config.path + ": cannot create the tables: " + s.error()};
  const std::array<std::pair<const char*, sqlite3_stmt**>, 3> statements = {
      {{kInsert, &d.insert}, {kInsertDeadLetter, &d.dead}, {kInsertEvent, &d.event}}};
  for (auto [sql, stmt] : statements) {
    // An audit_log created by someone else without the seed's columns fails here, at start.
    if (Status s = d.prepare(sql, stmt); !s) return Error{"sqlite: " + config.path + ": " + s.error()};
  }
  for (std::size_t i = 0; i < kRetention.size(); ++i)
    if (Status s = d.prepare(kRetention[i].second, &d.retention[i]); !s)
      return Error{"sqlite: " + config.path + ": " + s.error()};
  sink->writer_ = std::thread([s = sink.get()] {
    name_this_thread("as-sqlite");
    s->writer_loop();
  });
  log::info("sqlite sink opened", {{"path", config.path},
                                   {"retention", format_duration(config.retention)}});
  return sink;
}

SqliteSink::~SqliteSink() {
  stopping_ = true;
  queue_.close();
  if (writer_.joinable()) writer_.join();
}

void SqliteSink::send(BatchPtr batch) {
  {
    std::lock_guard lock(mu_);
    if (failure_) return;  // stopping: the batch is dropped unacknowledged (re-read at restart)
    ++pending_;
  }
  stats().queued.add(1);
  if (!queue_.push(std::move(batch))) {
    stats().queued.add(-1);
    finished_one();
  }
}

void SqliteSink::writer_loop() {
  auto next_retention = Clock::now();
  while (true) {
    // Wake up now and then even with nothing to write, so retention runs on an idle agent.
    auto batch = queue_.pop_for(std::chrono::milliseconds(200));
    if (!batch && queue_.closed()) break;
    const bool requested = retention_requested_.exchange(false);
    if (requested || (config_.retention.count() > 0 && Clock::now() >= next_retention)) {
      retention();
      next_retention = Clock::now() + config_.retention_interval;
    }
    if (!batch || !*batch) continue;
    stats().queued.add(-1);
    if (stopping_.load() || failure()) {
      finished_one();  // dropped unacknowledged
      continue;
    }
    write(std::move(*batch));
  }
}

void SqliteSink::write(BatchPtr batch) {
  Db& d = *db_;
  const Batch& b = *batch;
  const bool event_batch = !b.source;  // enrichment follow_up events: no file behind them
  const std::string received_at = now_iso8601();
  const std::string_view source = b.source ? std::string_view(b.source->path) : std::string_view();
  struct Counts {
    std::uint64_t inserted = 0, duplicate = 0, dead_letter = 0, event = 0, dropped = 0, missing = 0, bad_ts = 0;
  };
  auto bind_text = [](sqlite3_stmt* s, int i, std::string_view t) {
    // A null pointer would bind NULL: an empty value is still text.
    sqlite3_bind_text(s, i, t.empty() ? "" : t.data(), static_cast<int>(t.size()), SQLITE_STATIC);
  };
  auto dead_letter = [&](std::string_view reason, std::string_view detail, const Record& r) {
    bind_text(d.dead, 1, received_at);
    bind_text(d.dead, 2, reason);
    if (!detail.empty()) bind_text(d.dead, 3, detail);
    if (!source.empty()) bind_text(d.dead, 4, source);
    if (!event_batch) sqlite3_bind_int64(d.dead, 5, static_cast<sqlite3_int64>(r.file_offset));
    bind_text(d.dead, 6, b.payload(r));
    return d.step(d.dead);
  };
  // One attempt at the whole batch in one transaction; on a retriable error the caller rolls
  // back and tries again, so the counts are only kept from the attempt that committed.
  auto attempt = [&](Counts& n) -> std::optional<DbError> {
    const auto started = Clock::now();
    if (auto e = d.exec_step("BEGIN IMMEDIATE")) return e;
    std::string detail;
    for (const Record& r : b.records) {
      std::optional<DbError> e;
      if (r.disposition == Disposition::kDrop) {
        ++n.dropped;
        continue;
      }
      if (r.disposition == Disposition::kDeadLetter) {
        e = dead_letter(reason_name(r.reason), {}, r);
        ++n.dead_letter;
      } else if (event_batch) {
        d.extract(b.payload(r));
        bind_text(d.event, 1, received_at);
        bind_text(d.event, 2, b.field(r.generation_id));
        if (const Value& c = d.values[kTotalCost]; c.kind == Value::kReal || c.kind == Value::kInt)
          sqlite3_bind_double(d.event, 3, c.kind == Value::kReal ? c.d : static_cast<double>(c.i));
        bind_text(d.event, 4, b.payload(r));
        e = d.step(d.event);
        ++n.event;
      } else if (!d.extract(b.payload(r))) {
        // The parser only ships objects; a stage that broke one is a bug, kept as a dead letter.
        e = dead_letter("missing_column", "the payload is not a JSON object", r);
        ++n.dead_letter;
        ++n.missing;
      } else {
        detail.clear();
        for (std::size_t c : kNotNull) {
          const Value& v = d.values[c];
          if (v.kind != Value::kText || v.text.empty()) {
            detail += detail.empty() ? "missing or not a string: " : ", ";
            detail += kColumns[c];
          }
        }
        if (detail.empty() && !iso8601::parse_ms(d.values[kTimestamp].text, iso8601::Zone::kUtcIfMissing)) {
          e = dead_letter("bad_timestamp", "timestamp is not ISO-8601 (YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM])", r);
          ++n.dead_letter;
          ++n.bad_ts;
        } else if (!detail.empty()) {
          e = dead_letter("missing_column", detail, r);
          ++n.dead_letter;
          ++n.missing;
        } else {
          for (std::size_t c = 0; c < kColumns.size(); ++c) {
            const Value& v = d.values[c];
            const int i = static_cast<int>(c) + 1;
            switch (v.kind) {
              case Value::kAbsent:
              case Value::kNull: sqlite3_bind_null(d.insert, i); break;
              case Value::kText: bind_text(d.insert, i, v.text); break;
              case Value::kInt: sqlite3_bind_int64(d.insert, i, v.i); break;
              case Value::kReal: sqlite3_bind_double(d.insert, i, v.d); break;
            }
          }
          e = d.step(d.insert);
          if (!e) ++(sqlite3_changes(d.db) == 0 ? n.duplicate : n.inserted);
        }
      }
      if (e) return e;
    }
    if (auto e = d.exec_step("COMMIT")) return e;
    stats().commit.observe(std::chrono::duration<double>(Clock::now() - started).count());
    return std::nullopt;
  };

  for (int tries = 0;; ++tries) {
    Counts n;
    auto err = attempt(n);
    if (!err) {
      SqliteStats& s = stats();
      s.transactions.inc();
      s.inserted.inc(n.inserted);
      s.duplicate.inc(n.duplicate);
      s.dead_letter.inc(n.dead_letter);
      s.event.inc(n.event);
      s.dropped.inc(n.dropped);
      s.missing_column.inc(n.missing);
      s.bad_timestamp.inc(n.bad_ts);
      // Committed: only now is every record of the batch durable.
      for (std::size_t i = 0; i < b.records.size(); ++i) listener_.delivered(b, i);
      break;
    }
    if (!sqlite3_get_autocommit(d.db)) d.exec_step("ROLLBACK");
    if (!retriable(err->code) || stopping_.load()) {
      if (!stopping_.load()) set_failure("sqlite: " + config_.path + ": " + err->message);
      break;  // not acknowledged: checkpoints stay before this batch
    }
    stats().retries.inc();
    if (tries % 20 == 0)
      log::warn("sqlite write failed, retrying the batch",
                {{"path", config_.path}, {"error", err->message}, {"attempt", tries + 1}});
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 50 << std::min(tries, 4))));
  }
  batch.reset();
  finished_one();
}

void SqliteSink::retention() {
  Db& d = *db_;
  std::uint64_t deleted_log = 0;
  if (config_.retention.count() > 0) {
    // Timestamps compare as text (that is what idx_audit_ts orders), which orders ISO-8601 UTC
    // times correctly; a record written with a +HH:MM offset is off by at most that offset.
    auto cutoff_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()) -
                     config_.retention;
    std::string cutoff;
    iso8601::append(cutoff, cutoff_ms.count());
    for (std::size_t t = 0; t < kRetention.size(); ++t) {
      sqlite3_stmt* stmt = d.retention[t];
      std::uint64_t total = 0;
      while (!stopping_.load()) {
        sqlite3_bind_text(stmt, 1, cutoff.data(), static_cast<int>(cutoff.size()), SQLITE_STATIC);
        if (auto e = d.step(stmt)) {
          // Not fatal: the rows stay until the next run; nothing is lost by keeping them.
          log::warn("sqlite retention delete failed; retrying at the next interval",
                    {{"table", kRetention[t].first}, {"error", e->message}});
          break;
        }
        const int n = sqlite3_changes(d.db);
        total += static_cast<std::uint64_t>(n);
        if (n < kDeleteSlice) break;
      }
      stats().deleted(kRetention[t].first).inc(total);
      if (t == 0) deleted_log = total;
      if (total > 0)
        log::info("sqlite retention deleted rows",
                  {{"table", kRetention[t].first}, {"rows", total}, {"older_than", cutoff}});
    }
  }
  std::lock_guard lock(mu_);
  last_retention_deleted_ = deleted_log;
  ++retention_runs_;
  idle_.notify_all();
}

std::uint64_t SqliteSink::run_retention_for_test() {
  std::unique_lock lock(mu_);
  const std::uint64_t runs = retention_runs_;
  retention_requested_ = true;
  idle_.wait(lock, [&] { return retention_runs_ > runs; });
  return last_retention_deleted_;
}

void SqliteSink::finished_one() {
  std::lock_guard lock(mu_);
  --pending_;
  if (pending_ == 0) idle_.notify_all();
}

void SqliteSink::set_failure(std::string why) {
  {
    std::lock_guard lock(mu_);
    if (failure_) return;
    failure_ = why;
    idle_.notify_all();
  }
  log::error("sqlite sink failed; stopping without advancing checkpoints past unacknowledged records",
             {{"error", why}});
}

std::optional<std::string> SqliteSink::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

bool SqliteSink::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_.wait_for(lock, timeout, [&] { return pending_ == 0 || failure_.has_value(); }) && pending_ == 0;
}

}  // namespace auditship::sink
