#include "auditship/sink/kafka_sink.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <vector>

#include <simdjson.h>

#include "auditship/common/log.h"
#include "auditship/common/metrics.h"
#include "auditship/common/thread_name.h"
#include "auditship/parse/dead_letter.h"
#include "auditship/sink/zstd_context_pool.h"

namespace auditship::sink {
namespace {

constexpr std::size_t kPreviewBytes = 1024;

struct KafkaStats {
  metrics::Registry& r = metrics::Registry::global();
  metrics::Counter& delivered = r.counter("auditship_kafka_messages_delivered_total",
                                          "Messages Kafka acknowledged", {{"topic_kind", "records"}});
  metrics::Counter& delivered_dlq = r.counter("auditship_kafka_messages_delivered_total",
                                              "Messages Kafka acknowledged", {{"topic_kind", "dead_letter"}});
  metrics::Counter& bytes = r.counter("auditship_kafka_bytes_delivered_total", "Payload bytes Kafka acknowledged");
  metrics::Counter& dropped = r.counter("auditship_sink_records_dropped_total",
                                        "Records acknowledged without shipping on purpose (e.g. duplicates)");
  metrics::Counter& too_large = r.counter("auditship_dead_letters_total",
                                          "Records sent to the dead-letter topic, by reason",
                                          {{"reason", "message_too_large"}});
  metrics::Counter& retried = r.counter("auditship_kafka_retries_total",
                                        "Messages produced again after a delivery error the agent retries");
  metrics::Counter& errors = r.counter("auditship_kafka_delivery_errors_total",
                                       "Delivery reports with an error (retried or fatal)");
  metrics::Counter& queue_full = r.counter("auditship_kafka_queue_full_total",
                                           "Times producing waited because librdkafka's queue was full");
  metrics::Gauge& in_flight = r.gauge("auditship_kafka_in_flight_messages", "Messages produced, not yet acknowledged");
  // From librdkafka's statistics JSON (every statistics.interval.ms).
  metrics::Gauge& in_flight_bytes = r.gauge("auditship_kafka_in_flight_bytes",
                                            "Bytes of messages in librdkafka's queues, not yet acknowledged");
  metrics::Gauge& rtt_avg = r.gauge("auditship_kafka_broker_rtt_seconds",
                                    "Broker round-trip time, worst broker over the last statistics window",
                                    {{"stat", "avg"}});
  metrics::Gauge& rtt_p99 = r.gauge("auditship_kafka_broker_rtt_seconds",
                                    "Broker round-trip time, worst broker over the last statistics window",
                                    {{"stat", "p99"}});
  metrics::Gauge& brokers_up = r.gauge("auditship_kafka_brokers_up", "Brokers the producer is connected to");
  metrics::Counter& stats_errors = r.counter("auditship_kafka_statistics_errors_total",
                                             "librdkafka statistics documents that could not be parsed");
};
KafkaStats& stats() {
  static KafkaStats s;
  return s;
}

bool set_property(rd_kafka_conf_t* conf, const std::string& key, const std::string& value, std::string& error) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    error = "kafka property '" + key + "': " + err;
    return false;
  }
  return true;
}

// Errors after which the same message may simply be produced again.
bool retry_in_agent(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT || err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
         err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT ||
         err == RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS || err == RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND ||
         err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE || err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION;
}

}  // namespace

struct KafkaSink::InFlight {
  BatchPtr batch;
  std::vector<MessageRef> refs;
  std::atomic<std::uint32_t> remaining{0};
  KafkaSink* sink = nullptr;
};

std::map<std::string, std::string> default_producer_properties(const config::KafkaConfig& config,
                                                               std::uint64_t max_in_flight_bytes) {
  // Bounded by the agent's memory budget: librdkafka never holds more than what is in flight.
  std::uint64_t kbytes = std::max<std::uint64_t>(1024, max_in_flight_bytes / 1024 * 2);
  return {
      {"compression.codec", "zstd"},
      {"compression.level", "1"},  // zstd's fastest level: ~1 µs less CPU per record than 3 (BENCHMARKS.md)
      {"acks", "all"},
      {"enable.idempotence", "true"},
      // Acks sooner, so the in-flight window turns over faster: 1 ms gave ~9 % more records/s
      // than 5 ms at the same memory bound, with no more CPU (BENCHMARKS.md, session 5).
      {"linger.ms", "1"},
      {"batch.size", "1000000"},
      {"message.timeout.ms", "0"},  // never give up on a record: at-least-once
      {"queue.buffering.max.kbytes", std::to_string(kbytes)},
      {"queue.buffering.max.messages", "1000000"},
      {"client.id", "auditship"},
      {"reconnect.backoff.max.ms", "1000"},  // recover within a second once a broker is back
      {"statistics.interval.ms", "1000"},    // broker RTT and queued bytes for /metrics
  };
}

KafkaSink::KafkaSink(const config::KafkaConfig& config, std::string host, DeliveryListener& listener)
    : config_(config), host_(std::move(host)), listener_(listener) {
  stats();
}

Result<KafkaSinkPtr> KafkaSink::make(const config::KafkaConfig& config, const std::string& bootstrap,
                                     std::uint64_t max_in_flight_bytes, std::string host,
                                     DeliveryListener& listener) {
  KafkaSinkPtr sink(new KafkaSink(config, std::move(host), listener));
  if (Status s = sink->init(bootstrap, max_in_flight_bytes); !s) return Error{s.error()};
  return sink;
}

Status KafkaSink::init(const std::string& bootstrap, std::uint64_t max_in_flight_bytes) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::string error;
  auto props = default_producer_properties(config_, max_in_flight_bytes);
  for (const auto& [k, v] : config_.properties) props[k] = v;
  props["bootstrap.servers"] = bootstrap;
  for (const auto& [k, v] : props) {
    if (!set_property(conf, k, v, error)) {
      rd_kafka_conf_destroy(conf);
      return Error{error};
    }
  }
  if (auto it = props.find("message.max.bytes"); it != props.end()) max_message_bytes_ = std::stoull(it->second);
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaSink::on_delivery);
  rd_kafka_conf_set_error_cb(conf, &KafkaSink::on_error);
  rd_kafka_conf_set_log_cb(conf, &KafkaSink::on_log);
  rd_kafka_conf_set_stats_cb(conf, &KafkaSink::on_statistics);
  rd_kafka_conf_set_opaque(conf, this);
  char err[512];
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk_) {
    rd_kafka_conf_destroy(conf);
    return Error{std::string("cannot create the Kafka producer: ") + err};
  }
  topic_ = rd_kafka_topic_new(rk_, config_.topic.c_str(), nullptr);
  dlq_ = rd_kafka_topic_new(rk_, config_.dead_letter_topic.c_str(), nullptr);
  poller_ = std::thread([this] {
    name_this_thread("as-kafka-dr");  // delivery reports: acknowledgements, retries
    poll_loop();
  });
  log::info("kafka producer started", {{"bootstrap", bootstrap}, {"topic", config_.topic},
                                       {"dead_letter_topic", config_.dead_letter_topic}});
  return {};
}

KafkaSink::~KafkaSink() {
  if (rk_) {
    // Whatever is still queued was never acknowledged; its offsets stay uncommitted, so a
    // restart ships it again rather than skipping it. Purged reports free their batches.
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < deadline) rd_kafka_poll(rk_, 50);
  }
  stopping_ = true;
  if (rk_) {
    // Wake the poll thread out of its 100 ms wait now: `run --once` exits that much sooner.
    rd_kafka_queue_t* main_queue = rd_kafka_queue_get_main(rk_);
    rd_kafka_queue_yield(main_queue);
    rd_kafka_queue_destroy(main_queue);
  }
  if (poller_.joinable()) poller_.join();
  if (topic_) rd_kafka_topic_destroy(topic_);
  if (dlq_) rd_kafka_topic_destroy(dlq_);
  if (rk_) rd_kafka_destroy(rk_);
  zstd_context_pool::release();  // its broker threads are gone: nothing left to reuse them
}

void KafkaSink::poll_loop() {
  while (!stopping_.load()) rd_kafka_poll(rk_, 100);
}

void KafkaSink::send(BatchPtr batch) {
  auto* f = new InFlight;
  f->sink = this;
  f->batch = std::move(batch);
  const std::size_t n = f->batch->records.size();
  f->refs.resize(n);
  // One extra count held while producing, so a fast delivery cannot free the batch mid-loop.
  f->remaining.store(static_cast<std::uint32_t>(n) + 1);
  for (std::size_t i = 0; i < n; ++i) {
    f->refs[i] = {f, static_cast<std::uint32_t>(i)};
    const Record& r = f->batch->records[i];
    if (r.disposition == Disposition::kDrop) {
      stats().dropped.inc();
      acknowledge(*f, i);
    } else if (f->batch->payload(r).size() > max_message_bytes_) {
      produce_too_large(*f, i);
    } else {
      produce(*f, i);
    }
  }
  if (f->remaining.fetch_sub(1) == 1) delete f;
}

template <class Attempt>
void KafkaSink::submit(Attempt&& attempt, const char* what) {
  in_flight_.fetch_add(1);
  stats().in_flight.add(1);
  while (true) {
    rd_kafka_resp_err_t err = attempt();
    if (!err) return;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !stopping_.load()) {
      // The poll thread frees space as reports arrive; wait for it rather than spin.
      stats().queue_full.inc();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    in_flight_.fetch_sub(1);
    stats().in_flight.add(-1);
    set_failure(std::string(what) + ": " + rd_kafka_err2str(err));
    return;
  }
}

void KafkaSink::produce(InFlight& f, std::size_t index) {
  const Batch& b = *f.batch;
  const Record& r = b.records[index];
  std::string_view payload = b.payload(r);
  std::string_view key = b.field(r.key);
  std::string_view source = b.source ? std::string_view(b.source->path) : std::string_view();
  char offset[24];
  const int offset_len = static_cast<int>(std::to_chars(offset, offset + sizeof offset, r.file_offset).ptr - offset);
  rd_kafka_topic_t* topic = r.disposition == Disposition::kDeadLetter ? dlq_ : topic_;
  submit(
      [&] {
        // A batch without a source (follow_up enrichment events) has no file position: a
        // consumer de-duplicating on (source, offset) must not see every event as offset 0.
        rd_kafka_headers_t* headers = nullptr;
        if (config_.headers) {
          headers = rd_kafka_headers_new(3);
          if (b.source) {
            rd_kafka_header_add(headers, "source", -1, source.data(), static_cast<ssize_t>(source.size()));
            rd_kafka_header_add(headers, "offset", -1, offset, offset_len);
          }
          rd_kafka_header_add(headers, "host", -1, host_.data(), static_cast<ssize_t>(host_.size()));
        }
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk_, RD_KAFKA_V_RKT(topic), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
            RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
            RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()), RD_KAFKA_V_HEADERS(headers),
            RD_KAFKA_V_OPAQUE(&f.refs[index]), RD_KAFKA_V_END);
        if (err && headers) rd_kafka_headers_destroy(headers);  // on success librdkafka owns them
        return err;
      },
      "cannot produce to Kafka");
}

void KafkaSink::produce_too_large(InFlight& f, std::size_t index) {
  const Batch& b = *f.batch;
  const Record& r = b.records[index];
  std::string_view payload = b.payload(r);
  std::string detail = "message of " + std::to_string(payload.size()) + " bytes exceeds message.max.bytes (" +
                       std::to_string(max_message_bytes_) + ")";
  std::string envelope;
  parse::append_dead_letter(envelope, {DeadLetterReason::kMessageTooLarge, detail,
                                       b.source ? std::string_view(b.source->path) : std::string_view(),
                                       r.file_offset, r.line_bytes, host_,
                                       payload.substr(0, kPreviewBytes)});
  stats().too_large.inc();
  log::warn("record too large for Kafka, dead-lettered",
            {{"source", b.source ? b.source->path : std::string()}, {"offset", r.file_offset},
             {"bytes", payload.size()}});
  submit(
      [&] {
        return rd_kafka_producev(rk_, RD_KAFKA_V_RKT(dlq_), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_VALUE(envelope.data(), envelope.size()),
                                 RD_KAFKA_V_OPAQUE(&f.refs[index]), RD_KAFKA_V_END);
      },
      "cannot produce a dead letter to Kafka");
}

void KafkaSink::acknowledge(InFlight& f, std::size_t index) {
  listener_.delivered(*f.batch, index);
  if (f.remaining.fetch_sub(1) == 1) delete &f;
}

void KafkaSink::on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<KafkaSink*>(opaque);
  auto* ref = static_cast<MessageRef*>(msg->_private);
  InFlight& f = *ref->batch;
  // Runs last on every path: flush() must not see zero in flight before the listener has
  // heard of the ack, nor between a failed attempt and its retry.
  struct Done {
    KafkaSink* self;
    ~Done() {
      stats().in_flight.add(-1);
      if (self->in_flight_.fetch_sub(1) == 1) {
        std::lock_guard lock(self->mu_);
        self->drained_.notify_all();
      }
    }
  } done{self};
  if (!msg->err) {
    bool dead = msg->rkt == self->dlq_;
    (dead ? stats().delivered_dlq : stats().delivered).inc();
    stats().bytes.inc(msg->len);
    self->acknowledge(f, ref->index);
    return;
  }
  stats().errors.inc();
  if (msg->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || msg->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
    // Shutting down: not acknowledged, so not checkpointed; the batch is just freed.
    if (f.remaining.fetch_sub(1) == 1) delete &f;
    return;
  }
  if (msg->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && msg->rkt != self->dlq_) {
    self->produce_too_large(f, ref->index);
    return;
  }
  if (retry_in_agent(msg->err) && !self->stopping_.load()) {
    stats().retried.inc();
    if (msg->rkt == self->dlq_ && f.batch->records[ref->index].disposition != Disposition::kDeadLetter)
      self->produce_too_large(f, ref->index);
    else
      self->produce(f, ref->index);
    return;
  }
  self->set_failure(std::string("Kafka rejected a record permanently: ") + rd_kafka_err2str(msg->err) +
                    " (topic " + rd_kafka_topic_name(msg->rkt) + ")");
}

void KafkaSink::on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaSink*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    rd_kafka_fatal_error(rk, buf, sizeof buf);
    self->set_failure(std::string("Kafka producer fatal error: ") + buf);
    return;
  }
  // Broker connection errors are retried by librdkafka; they are worth a line, not a stop.
  log::warn("kafka", {{"error", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))}, {"reason", reason}});
}

void KafkaSink::on_log(const rd_kafka_t*, int level, const char* facility, const char* message) {
  // librdkafka's own lines join the agent's JSON log; connection trouble is retried, so
  // syslog levels up to error become warnings here.
  log::Level ours = level <= 4 ? log::Level::kWarn : level <= 5 ? log::Level::kInfo : log::Level::kDebug;
  log::write(ours, "librdkafka", {{"facility", facility}, {"detail", message}});
}

int KafkaSink::on_statistics(rd_kafka_t*, char* json, size_t json_len, void*) {
  // Runs on the poll thread about once a second; one parser reused for the sink's lifetime.
  static thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json, json_len, true).get(doc) != simdjson::SUCCESS) {
    stats().stats_errors.inc();
    return 0;
  }
  if (std::int64_t bytes; doc["msg_size"].get_int64().get(bytes) == simdjson::SUCCESS)
    stats().in_flight_bytes.set(static_cast<double>(bytes));
  double worst_avg = 0, worst_p99 = 0;
  int up = 0;
  bool sampled = false;
  simdjson::dom::object brokers;
  if (doc["brokers"].get_object().get(brokers) == simdjson::SUCCESS) {
    for (auto [name, b] : brokers) {
      std::int64_t nodeid = -1;
      std::string_view state;
      if (b["nodeid"].get_int64().get(nodeid) || nodeid < 0) continue;  // bootstrap placeholders
      if (!b["state"].get_string().get(state) && state == "UP") ++up;
      std::int64_t cnt = 0, avg = 0, p99 = 0;  // microseconds
      auto rtt = b["rtt"];
      if (rtt["cnt"].get_int64().get(cnt) || cnt == 0) continue;
      sampled = true;
      if (!rtt["avg"].get_int64().get(avg)) worst_avg = std::max(worst_avg, static_cast<double>(avg) / 1e6);
      if (!rtt["p99"].get_int64().get(p99)) worst_p99 = std::max(worst_p99, static_cast<double>(p99) / 1e6);
    }
  }
  if (sampled) {  // an idle window has no round-trips: keep the last measured value rather than 0
    stats().rtt_avg.set(worst_avg);
    stats().rtt_p99.set(worst_p99);
  }
  stats().brokers_up.set(up);
  return 0;  // librdkafka frees `json`
}

std::string KafkaSink::metadata_problem() {
  constexpr auto kCacheFor = std::chrono::seconds(1);
  std::unique_lock probing(probe_mu_, std::try_to_lock);
  {
    std::lock_guard lock(answer_mu_);
    if (!probing.owns_lock() || std::chrono::steady_clock::now() - probed_at_ < kCacheFor) return probe_problem_;
  }
  const rd_kafka_metadata_t* md = nullptr;
  std::string problem;
  if (rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, topic_, &md, 1000); err) {
    problem = std::string("metadata request failed: ") + rd_kafka_err2str(err);
  } else {
    if (md->topic_cnt == 1 && md->topics[0].err)
      problem = "topic " + config_.topic + ": " + rd_kafka_err2str(md->topics[0].err);
    rd_kafka_metadata_destroy(md);
  }
  std::lock_guard lock(answer_mu_);
  probe_problem_ = problem;
  probed_at_ = std::chrono::steady_clock::now();
  return problem;
}

void KafkaSink::set_failure(std::string why) {
  {
    std::lock_guard lock(mu_);
    if (failure_) return;
    failure_ = why;
    drained_.notify_all();
  }
  log::error("kafka sink failed; stopping without advancing checkpoints past unacknowledged records",
             {{"error", why}});
}

std::optional<std::string> KafkaSink::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

bool KafkaSink::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return drained_.wait_for(lock, timeout, [&] { return in_flight_.load() == 0 || failure_.has_value(); }) &&
         in_flight_.load() == 0;
}

}  // namespace auditship::sink
