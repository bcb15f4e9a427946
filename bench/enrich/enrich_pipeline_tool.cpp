// auditship-enrich-pipeline: what enrichment costs inside the real pipeline. Runs the
// `auditship` binary as a child process on a file an in-process writer appends to at a fixed
// rate (every record with a fresh generation_id, so every record needs a lookup), against the
// mock Kafka cluster and the fake generation endpoint (HTTPS, added latency) living in this
// process, and reads the agent's user+sys CPU from /proc/PID/stat over a steady-state window.
// Modes: off (enrich.enabled=false), hold, follow_up; each run starts a fresh agent.
//
//   auditship-enrich-pipeline [--rate 1000] [--seconds 20] [--warmup 3] [--runs 3]
//                             [--latency-ms 50] [--modes off,hold,follow_up] [--agent PATH] [--yaml TEXT]
//                             [--tick-ms 10]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "auditship/cli/options.h"
#include "auditship/common/iso8601.h"
#include "auditship/sink/embedded_broker.h"
#include "auditship/sink/topic_reader.h"
#include "support/fake_generation_server.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace {

using namespace auditship;
using namespace auditship::testing;
using Clock = std::chrono::steady_clock;

constexpr const char* kKeyVar = "AUDITSHIP_BENCH_OPENROUTER_KEY";

std::string iso_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  char buf[40];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + 19, sizeof buf - 19, ".%03lldZ", static_cast<long long>(ms));
  return buf;
}

// A record shaped like conf/sample/openrouter-audit.jsonl (≈ 420 bytes), cost not yet known.
std::string record(std::uint64_t seq, const std::string& ts) {
  return "{\"timestamp\":\"" + ts + "\",\"generation_id\":\"gen-bench-" + std::to_string(seq) +
         "\",\"model_requested\":\"openrouter/auto\",\"model_used\":\"anthropic/claude-sonnet-4\","
         "\"provider\":\"Anthropic\",\"prompt_tokens\":" + std::to_string(200 + seq % 800) +
         ",\"completion_tokens\":" + std::to_string(seq % 300) +
         ",\"total_cost\":0,\"latency_ms\":812.5,\"status\":\"success\",\"user_id\":\"u_" + std::to_string(seq % 50) +
         "\",\"metadata\":{\"app\":\"billing-svc\",\"env\":\"prod\"},\"prompt_hash\":\"9f2c1a0b\","
         "\"prompt_preview\":\"Summarize the attached quarterly report for the finance team and list the three "
         "largest cost drivers with one sentence each.\"}\n";
}

std::string agent_path(const std::string& given) {
  if (!given.empty()) return given;
  // build/bench/auditship-enrich-pipeline -> build/auditship
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "auditship").string();
}

struct RunResult {
  double cpu_s = 0;       // agent user+sys over the window
  double window_s = 0;
  std::uint64_t records = 0, messages = 0, enriched = 0;
  std::vector<double> latency_ms;  // per record: written (its timestamp) -> produced (CreateTime)
};

// Milliseconds since the epoch of a record's "timestamp" (iso_now()'s format), or -1.
std::int64_t record_time_ms(std::string_view value) {
  constexpr std::string_view kKey = "\"timestamp\":\"";
  const auto at = value.find(kKey);
  if (at == std::string_view::npos) return -1;
  const auto start = at + kKey.size();
  const auto end = value.find('"', start);
  if (end == std::string_view::npos) return -1;
  return iso8601::parse_ms(value.substr(start, end - start)).value_or(-1);
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

RunResult run_once(const std::string& agent, const std::string& mode, double rate, int seconds, int warmup,
                   int latency_ms, const std::string& extra_yaml, const std::string& kafka_yaml, int tick_ms) {
  auto broker = sink::EmbeddedBroker::start(1, 16, {"openrouter-audit", "openrouter-audit-dlq"});
  if (!broker) throw std::runtime_error(broker.error());
  FakeServerOptions fo;
  fo.latency = std::chrono::milliseconds(latency_ms);
  FakeGenerationServer server(fo);
  TempDir dir;
  std::filesystem::create_directories(dir.file("logs"));
  const std::string log_file = dir.file("logs/app.jsonl");
  std::string yaml = "sources:\n  - path: \"" + dir.file("logs") + "/*.jsonl\"\nstate_dir: \"" + dir.file("state") +
                     "\"\nkafka:\n  brokers: \"" + (*broker)->bootstrap() + "\"\n";
  if (!kafka_yaml.empty()) yaml += "  " + kafka_yaml + "\n";
  if (mode != "off")
    // max_rps above the offered rate: this measures CPU, not the rate limit.
    yaml += "enrich:\n  enabled: true\n  endpoint: \"" + server.url() + "\"\n  ca_file: \"" + server.ca_file() +
            "\"\n  api_key_env: " + kKeyVar + "\n  max_rps: " + std::to_string(static_cast<int>(rate * 2)) +
            "\n  mode: " + mode + "\n";
  if (!extra_yaml.empty()) yaml += extra_yaml + "\n";
  write_file(dir.file("auditship.yaml"), yaml);
  write_file(log_file, "");
  Process proc(agent, {"run", "-c", dir.file("auditship.yaml")},
               Process::Options{.stdout_file = dir.file("agent.out"), .stderr_file = dir.file("agent.log"),
                                .env = {std::string(kKeyVar) + "=sk-or-v1-bench-key"}});
  std::this_thread::sleep_for(std::chrono::seconds(1));  // start-up is not the steady state

  // Paced writer: every tick_ms, the lines due by then, in one write.
  std::ofstream out(log_file, std::ios::app | std::ios::binary);
  const auto start = Clock::now();
  const auto measure_from = start + std::chrono::seconds(warmup);
  const auto measure_to = measure_from + std::chrono::seconds(seconds);
  std::uint64_t written = 0;
  double cpu_from = -1, cpu_to = -1;
  Clock::time_point t_from, t_to;
  std::string chunk;
  for (auto tick = start;; tick += std::chrono::milliseconds(tick_ms)) {
    std::this_thread::sleep_until(tick);
    const auto now = Clock::now();
    if (cpu_from < 0 && now >= measure_from) cpu_from = proc.cpu_seconds(), t_from = now;
    if (now >= measure_to) {
      cpu_to = proc.cpu_seconds(), t_to = now;
      break;
    }
    const auto due = static_cast<std::uint64_t>(std::chrono::duration<double>(now - start).count() * rate);
    const std::string ts = iso_now();
    chunk.clear();
    for (; written < due; ++written) chunk += record(written, ts);
    out << chunk;
    out.flush();
  }
  if (!proc.running()) throw std::runtime_error("the agent died: " + read_file(dir.file("agent.log")));

  // Everything written must ship (and, enriched, carry status ok) before the run counts.
  RunResult r;
  r.cpu_s = cpu_to - cpu_from;
  r.window_s = std::chrono::duration<double>(t_to - t_from).count();
  r.records = written;
  const std::uint64_t expected = mode == "follow_up" ? 2 * written : written;
  auto reader = sink::TopicReader::open((*broker)->bootstrap(), "openrouter-audit");
  if (!reader) throw std::runtime_error(reader.error());
  const auto give_up = Clock::now() + std::chrono::seconds(60);
  while (r.messages < expected && Clock::now() < give_up) {
    (*reader)->poll(std::chrono::milliseconds(500), [&](const sink::ConsumedMessage& m) {
      ++r.messages;
      if (m.value.find("\"status\":\"ok\"") != std::string_view::npos) ++r.enriched;
      if (const auto written = record_time_ms(m.value); written >= 0 && m.timestamp_ms >= 0)
        r.latency_ms.push_back(static_cast<double>(m.timestamp_ms - written));
    });
  }
  proc.signal(SIGTERM);
  proc.wait(std::chrono::seconds(30));
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  cli::Options opts(std::vector<std::string>(argv + 1, argv + argc),
                    "auditship-enrich-pipeline [--rate N] [--seconds N] [--warmup N] [--runs N] [--latency-ms N] "
                    "[--modes off,hold,follow_up] [--agent PATH] [--yaml TEXT] [--tick-ms N]",
                    {{"rate", 0, true, "records written per second (default 1000)"},
                     {"seconds", 0, true, "measured window (default 20)"},
                     {"warmup", 0, true, "seconds of writing before the window (default 3)"},
                     {"runs", 0, true, "runs per mode (default 3)"},
                     {"latency-ms", 0, true, "latency the fake endpoint adds (default 50)"},
                     {"modes", 0, true, "comma-separated: off, hold, follow_up (default all three)"},
                     {"agent", 0, true, "auditship binary (default: next to this tool's build dir)"},
                     {"yaml", 0, true, "extra top-level YAML for the agent's config (e.g. 'pipeline: {batch_wait: 0ms}')"},
                     {"kafka", 0, true, "one more key of the agent's kafka section (e.g. 'properties: {linger.ms: 5}')"},
                     {"tick-ms", 0, true, "the writer writes what is due every N ms, in one write (default 10; 1 at "
                                          "1,000 records/s is one write per record, like most loggers)"}});
  if (opts.exit_code()) return *opts.exit_code();
  const double rate = std::stod(opts.get("rate", "1000"));
  const int seconds = std::stoi(opts.get("seconds", "20"));
  const int warmup = std::stoi(opts.get("warmup", "3"));
  const int runs = std::stoi(opts.get("runs", "3"));
  const int latency = std::stoi(opts.get("latency-ms", "50"));
  std::vector<std::string> modes;
  std::stringstream list(opts.get("modes", "off,hold,follow_up"));
  for (std::string m; std::getline(list, m, ',');)
    if (!m.empty()) modes.push_back(m);
  const std::string agent = agent_path(opts.get("agent", ""));
  const std::string extra_yaml = opts.get("yaml", "");
  const std::string kafka_yaml = opts.get("kafka", "");
  const int tick_ms = std::stoi(opts.get("tick-ms", "10"));
  if (tick_ms < 1) {
    std::fprintf(stderr, "--tick-ms must be at least 1\n");
    return 2;
  }

  std::map<std::string, std::vector<double>> cores, p50s, p99s;
  // Latency: from the record's timestamp (when the writer wrote it, ms) to the Kafka message's
  // CreateTime (when the agent produced it); linger and the broker's ack come on top.
  std::printf("%-10s %4s %9s %9s %10s %12s %10s %10s %8s %8s %8s\n", "mode", "run", "records", "window_s", "cpu_s",
              "cores", "us/record", "enriched", "p50_ms", "p99_ms", "max_ms");
  // Modes interleaved per run, so a noisy neighbour on the machine hits them alike.
  for (int run = 1; run <= runs; ++run) {
    for (const auto& mode : modes) {
      RunResult r = run_once(agent, mode, rate, seconds, warmup, latency, extra_yaml, kafka_yaml, tick_ms);
      const double c = r.cpu_s / r.window_s;
      cores[mode].push_back(c);
      p50s[mode].push_back(percentile(r.latency_ms, 0.5));
      p99s[mode].push_back(percentile(r.latency_ms, 0.99));
      std::printf("%-10s %4d %9llu %9.1f %10.2f %12.4f %10.1f %10llu %8.0f %8.0f %8.0f%s\n", mode.c_str(), run,
                  static_cast<unsigned long long>(r.records), r.window_s, r.cpu_s, c, c / rate * 1e6,
                  static_cast<unsigned long long>(r.enriched), p50s[mode].back(), p99s[mode].back(),
                  percentile(r.latency_ms, 1.0),
                  r.messages < (mode == "follow_up" ? 2 * r.records : r.records) ? "  (NOT ALL SHIPPED)" : "");
      std::fflush(stdout);
    }
  }
  std::printf("\nmedians (cores = agent CPU seconds per second at %.0f records/s):\n", rate);
  const double base = cores.count("off") ? median(cores["off"]) : 0;
  for (const auto& mode : modes) {
    const double m = median(cores[mode]);
    std::printf("  %-10s %.4f cores  %.1f us/record  latency p50 %.0f ms, p99 %.0f ms", mode.c_str(), m,
                m / rate * 1e6, median(p50s[mode]), median(p99s[mode]));
    if (base > 0 && mode != "off") std::printf("  %+.1f %% vs off", (m / base - 1) * 100);
    std::printf("\n");
  }
  return 0;
}
