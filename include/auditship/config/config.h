#pragma once
// The agent's configuration: one YAML file, read by `load()`, validated whole.
#include <string>
#include <vector>

#include "auditship/buffer/buffer_config.h"
#include "auditship/common/result.h"
#include "auditship/config/checker.h"
#include "auditship/config/schema.h"
#include "auditship/enrich/enrich_config.h"
#include "auditship/format/format_config.h"
#include "auditship/redact/redact_config.h"
#include "auditship/sink/sqlite_config.h"

namespace auditship::config {

struct SourceConfig {
  std::string path;                  // a glob
  std::vector<std::string> exclude;  // globs matched against the file name and the full path
  std::string read_from = "beginning";
  template <class V>
  void visit(V& v) {
    v.field("path", path, "Glob of audit files to follow");
    v.field("exclude", exclude, "Globs of files to skip (matched against the name and the full path)");
    v.field("read_from", read_from, "Where to start in a file with no checkpoint: beginning or end");
  }
};

struct PipelineConfig {
  Bytes max_in_flight_bytes = 3u << 20;  // measured: 4 MiB buys ~3 % records/s for ~3 MB more RSS (BENCHMARKS.md)
  Bytes read_chunk_bytes = 256u << 10;
  Duration checkpoint_interval{1000};
  Duration rescan_interval{1000};
  Duration batch_wait{50};  // measured: 2-5.7x less CPU per record at 100-10,000 records/s (BENCHMARKS.md)
  Duration shutdown_timeout{30000};
  int workers = 0;
  template <class V>
  void visit(V& v) {
    v.field("max_in_flight_bytes", max_in_flight_bytes,
            "Memory bound for records read but not yet acknowledged; reading pauses above it");
    v.field("read_chunk_bytes", read_chunk_bytes, "Bytes read from a file per batch");
    v.field("checkpoint_interval", checkpoint_interval, "How often committed offsets are persisted");
    v.field("rescan_interval", rescan_interval, "How often globs are re-expanded and files polled");
    v.field("batch_wait", batch_wait,
            "After a file grows while the agent is idle, wait this long for more lines before reading; a read chunk "
            "waiting is read at once; 0: read at every change; at most rescan_interval takes effect");
    v.field("shutdown_timeout", shutdown_timeout, "How long SIGTERM waits for Kafka acknowledgements");
    v.field("workers", workers,
            "Parse+redact threads; 0: half the CPUs the agent may use (cgroup quota or affinity), 1 to 4. Output "
            "order per file is the same for any number");
  }
};

struct KafkaConfig {
  std::string brokers;
  std::string topic = "openrouter-audit";
  std::string dead_letter_topic = "openrouter-audit-dlq";
  std::string key_field;  // no key: the sticky partitioner fills whole batches (BENCHMARKS.md)
  std::map<std::string, std::string> properties;
  int embedded_partitions = 4;
  bool headers = true;
  template <class V>
  void visit(V& v) {
    v.field("brokers", brokers,
            "Bootstrap servers, or `embedded` for an in-process mock cluster (demo/tests); empty: no Kafka "
            "(needs sqlite.path)");
    v.field("topic", topic, "Topic for audit records");
    v.field("dead_letter_topic", dead_letter_topic, "Topic for records that could not be parsed or shipped");
    v.field("key_field", key_field, "Top-level record field used as the message key (e.g. generation_id); empty: no key, so librdkafka fills "
            "one partition's batch at a time (bigger zstd batches, ~25 % more records/s than keyed)");
    v.field("properties", properties, "librdkafka properties passed through (TLS, SASL, linger.ms, ...)");
    v.field("embedded_partitions", embedded_partitions, "Partitions per topic of the embedded broker");
    v.field("headers", headers,
            "Attach source, offset and host headers to each message (traceability; costs CPU per message)");
  }
};

struct LogConfig {
  std::string level = "info";
  template <class V>
  void visit(V& v) {
    v.field("level", level, "Agent log level: debug, info, warn, error");
  }
};

struct MetricsConfig {
  std::string listen = "127.0.0.1:9464";
  template <class V>
  void visit(V& v) {
    v.field("listen", listen, "host:port serving /metrics, /health and /ready; empty: no HTTP server");
  }
};

struct Config {
  std::vector<SourceConfig> sources;
  std::string state_dir = "/var/lib/auditship";
  std::string on_corrupt_checkpoint = "fail";
  Bytes max_line_bytes = 1u << 20;
  PipelineConfig pipeline;
  KafkaConfig kafka;
  buffer::BufferConfig buffer;
  sink::SqliteConfig sqlite;
  // The agent pseudonymises user_id rather than scanning it: per-user cost needs one stable
  // value per user (an email-shaped id would otherwise become `[EMAIL]` for everyone).
  redact::RedactConfig redact = [] {
    redact::RedactConfig r;
    r.fields = {{"user_id", "hash"}};
    return r;
  }();
  enrich::EnrichConfig enrich;
  LogConfig log;
  MetricsConfig metrics;
  format::OutputConfig output;

  template <class V>
  void visit(V& v) {
    v.list("sources", sources, "Files to follow");
    v.field("state_dir", state_dir, "Directory for checkpoints (must be writable)");
    v.field("on_corrupt_checkpoint", on_corrupt_checkpoint,
            "An unreadable checkpoint file at start: `fail` (refuse to start; default) or `restart_from_beginning` "
            "(move it aside and re-read every file from offset 0: duplicates, never loss)");
    v.field("max_line_bytes", max_line_bytes, "Longer lines are dead-lettered with a preview");
    v.section("pipeline", pipeline, "Batching, memory bound and timings");
    v.section("kafka", kafka, "Kafka sink (optional when sqlite.path is set)");
    v.section("buffer", buffer, "Disk buffer (zstd segments under state_dir/buffer) for Kafka outages");
    v.section("sqlite", sqlite, "SQLite sink: the seed's audit_log table, instead of or beside Kafka");
    v.section("redact", redact, "PII and secret redaction");
    v.section("enrich", enrich, "Exact cost from OpenRouter's generation endpoint");
    v.section("log", log, "The agent's own log");
    v.section("metrics", metrics, "Prometheus metrics and health endpoints");
    v.section("output", output, "Envelope of shipped records for a SIEM");
  }
  void validate(Checker& check) const;
};

struct LoadOptions {
  bool check_state_dir = true;  // `check` and `run` verify state_dir is usable
};

// Reads, parses and validates a config file. On failure the error lists every problem, one
// per line, each as "FILE:LINE: key.path: what is wrong".
Result<Config> load(const std::string& file, const LoadOptions& options = {});
Result<Config> load_string(const std::string& yaml, const std::string& name, const LoadOptions& options = {});

// The effective config as YAML (defaults filled in), for `auditship check`.
std::string to_yaml(Config& config);
// The configuration reference as a Markdown table.
std::string reference_markdown();

}  // namespace auditship::config
