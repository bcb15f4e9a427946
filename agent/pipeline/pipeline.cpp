#include "auditship/pipeline/pipeline.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include "auditship/checkpoint/checkpoint_store.h"
#include "auditship/checkpoint/delivery_tracker.h"
#include "auditship/common/cpu_limit.h"
#include "auditship/common/log.h"
#include "auditship/common/memory_budget.h"
#include "auditship/common/metrics.h"
#include "auditship/enrich/enricher.h"
#include "auditship/format/formatter.h"
#include "auditship/metrics/metrics_server.h"
#include "auditship/metrics/process_metrics.h"
#include "auditship/pipeline/worker_pool.h"
#include "auditship/redact/detector_cache.h"
#include "auditship/redact/hash_key.h"
#include "auditship/redact/redactor.h"
#include "auditship/sink/sink_factory.h"
#include "auditship/sink/zstd_context_pool.h"
#include "auditship/tail/file_tailer.h"

namespace auditship::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kQueueBatches = 16;

// pipeline.workers: 0 picks half the CPUs the agent may use (the other half is left to
// librdkafka's compression and the applications), at most 4: past that the single-threaded
// stages after the workers (enrich, format, produce) are the limit (BENCHMARKS.md). The CPUs
// are the cgroup quota or affinity, not the host's cores: a 1-CPU container gets 1 worker.
std::size_t worker_count(int configured, const CpuLimit& cpus) {
  if (configured > 0) return static_cast<std::size_t>(configured);
  return std::clamp<std::size_t>(cpus.cpus / 2, 1, 4);
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

// A config section as YAML text, to tell whether a reload changed it.
template <class T>
std::string yaml_of(const T& section) {
  T copy = section;
  YAML::Emitter out;
  out << YAML::BeginMap;
  config::Emitter emitter(out);
  copy.visit(emitter);
  out << YAML::EndMap;
  return out.c_str();
}

std::string yaml_of(const std::vector<config::SourceConfig>& sources) {
  std::string out;
  for (const auto& s : sources) out += yaml_of(s) + "\n---\n";
  return out;
}

// What the pipeline itself reports, sampled by run()'s loop (not by registry collectors,
// which would outlive the pipeline).
struct PipelineStats {
  metrics::Registry& r = metrics::Registry::global();
  metrics::Gauge& queue = r.gauge("auditship_pipeline_queue_batches", "Batches waiting between stages",
                                  {{"queue", "tail_to_worker"}});
  metrics::Gauge& queue_capacity = r.gauge("auditship_pipeline_queue_capacity_batches",
                                           "Capacity of the queue between stages", {{"queue", "tail_to_worker"}});
  metrics::Gauge& in_flight = r.gauge("auditship_pipeline_in_flight_bytes",
                                      "Bytes of records read but not yet acknowledged (memory budget in use)");
  metrics::Gauge& in_flight_limit = r.gauge("auditship_pipeline_in_flight_limit_bytes",
                                            "pipeline.max_in_flight_bytes");
  metrics::Gauge& pending = r.gauge("auditship_pipeline_pending_records",
                                    "Records read, not yet acknowledged by the sink");
  metrics::Gauge& checkpoint_age = r.gauge("auditship_checkpoint_age_seconds",
                                           "Seconds since checkpoints were last written successfully");
  metrics::Counter& reload_applied = r.counter("auditship_config_reloads_total", "SIGHUP config reloads, by result",
                                               {{"result", "applied"}});
  metrics::Counter& reload_rejected = r.counter("auditship_config_reloads_total", "SIGHUP config reloads, by result",
                                                {{"result", "rejected"}});
  // Every dead letter, by reason, whichever stage made it (the sink counts message_too_large).
  std::array<metrics::Counter*, 8> dead_letters{};
  PipelineStats() {
    for (auto reason : {DeadLetterReason::kInvalidJson, DeadLetterReason::kNotAnObject, DeadLetterReason::kInvalidUtf8,
                        DeadLetterReason::kLineTooLong, DeadLetterReason::kMessageTooLarge,
                        DeadLetterReason::kUnredactable})
      dead_letters[static_cast<std::size_t>(reason)] =
          &r.counter("auditship_dead_letters_total", "Records sent to the dead-letter topic, by reason",
                     {{"reason", std::string(reason_name(reason))}});
  }
};

class AgentPipeline final : public Pipeline {
 public:
  explicit AgentPipeline(const config::Config& config)
      // Each sink holds its own copy of a batch; only the original is leased, so the reader's
      // share shrinks with the number of sinks to keep the total within max_in_flight_bytes.
      : config_(config),
        budget_(config.pipeline.max_in_flight_bytes / std::max<std::size_t>(1, sink::sink_count(config))) {}

  Status build() {
    auto store = checkpoint::CheckpointStore::open(config_.state_dir,
                                                   config_.on_corrupt_checkpoint == "restart_from_beginning"
                                                       ? checkpoint::CheckpointStore::OnCorrupt::kRestartFromBeginning
                                                       : checkpoint::CheckpointStore::OnCorrupt::kFail);
    if (!store) return Error{store.error()};
    checkpoints_ = std::move(store.value());
    tracker_ = std::make_unique<checkpoint::DeliveryTracker>(*checkpoints_);

    host_ = host_name();
    const std::string& host = host_;
    auto sinks = sink::make_sinks(config_, host, *tracker_);
    if (!sinks) return Error{sinks.error()};
    embedded_ = std::move(sinks->embedded);
    bootstrap_ = sinks->bootstrap;
    kafka_ = sinks->kafka;
    sqlite_ = sinks->sqlite;
    sink_ = std::move(sinks->sink);

    redact::RedactorPtr redactor;
    if (config_.redact.enabled) {
      auto made = make_redactor(config_.redact);
      if (!made) return Error{made.error()};
      redactor = std::move(made.value());
    } else {
      log::warn("redaction is disabled: records ship with whatever PII they contain");
    }
    auto formatter = format::Formatter::make(config_.output, host);
    if (!formatter) return Error{"output: " + formatter.error()};
    formatter_ = std::move(formatter.value());
    auto enricher = make_enricher(config_.enrich);
    if (!enricher) return Error{"enrich: " + enricher.error()};
    enricher_ = std::move(enricher.value());
    workers_ = std::make_unique<WorkerPool>(
        WorkerPoolOptions{worker_count(config_.pipeline.workers, cpus_), kQueueBatches,
                          parse::ParserOptions{config_.kafka.key_field, host}},
        std::move(redactor), [this](BatchPtr b) { enrich(std::move(b)); });

    tail::TailerOptions topts{config_.sources, config_.max_line_bytes, config_.pipeline.read_chunk_bytes,
                              config_.pipeline.rescan_interval, config_.pipeline.batch_wait};
    // Positions were lost with the corrupt checkpoint file: read_from=end would skip data.
    if (checkpoints_->restarted_after_corruption())
      for (auto& source : topts.sources) source.read_from = "beginning";
    auto tailer = tail::FileTailer::make(topts, *checkpoints_, budget_, [this](BatchPtr b) {
      tracker_->track(*b);  // registered in file order, before the workers run in parallel
      workers_->push(std::move(b));
    });
    if (!tailer) return Error{tailer.error()};
    tailer_ = std::move(tailer.value());

    metrics::register_process_metrics();
    if (!config_.metrics.listen.empty()) {
      auto server = metrics::MetricsServer::start(config_.metrics.listen, readiness_checks());
      if (!server) return Error{server.error()};
      server_ = std::move(server.value());
    }
    return {};
  }

  std::string bootstrap() const override { return bootstrap_; }

  int run(const std::atomic<int>& stop, const RunOptions& options) override {
    tailer_->start();
    log::info("auditship started", {{"version", AUDITSHIP_VERSION}, {"sources", config_.sources.size()},
                                    {"workers", workers_->workers()}, {"cpus", cpus_.cpus},
                                    {"cpu_limit", cpus_.reason}, {"state_dir", config_.state_dir}});
    int exit_code = 0;
    auto next_checkpoint = Clock::now() + config_.pipeline.checkpoint_interval;
    int reloads_seen = options.reload ? options.reload->load() : 0;
    // --once is a batch job: notice the end within 5 ms. A follower wakes every 50 ms.
    const auto tick = std::chrono::milliseconds(options.once ? 5 : 50);
    while (true) {
      std::this_thread::sleep_for(tick);
      sample();
      trim_when_idle();
      if (options.reload && options.reload->load() != reloads_seen) {
        reloads_seen = options.reload->load();
        if (options.load_config) reload(options.load_config());
      }
      if (stop.load()) {
        log::info("signal received, shutting down", {{"signal", stop.load()}});
        break;
      }
      if (auto failure = sink_->failure()) {
        exit_code = 1;
        break;
      }
      if (Clock::now() >= next_checkpoint) {
        persist();
        next_checkpoint = Clock::now() + config_.pipeline.checkpoint_interval;
      }
      // follow_up enrichment events are not tracked (no offsets): --once waits for them too.
      if (options.once && tailer_->caught_up() && tracker_->pending_batches() == 0 && workers_->queued() == 0 &&
          enricher_->idle()) {
        log::info("--once: every file is shipped to its end and acknowledged");
        break;
      }
    }
    shutdown();
    return exit_code;
  }

 private:
  // source → [workers: parse → redact] → enrich → format → sink. Called by the worker pool
  // with batches back in tailer order, one call at a time.
  void enrich(BatchPtr batch) {
    take_reloaded_enricher();
    count_dead_letters(*batch);
    enricher_->process(std::move(batch));
  }

  // With the host's generated HMAC key when the config names none (see redact/hash_key.h),
  // and the compiled detectors cached in state_dir (redact/detector_cache.h).
  Result<redact::RedactorPtr> make_redactor(redact::RedactConfig config) {
    if (Status s = redact::use_host_hash_key(config, config_.state_dir, true); !s) return Error{s.error()};
    auto made = redact::Redactor::make(
        config, config.detector_cache ? redact::detector_cache_file(config_.state_dir) : std::string());
    if (!made) return Error{"redact: " + made.error()};
    // Compiling (or validating custom patterns) leaves heap and compiler code behind: hand them
    // back so they do not count against the host for the agent's lifetime.
    redact::release_compile_memory();
    return made;
  }

  Result<enrich::EnricherPtr> make_enricher(const enrich::EnrichConfig& config) {
    return enrich::Enricher::make(config, [this](BatchPtr b) { format_and_send(std::move(b)); });
  }

  // Called by the enricher, never by two threads at once; the lock only orders a reload's
  // Formatter swap against the batch being formatted.
  void format_and_send(BatchPtr batch) {
    {
      std::lock_guard lock(format_mu_);
      formatter_->process(*batch);
    }
    batch->compact();
    sink_->send(std::move(batch));
  }

  void count_dead_letters(const Batch& batch) {
    for (const Record& r : batch.records)
      if (r.disposition == Disposition::kDeadLetter)
        if (auto* c = stats_.dead_letters[static_cast<std::size_t>(r.reason)]) c->inc();
  }

  void persist() {
    if (Status s = checkpoints_->persist(); !s) {
      checkpoint_failing_ = true;
      log::error("checkpoint write failed", {{"error", s.error()}});
      return;
    }
    checkpoint_failing_ = false;
    last_checkpoint_ = Clock::now();
  }

  // The agent keeps freed buffers in glibc's arenas while it works (the thresholds set in
  // cli/run_command.cpp) and the zstd contexts librdkafka reuses (sink/zstd_context_pool.h):
  // once nothing has been in flight for a second they go back to the system, once per quiet
  // spell. Every batch from the tailer to its last ack holds a lease, so an empty budget
  // means no batch anywhere in the pipeline.
  void trim_when_idle() {
    if (budget_.used() != 0) {
      idle_since_.reset();
      trimmed_ = false;
      return;
    }
    const auto now = Clock::now();
    if (!idle_since_) idle_since_ = now;
    if (!trimmed_ && now - *idle_since_ >= std::chrono::seconds(1)) {
      sink::zstd_context_pool::release();
      ::malloc_trim(0);
      trimmed_ = true;
    }
  }

  void sample() {
    stats_.queue.set(static_cast<double>(workers_->queued()));
    stats_.queue_capacity.set(static_cast<double>(kQueueBatches));
    stats_.in_flight.set(static_cast<double>(budget_.used()));
    stats_.in_flight_limit.set(static_cast<double>(budget_.limit()));
    stats_.pending.set(static_cast<double>(tracker_->pending_records()));
    stats_.checkpoint_age.set(std::chrono::duration<double>(Clock::now() - last_checkpoint_).count());
  }

  std::vector<metrics::ReadinessCheck> readiness_checks() {
    std::vector<metrics::ReadinessCheck> checks = {
        {"pipeline", [this] { return shutting_down_.load() ? std::string("shutting down") : std::string(); }},
        {"sources", [this] { return tailer_->readiness_problem(); }},
    };
    // One check per configured sink (Kafka, SQLite or both), each under its own name.
    if (kafka_)
      checks.push_back({"kafka", [this] {
                          if (auto failed = kafka_->failure()) return *failed;
                          return kafka_->metadata_problem();
                        }});
    if (sqlite_) checks.push_back({"sqlite", [this] { return sqlite_->failure().value_or(std::string()); }});
    checks.push_back({"checkpoints", [this] {
                        if (checkpoint_failing_.load())
                          return std::string("the last checkpoint write failed (see the log)");
                        if (::access(config_.state_dir.c_str(), W_OK) != 0)
                          return "state_dir " + config_.state_dir + " is not writable";
                        return std::string();
                      }});
    return checks;
  }

  // SIGHUP. Builds everything the new config needs first; only if all of it builds is
  // anything applied, so a rejected reload leaves the running pipeline untouched.
  void reload(Result<config::Config> loaded) {
    if (!loaded) {
      stats_.reload_rejected.inc();
      log::error("config reload rejected; the running config is kept", {{"error", loaded.error()}});
      return;
    }
    config::Config& next = *loaded;
    std::string restart;
    auto needs_restart = [&](bool changed, const char* what) {
      if (changed) restart += restart.empty() ? what : std::string(",") + what;
    };
    needs_restart(next.state_dir != config_.state_dir, "state_dir");
    needs_restart(next.max_line_bytes != config_.max_line_bytes, "max_line_bytes");
    needs_restart(yaml_of(next.pipeline) != yaml_of(config_.pipeline), "pipeline");
    needs_restart(yaml_of(next.kafka) != yaml_of(config_.kafka), "kafka");
    needs_restart(yaml_of(next.sqlite) != yaml_of(config_.sqlite), "sqlite");
    needs_restart(yaml_of(next.metrics) != yaml_of(config_.metrics), "metrics");

    const bool sources_changed = yaml_of(next.sources) != yaml_of(config_.sources);
    const bool redact_changed = yaml_of(next.redact) != yaml_of(config_.redact);
    const bool enrich_changed = yaml_of(next.enrich) != yaml_of(config_.enrich);
    const bool output_changed = yaml_of(next.output) != yaml_of(config_.output);
    redact::RedactorPtr redactor;
    format::FormatterPtr formatter;
    enrich::EnricherPtr enricher;
    auto reject = [&](const std::string& why) {
      stats_.reload_rejected.inc();
      log::error("config reload rejected; the running config is kept", {{"error", why}});
    };
    if (redact_changed && next.redact.enabled) {
      auto r = make_redactor(next.redact);
      if (!r) return reject(r.error());
      redactor = std::move(r.value());
    }
    if (output_changed) {
      auto f = format::Formatter::make(next.output, host_);
      if (!f) return reject("output: " + f.error());
      formatter = std::move(f.value());
    }
    if (enrich_changed) {
      auto e = make_enricher(next.enrich);
      if (!e) return reject("enrich: " + e.error());
      enricher = std::move(e.value());
    }

    std::string applied;
    auto note = [&](bool changed, const char* what) {
      if (changed) applied += applied.empty() ? what : std::string(",") + what;
    };
    note(sources_changed, "sources");
    note(redact_changed, "redact");
    note(enrich_changed, "enrich");
    note(output_changed, "output");
    note(next.log.level != config_.log.level, "log");
    if (redact_changed) {
      workers_->replace_redactor(std::move(redactor));  // null: redaction turned off
      if (!next.redact.enabled) log::warn("redaction is disabled: records ship with whatever PII they contain");
    }
    if (enrich_changed) {
      std::lock_guard lock(reload_mu_);
      next_enricher_ = std::move(enricher);
    }
    if (output_changed) {
      std::lock_guard lock(format_mu_);
      formatter_ = std::move(formatter);
    }
    if (sources_changed) tailer_->update_sources(next.sources);
    log::set_level(*log::parse_level(next.log.level));
    config_.sources = next.sources;
    config_.redact = next.redact;
    config_.enrich = next.enrich;
    config_.output = next.output;
    config_.log = next.log;
    stats_.reload_applied.inc();
    log::info("config reloaded", {{"changed", applied.empty() ? std::string("nothing") : applied}});
    if (!restart.empty())
      log::warn("config reload: these sections changed but need a restart; the running values are kept",
                {{"sections", restart}});
  }

  // Between batches, where batches are back in order: swaps in an enricher a reload built.
  void take_reloaded_enricher() {
    enrich::EnricherPtr enricher;
    {
      std::lock_guard lock(reload_mu_);
      enricher = std::move(next_enricher_);
    }
    if (!enricher) return;
    // The old stage lets go of every batch it holds before the new one sees the next, so
    // per-file order holds; what it cannot resolve in time ships with a timed-out status.
    enricher_->give_up_at(Clock::now() + config_.pipeline.shutdown_timeout);
    enricher_->drain(config_.pipeline.shutdown_timeout);
    enricher_->stop();
    enricher_ = std::move(enricher);
  }

  void shutdown() {
    shutting_down_ = true;
    const auto deadline = Clock::now() + config_.pipeline.shutdown_timeout;
    // A full hold buffer blocks the worker, and through the queue the tailer, until lookups
    // resolve (up to enrich.horizon): from the deadline on the enricher stops waiting for them.
    enricher_->give_up_at(deadline);
    tailer_->stop();
    workers_->close_and_join();
    // Held batches and follow_up events go to the sink before it is flushed.
    enricher_->drain(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::max(Clock::duration::zero(), deadline - Clock::now())));
    enricher_->stop();
    if (!sink_->failure() && !sink_->flush(config_.pipeline.shutdown_timeout))
      log::warn("shutdown timeout: some records were not acknowledged; they will be shipped again at restart",
                {{"pending_records", tracker_->pending_records()}});
    persist();
    log::info("auditship stopped", {{"pending_records", tracker_->pending_records()}});
  }

  config::Config config_;
  PipelineStats stats_;
  std::string host_;
  CpuLimit cpus_ = cpu_limit();  // sizes the worker pool; logged at start
  MemoryBudget budget_;
  std::string bootstrap_;
  checkpoint::CheckpointStorePtr checkpoints_;
  std::unique_ptr<checkpoint::DeliveryTracker> tracker_;
  sink::EmbeddedBrokerPtr embedded_;
  // Declared after what they use so they are destroyed first.
  sink::SinkPtr sink_;
  sink::KafkaSink* kafka_ = nullptr;    // inside sink_, when kafka.brokers is set
  sink::SqliteSink* sqlite_ = nullptr;  // inside sink_, when sqlite.path is set
  std::mutex format_mu_;  // guards formatter_ (see format_and_send)
  format::FormatterPtr formatter_;
  enrich::EnricherPtr enricher_;
  std::unique_ptr<WorkerPool> workers_;  // after the stages its threads call into
  tail::FileTailerPtr tailer_;
  std::mutex reload_mu_;  // guards next_enricher_, which a reload hands to the in-order stage
  enrich::EnricherPtr next_enricher_;
  std::atomic<bool> checkpoint_failing_{false}, shutting_down_{false};
  Clock::time_point last_checkpoint_ = Clock::now();
  std::optional<Clock::time_point> idle_since_;  // trim_when_idle()
  bool trimmed_ = false;
  // Last: destroyed first, so no request reaches a stage being torn down.
  metrics::MetricsServerPtr server_;
};

}  // namespace

Result<PipelinePtr> Pipeline::make(const config::Config& config) {
  auto p = std::make_unique<AgentPipeline>(config);
  if (Status s = p->build(); !s) return Error{s.error()};
  return PipelinePtr(std::move(p));
}

}  // namespace auditship::pipeline
