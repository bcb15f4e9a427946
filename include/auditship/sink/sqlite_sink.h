#pragma once
// Writes records to a SQLite database with the seed's `audit_log` schema, the embedded store
// for a single host with no Kafka (`sqlite.path`). Beside Kafka it runs under a FanOutSink.
//
// Tables (created if missing; an existing audit_log is used as is):
//   audit_log          the seed's table, exactly: one row per record, generation_id UNIQUE,
//                      indexes idx_audit_ts(timestamp) and idx_audit_user(user_id). Rows are
//                      only ever inserted (INSERT OR IGNORE: a repeated generation_id is
//                      ignored and counted) or removed by retention; a trigger rejects UPDATE.
//   audit_dead_letter  records that cannot become an audit_log row: the parser's dead letters
//                      (payload = their envelope) and records missing a NOT NULL column or
//                      with an unreadable timestamp (payload = the redacted record).
//   audit_enrichment   enrichment.mode=follow_up events (exact cost arriving after the record),
//                      kept apart so audit_log stays append-only.
//
// Column values come from the payload that would ship to Kafka (redacted, enriched): the
// record's fields by the seed's names; total_cost prefers openrouter.total_cost (the exact
// cost from the generation endpoint) over the app's own. When output.format wraps records in
// a SIEM envelope, the row comes from the record nested in it (the member object holding a
// generation_id); audit_dead_letter then keeps the whole envelope.
//
// Threads: send() from the pipeline's worker (blocks while the queue of kQueueBatches is full:
// backpressure); one writer thread owns the connection, writes one transaction per batch with
// reused prepared statements (WAL, synchronous=FULL), and only after COMMIT returns reports
// each record to the DeliveryListener and destroys the batch. Busy/locked/full/I/O errors roll
// back and retry the batch (counted); any other error is fatal: failure() says why and nothing
// after it is acknowledged. Owned by: Pipeline; destroying it stops the writer (batches not
// yet committed are dropped unacknowledged, so a restart re-reads them).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "auditship/common/bounded_queue.h"
#include "auditship/common/result.h"
#include "auditship/sink/sink.h"
#include "auditship/sink/sqlite_config.h"

namespace auditship::sink {

class SqliteSink;
using SqliteSinkPtr = std::unique_ptr<SqliteSink>;

class SqliteSink final : public Sink {
 public:
  static constexpr std::size_t kQueueBatches = 16;

  // Opens (creating the file, its directory and the tables if missing) and starts the writer.
  // Errors: the database cannot be opened or is not writable, or holds an incompatible schema.
  [[nodiscard]] static Result<SqliteSinkPtr> make(const SqliteConfig& config, DeliveryListener& listener);
  ~SqliteSink() override;

  void send(BatchPtr batch) override;
  bool flush(std::chrono::milliseconds timeout) override;
  [[nodiscard]] std::optional<std::string> failure() const override;

  // Runs the retention delete now (on the writer thread) and waits for it; tests use it
  // instead of waiting for retention_interval. Returns the rows deleted from audit_log.
  std::uint64_t run_retention_for_test();

 private:
  struct Db;
  SqliteSink(const SqliteConfig& config, DeliveryListener& listener);
  void writer_loop();
  void write(BatchPtr batch);
  void retention();
  void set_failure(std::string why);
  void finished_one();

  SqliteConfig config_;
  DeliveryListener& listener_;
  std::unique_ptr<Db> db_;
  BoundedQueue<BatchPtr> queue_{kQueueBatches};
  std::thread writer_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> retention_requested_{false};
  mutable std::mutex mu_;
  std::condition_variable idle_;
  std::uint64_t pending_ = 0;  // batches sent and not yet committed or dropped
  std::uint64_t retention_runs_ = 0;
  std::uint64_t last_retention_deleted_ = 0;
  std::optional<std::string> failure_;
};

}  // namespace auditship::sink
