#include "auditship/pipeline/pipeline.h"

#include <unistd.h>

#include <chrono>
#include <thread>

#include "auditship/checkpoint/checkpoint_store.h"
#include "auditship/checkpoint/delivery_tracker.h"
#include "auditship/common/bounded_queue.h"
#include "auditship/common/log.h"
#include "auditship/common/memory_budget.h"
#include "auditship/common/metrics.h"
#include "auditship/enrich/enricher.h"
#include "auditship/parse/parser.h"
#include "auditship/redact/redactor.h"
#include "auditship/sink/embedded_broker.h"
#include "auditship/sink/kafka_sink.h"
#include "auditship/tail/file_tailer.h"

namespace auditship::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kQueueBatches = 16;

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

class AgentPipeline final : public Pipeline {
 public:
  explicit AgentPipeline(const config::Config& config)
      : config_(config), budget_(config.pipeline.max_in_flight_bytes), queue_(kQueueBatches) {}

  Status build() {
    auto store = checkpoint::CheckpointStore::open(config_.state_dir,
                                                   config_.on_corrupt_checkpoint == "restart_from_beginning"
                                                       ? checkpoint::CheckpointStore::OnCorrupt::kRestartFromBeginning
                                                       : checkpoint::CheckpointStore::OnCorrupt::kFail);
    if (!store) return Error{store.error()};
    checkpoints_ = std::move(store.value());
    tracker_ = std::make_unique<checkpoint::DeliveryTracker>(*checkpoints_);

    bootstrap_ = config_.kafka.brokers;
    if (bootstrap_ == "embedded") {
      auto broker = sink::EmbeddedBroker::start(1, config_.kafka.embedded_partitions,
                                                {config_.kafka.topic, config_.kafka.dead_letter_topic});
      if (!broker) return Error{broker.error()};
      embedded_ = std::move(broker.value());
      bootstrap_ = embedded_->bootstrap();
      log::info("embedded Kafka broker started (librdkafka mock cluster: demo and tests only)",
                {{"bootstrap", bootstrap_}});
    }
    const std::string host = host_name();
    auto kafka = sink::KafkaSink::make(config_.kafka, bootstrap_, config_.pipeline.max_in_flight_bytes, host,
                                       *tracker_);
    if (!kafka) return Error{kafka.error()};
    sink_ = std::move(kafka.value());

    parser_ = std::make_unique<parse::Parser>(parse::ParserOptions{config_.kafka.key_field, host});
    if (config_.redact.enabled) {
      auto redactor = redact::Redactor::make(config_.redact);
      if (!redactor) return Error{"redact: " + redactor.error()};
      redactor_ = std::move(redactor.value());
    } else {
      log::warn("redaction is disabled: records ship with whatever PII they contain");
    }
    auto enricher = enrich::Enricher::make(config_.enrich, [this](BatchPtr b) { sink_->send(std::move(b)); });
    if (!enricher) return Error{"enrich: " + enricher.error()};
    enricher_ = std::move(enricher.value());

    tail::TailerOptions topts{config_.sources, config_.max_line_bytes, config_.pipeline.read_chunk_bytes,
                              config_.pipeline.rescan_interval};
    // Positions were lost with the corrupt checkpoint file: read_from=end would skip data.
    if (checkpoints_->restarted_after_corruption())
      for (auto& source : topts.sources) source.read_from = "beginning";
    auto tailer = tail::FileTailer::make(topts, *checkpoints_, budget_, [this](BatchPtr b) {
      tracker_->track(*b);  // registered in file order, before any stage can reorder
      queue_.push(std::move(b));
    });
    if (!tailer) return Error{tailer.error()};
    tailer_ = std::move(tailer.value());
    return {};
  }

  std::string bootstrap() const override { return bootstrap_; }

  int run(const std::atomic<int>& stop, const RunOptions& options) override {
    worker_ = std::thread([this] { work(); });
    tailer_->start();
    log::info("auditship started", {{"version", AUDITSHIP_VERSION}, {"sources", config_.sources.size()},
                                    {"state_dir", config_.state_dir}});
    int exit_code = 0;
    auto next_checkpoint = Clock::now() + config_.pipeline.checkpoint_interval;
    while (true) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
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
      if (options.once && tailer_->caught_up() && tracker_->pending_batches() == 0 && queue_.size() == 0) {
        log::info("--once: every file is shipped to its end and acknowledged");
        break;
      }
    }
    shutdown();
    return exit_code;
  }

 private:
  // source → parse → redact → enrich → sink, one batch at a time.
  void work() {
    while (auto batch = queue_.pop()) {
      parser_->process(**batch);
      if (redactor_) redactor_->process(**batch);
      enricher_->process(std::move(*batch));
    }
  }

  void persist() {
    if (Status s = checkpoints_->persist(); !s) log::error("checkpoint write failed", {{"error", s.error()}});
  }

  void shutdown() {
    tailer_->stop();
    queue_.close();
    if (worker_.joinable()) worker_.join();
    enricher_->drain(config_.pipeline.shutdown_timeout);
    enricher_->stop();
    if (!sink_->failure() && !sink_->flush(config_.pipeline.shutdown_timeout))
      log::warn("shutdown timeout: some records were not acknowledged; they will be shipped again at restart",
                {{"pending_records", tracker_->pending_records()}});
    persist();
    log::info("auditship stopped", {{"pending_records", tracker_->pending_records()}});
  }

  config::Config config_;
  MemoryBudget budget_;
  BoundedQueue<BatchPtr> queue_;
  std::string bootstrap_;
  checkpoint::CheckpointStorePtr checkpoints_;
  std::unique_ptr<checkpoint::DeliveryTracker> tracker_;
  sink::EmbeddedBrokerPtr embedded_;
  // Declared after what they use so they are destroyed first.
  sink::KafkaSinkPtr sink_;
  std::unique_ptr<parse::Parser> parser_;
  redact::RedactorPtr redactor_;
  enrich::EnricherPtr enricher_;
  tail::FileTailerPtr tailer_;
  std::thread worker_;
};

}  // namespace

Result<PipelinePtr> Pipeline::make(const config::Config& config) {
  auto p = std::make_unique<AgentPipeline>(config);
  if (Status s = p->build(); !s) return Error{s.error()};
  return PipelinePtr(std::move(p));
}

}  // namespace auditship::pipeline
