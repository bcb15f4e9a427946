// The metrics endpoint over a real loopback socket, the scrape client and the status view.
#include "auditship/metrics/metrics_server.h"

#include <gtest/gtest.h>

#include <atomic>

#include "auditship/metrics/process_metrics.h"
#include "auditship/metrics/scrape.h"
#include "auditship/metrics/status_view.h"

namespace auditship::metrics {
namespace {

using std::chrono::seconds;

struct Server {
  Registry registry;
  std::atomic<bool> kafka_down{false};
  MetricsServerPtr server;
  Server() {
    auto s = MetricsServer::start(
        "127.0.0.1:0",
        {{"sources", [] { return std::string(); }},
         {"kafka", [this] { return kafka_down ? std::string("metadata request failed: \"down\"") : std::string(); }}},
        registry);
    EXPECT_TRUE(s) << s.error();
    server = std::move(s.value());
  }
  std::string url(const std::string& path) const { return "http://" + server->address() + path; }
};

TEST(MetricsServer, ServesMetricsHealthAndReadiness) {
  Server s;
  s.registry.counter("auditship_test_total", "A test counter", {{"kind", "a"}}).inc(3);
  s.registry.gauge("auditship_test_bytes", "A test gauge").set(1.5);

  auto m = http_get(s.url("/metrics"), seconds(5));
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("# TYPE auditship_test_total counter\nauditship_test_total{kind=\"a\"} 3\n"), std::string::npos)
      << m->body;
  Samples samples = parse_prometheus(m->body);
  EXPECT_EQ(sum_of(samples, "auditship_test_total"), 3);
  EXPECT_EQ(sum_of(samples, "auditship_test_bytes"), 1.5);

  auto h = http_get(s.url("/health"), seconds(5));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);

  auto r = http_get(s.url("/ready"), seconds(5));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"status":"ready"})");

  s.kafka_down = true;
  r = http_get(s.url("/ready"), seconds(5));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, R"({"status":"not_ready","failing":{"kafka":"metadata request failed: \"down\""}})");

  auto missing = http_get(s.url("/nope"), seconds(5));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST(MetricsServer, ManyClientsInARow) {
  Server s;
  for (int i = 0; i < 50; ++i) {
    auto h = http_get(s.url("/health?probe=" + std::to_string(i)), seconds(5));
    ASSERT_TRUE(h) << h.error();
    EXPECT_EQ(h->status, 200);
  }
}

TEST(MetricsServer, ReportsAnAddressItCannotBind) {
  Server s;
  Registry r;
  auto again = MetricsServer::start(s.server->address(), {}, r);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().find("cannot listen"), std::string::npos) << again.error();
  EXPECT_FALSE(MetricsServer::start("localhost", {}, r));
  EXPECT_FALSE(MetricsServer::start("not-an-ip:80", {}, r));
}

TEST(Scrape, UnreachableAgentIsAnError) {
  std::string address;
  {
    Server s;
    address = s.server->address();
  }
  auto r = http_get("http://" + address + "/metrics", seconds(2));
  EXPECT_FALSE(r);
  EXPECT_FALSE(http_get("https://127.0.0.1:1/metrics", seconds(1)));
}

TEST(Scrape, ParsesPrometheusText) {
  Samples s = parse_prometheus(
      "# HELP x help\n# TYPE x counter\nx{a=\"1 2\",b=\"q\\\"\"} 4\nx{a=\"3\"} 5\ny 2.5e3\nbroken\nz +Inf\n");
  EXPECT_EQ(sum_of(s, "x"), 9);
  EXPECT_EQ(sum_of(s, "x", {"a=\"3\""}), 5);
  EXPECT_EQ(sum_of(s, "y"), 2500);
  EXPECT_EQ(sum_of(s, "absent"), 0);
  EXPECT_EQ(label_of("x{a=\"1 2\",b=\"q\\\"\"}", "b"), "q\"");
  EXPECT_EQ(label_of("x{ab=\"1\",b=\"2\"}", "b"), "2");
  EXPECT_EQ(label_of("x", "b"), "");
}

TEST(ProcessMetrics, SampledAtRender) {
  Registry r;
  register_process_metrics(r);
  register_process_metrics(r);  // idempotent
  Samples s = parse_prometheus(r.render_prometheus());
  EXPECT_GT(sum_of(s, "process_resident_memory_bytes"), 1e6);
  EXPECT_GE(sum_of(s, "process_cpu_seconds_total"), 0);
  EXPECT_GT(sum_of(s, "process_open_fds"), 2);
  EXPECT_GT(sum_of(s, "process_start_time_seconds"), 1.6e9);
  EXPECT_NE(r.render_prometheus().find("# TYPE process_cpu_seconds_total counter"), std::string::npos);
}

TEST(StatusView, ShowsRatesAndBreakdowns) {
  Samples before = parse_prometheus(
      "auditship_tail_lines_read_total 100\nauditship_kafka_messages_delivered_total{topic_kind=\"records\"} 90\n");
  Samples after = parse_prometheus(
      "auditship_tail_lines_read_total 300\nauditship_tail_bytes_behind 2097152\n"
      "auditship_kafka_messages_delivered_total{topic_kind=\"records\"} 290\n"
      "auditship_kafka_delivery_errors_total 7\n"
      "auditship_enrich_held_records 12\nauditship_enrich_lookups_total{status=\"ok\"} 40\n"
      "auditship_enrich_lookups_total{status=\"not_found\"} 2\n"
      "auditship_dead_letters_total{reason=\"invalid_json\"} 3\nauditship_dead_letters_total{reason=\"unredactable\"} 0\n"
      "auditship_redactions_total{detector=\"email\"} 5\n"
      "auditship_enrich_connection_failures_total 9\nauditship_enrich_proxy_refusals_total 1\n");
  std::string view = render_status(before, after, 2.0);
  EXPECT_NE(view.find("bytes behind           2.0 MiB"), std::string::npos) << view;
  EXPECT_NE(view.find("records/s              100.0"), std::string::npos) << view;
  EXPECT_NE(view.find("delivered/s            100.0 records"), std::string::npos) << view;
  EXPECT_NE(view.find("delivery errors        7"), std::string::npos) << view;
  EXPECT_NE(view.find("12 held records"), std::string::npos) << view;
  EXPECT_NE(view.find("not_found 2, ok 40"), std::string::npos) << view;
  EXPECT_NE(view.find("by reason              invalid_json 3\n"), std::string::npos) << view;
  EXPECT_NE(view.find("email 5"), std::string::npos) << view;
  EXPECT_NE(view.find("connection failures    9  (4.5/s; proxy refusals 1)"), std::string::npos) << view;
}

}  // namespace
}  // namespace auditship::metrics
