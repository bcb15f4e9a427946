#include "auditship/metrics/status_view.h"

#include <cstdio>
#include <map>

namespace auditship::metrics {
namespace {

std::string number(double v, const char* fmt = "%.0f") {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string bytes(double v) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return number(v, u ? "%.1f" : "%.0f") + " " + units[u];
}

// "a 1, b 2" for every series of `name`, keyed by label `key` (zero series skipped unless all are).
std::string by_label(const Samples& s, std::string_view name, std::string_view key) {
  std::map<std::string, double> values;
  for (const auto& [series, v] : s)
    if (std::string_view(series).substr(0, series.find('{')) == name) values[label_of(series, key)] += v;
  std::string out;
  for (const auto& [label, v] : values) {
    if (v == 0) continue;
    out += (out.empty() ? "" : ", ") + (label.empty() ? std::string("-") : label) + " " + number(v);
  }
  return out.empty() ? "none" : out;
}

void line(std::string& out, const char* label, const std::string& value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "  %-22s ", label);
  out += buf + value + "\n";
}

}  // namespace

std::string render_status(const Samples& before, const Samples& after, double seconds) {
  if (seconds <= 0) seconds = 1;
  auto now = [&](std::string_view name, std::initializer_list<std::string_view> f = {}) { return sum_of(after, name, f); };
  auto rate = [&](std::string_view name, std::initializer_list<std::string_view> f = {}) {
    double d = sum_of(after, name, f) - sum_of(before, name, f);
    return (d < 0 ? 0 : d) / seconds;  // a restart between scrapes resets counters
  };
  std::string out;
  out += "sources\n";
  line(out, "files watched", number(now("auditship_tail_files_watched")));
  line(out, "bytes behind", bytes(now("auditship_tail_bytes_behind")));
  line(out, "records/s", number(rate("auditship_tail_lines_read_total"), "%.1f") + "  (" +
                              bytes(rate("auditship_tail_bytes_read_total")) + "/s; total " +
                              number(now("auditship_tail_lines_read_total")) + " lines)");
  line(out, "rotations/truncations", number(now("auditship_tail_rotations_total")) + " / " +
                                         number(now("auditship_tail_truncations_total")));
  line(out, "open errors", number(now("auditship_tail_open_errors_total")));
  out += "pipeline\n";
  line(out, "queue", number(now("auditship_pipeline_queue_batches")) + " / " +
                         number(now("auditship_pipeline_queue_capacity_batches")) + " batches");
  line(out, "in flight", bytes(now("auditship_pipeline_in_flight_bytes")) + " of " +
                             bytes(now("auditship_pipeline_in_flight_limit_bytes")) + " (" +
                             number(now("auditship_pipeline_pending_records")) + " records)");
  line(out, "checkpoint age", number(now("auditship_checkpoint_age_seconds"), "%.1f") + " s  (" +
                                  number(now("auditship_checkpoint_errors_total")) + " write errors)");
  out += "kafka\n";
  line(out, "delivered/s", number(rate("auditship_kafka_messages_delivered_total", {"topic_kind=\"records\""}), "%.1f") +
                               " records, " +
                               number(rate("auditship_kafka_messages_delivered_total", {"topic_kind=\"dead_letter\""}),
                                      "%.1f") +
                               " dead letters  (total " + number(now("auditship_kafka_messages_delivered_total")) + ")");
  line(out, "delivery errors", number(now("auditship_kafka_delivery_errors_total")) + "  (" +
                                   number(rate("auditship_kafka_delivery_errors_total"), "%.1f") + "/s; retries " +
                                   number(now("auditship_kafka_retries_total")) + ")");
  line(out, "in flight", number(now("auditship_kafka_in_flight_messages")) + " messages, " +
                             bytes(now("auditship_kafka_in_flight_bytes")));
  line(out, "broker rtt", number(now("auditship_kafka_broker_rtt_seconds", {"stat=\"avg\""}) * 1e3, "%.1f") +
                              " ms avg, " +
                              number(now("auditship_kafka_broker_rtt_seconds", {"stat=\"p99\""}) * 1e3, "%.1f") +
                              " ms p99; brokers up " + number(now("auditship_kafka_brokers_up")));
  out += "enrichment\n";
  line(out, "pending", number(now("auditship_enrich_held_records")) + " held records, " +
                           number(now("auditship_enrich_in_flight")) + " requests in flight");
  line(out, "lookups by status", by_label(after, "auditship_enrich_lookups_total", "status"));
  line(out, "retries/cache hits", number(now("auditship_enrich_retries_total")) + " / " +
                                      number(now("auditship_enrich_cache_hits_total")));
  line(out, "deduplicated", number(now("auditship_enrich_deduplicated_total")));
  line(out, "connection failures", number(now("auditship_enrich_connection_failures_total")) + "  (" +
                                       number(rate("auditship_enrich_connection_failures_total"), "%.1f") +
                                       "/s; proxy refusals " +
                                       number(now("auditship_enrich_proxy_refusals_total")) + ")");
  out += "redaction\n";
  line(out, "by detector", by_label(after, "auditship_redactions_total", "detector"));
  line(out, "fields by policy", by_label(after, "auditship_redact_fields_total", "policy"));
  out += "dead letters\n";
  line(out, "by reason", by_label(after, "auditship_dead_letters_total", "reason"));
  out += "process\n";
  line(out, "cpu", number(rate("process_cpu_seconds_total") * 100, "%.1f") + " %");
  line(out, "rss", bytes(now("process_resident_memory_bytes")));
  line(out, "config reloads", by_label(after, "auditship_config_reloads_total", "result"));
  return out;
}

}  // namespace auditship::metrics
