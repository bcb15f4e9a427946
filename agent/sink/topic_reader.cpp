#include "auditship/sink/topic_reader.h"

#include <chrono>
#include <thread>

namespace auditship::sink {

Result<std::unique_ptr<TopicReader>> TopicReader::open(const std::string& bootstrap, const std::string& topic) {
  std::unique_ptr<TopicReader> r(new TopicReader());
  r->topic_ = topic;
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const char* k, const char* v) { return rd_kafka_conf_set(conf, k, v, err, sizeof err) == RD_KAFKA_CONF_OK; };
  if (!set("bootstrap.servers", bootstrap.c_str()) || !set("group.id", "auditship-reader") ||
      !set("enable.auto.commit", "false") || !set("enable.partition.eof", "false") ||
      !set("fetch.wait.max.ms", "50") || !set("log_level", "3")) {
    rd_kafka_conf_destroy(conf);
    return Error{err};
  }
  r->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!r->rk_) {
    rd_kafka_conf_destroy(conf);
    return Error{std::string("cannot create a Kafka consumer: ") + err};
  }
  // Metadata can lag topic creation by a moment on a fresh cluster: retry for a while.
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(r->rk_, topic.c_str(), nullptr);
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (rd_kafka_metadata(r->rk_, 0, rkt, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
        md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topics[0].partition_cnt > 0)
      break;
    if (md) rd_kafka_metadata_destroy(md);
    md = nullptr;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  rd_kafka_topic_destroy(rkt);
  if (!md) return Error{"topic '" + topic + "' not found at " + bootstrap};
  r->partitions_ = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(r->partitions_);
  for (int p = 0; p < r->partitions_; ++p)
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(r->rk_, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  return r;
}

TopicReader::~TopicReader() {
  if (rk_) {
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }
}

std::optional<std::uint64_t> TopicReader::size(std::chrono::milliseconds timeout) {
  std::uint64_t total = 0;
  for (int p = 0; p < partitions_; ++p) {
    std::int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(rk_, topic_.c_str(), p, &low, &high, static_cast<int>(timeout.count())))
      return std::nullopt;
    total += static_cast<std::uint64_t>(high);
  }
  return total;
}

std::size_t TopicReader::poll(std::chrono::milliseconds wait, const std::function<void(const ConsumedMessage&)>& fn) {
  std::size_t n = 0;
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk_, static_cast<int>(std::max<std::int64_t>(0, left.count())));
    if (!msg) return n;
    if (!msg->err) {
      ConsumedMessage m;
      m.topic = topic_;
      m.partition = msg->partition;
      m.offset = msg->offset;
      m.key = {static_cast<const char*>(msg->key), msg->key_len};
      m.value = {static_cast<const char*>(msg->payload), msg->len};
      m.timestamp_ms = rd_kafka_message_timestamp(msg, nullptr);
      rd_kafka_headers_t* hdrs = nullptr;
      if (!rd_kafka_message_headers(msg, &hdrs)) {
        const char* name;
        const void* val;
        size_t size;
        for (size_t i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &val, &size); ++i)
          m.headers[name] = std::string(static_cast<const char*>(val), size);
      }
      fn(m);
      ++n;
    }
    rd_kafka_message_destroy(msg);
    if (std::chrono::steady_clock::now() >= deadline) return n;
  }
}

}  // namespace auditship::sink
