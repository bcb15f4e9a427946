// KafkaSink against librdkafka's mock cluster in this process (real protocol over loopback).
#include "auditship/sink/kafka_sink.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>

#include "auditship/sink/embedded_broker.h"
#include "auditship/sink/topic_reader.h"
#include "support/process.h"

namespace auditship::sink {
namespace {

class RecordingListener : public DeliveryListener {
 public:
  void delivered(const Batch& batch, std::size_t index) override {
    std::lock_guard lock(mu_);
    acked_.insert(batch.records[index].file_offset);
  }
  std::set<std::uint64_t> acked() {
    std::lock_guard lock(mu_);
    return acked_;
  }

 private:
  std::mutex mu_;
  std::set<std::uint64_t> acked_;
};

BatchPtr batch_of(const std::vector<std::pair<std::string, Disposition>>& payloads) {
  auto b = std::make_unique<Batch>();
  auto f = std::make_shared<SourceFile>();
  f->path = "/logs/a.jsonl";
  b->source = f;
  std::uint64_t off = 0;
  for (const auto& [p, d] : payloads) {
    Record r;
    r.file_offset = off;
    r.line_bytes = p.size() + 1;
    r.payload = {static_cast<std::uint32_t>(b->input.size()), static_cast<std::uint32_t>(p.size())};
    r.raw = r.payload;
    r.disposition = d;
    b->input += p + "\n";
    r.key = b->add_field("k" + std::to_string(off));
    off += p.size() + 1;
    b->records.push_back(r);
  }
  return b;
}

std::vector<ConsumedMessage> read_all(const std::string& bootstrap, const std::string& topic, std::size_t want,
                                      std::vector<std::string>& storage) {
  auto reader = TopicReader::open(bootstrap, topic);
  EXPECT_TRUE(reader.ok());
  std::vector<ConsumedMessage> out;
  testing::eventually(
      [&] {
        (*reader)->poll(std::chrono::milliseconds(200), [&](const ConsumedMessage& m) {
          storage.push_back(std::string(m.value));
          out.push_back(m);
        });
        return out.size() >= want;
      },
      std::chrono::seconds(20));
  return out;
}

TEST(KafkaSink, DeliversRecordsAndDeadLettersAndReportsEachAck) {
  auto broker = EmbeddedBroker::start(1, 2, {"records", "dlq"});
  ASSERT_TRUE(broker.ok()) << broker.error();
  config::KafkaConfig cfg;
  cfg.topic = "records";
  cfg.dead_letter_topic = "dlq";
  cfg.properties["linger.ms"] = "1";
  RecordingListener listener;
  auto sink = KafkaSink::make(cfg, (*broker)->bootstrap(), 1 << 20, "testhost", listener);
  ASSERT_TRUE(sink.ok()) << sink.error();
  auto b = batch_of({{R"({"a":1})", Disposition::kShip},
                     {R"({"reason":"invalid_json"})", Disposition::kDeadLetter},
                     {R"({"dup":1})", Disposition::kDrop},
                     {R"({"a":2})", Disposition::kShip}});
  (*sink)->send(std::move(b));
  ASSERT_TRUE((*sink)->flush(std::chrono::seconds(20)));
  EXPECT_EQ(listener.acked().size(), 4u) << "a dropped record is acknowledged too";
  std::vector<std::string> keep;
  auto records = read_all((*broker)->bootstrap(), "records", 2, keep);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].headers.at("source"), "/logs/a.jsonl");
  EXPECT_EQ(records[0].headers.at("host"), "testhost");
  std::set<std::string> values(keep.begin(), keep.end());
  EXPECT_TRUE(values.count(R"({"a":1})") && values.count(R"({"a":2})"));
  auto dlq = read_all((*broker)->bootstrap(), "dlq", 1, keep);
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_FALSE((*sink)->failure().has_value());
}

TEST(KafkaSink, TooLargeForKafkaIsDeadLetteredWithAPreview) {
  auto broker = EmbeddedBroker::start(1, 1, {"records", "dlq"});
  ASSERT_TRUE(broker.ok());
  config::KafkaConfig cfg;
  cfg.topic = "records";
  cfg.dead_letter_topic = "dlq";
  cfg.properties["message.max.bytes"] = "10000";
  cfg.properties["linger.ms"] = "1";
  RecordingListener listener;
  auto sink = KafkaSink::make(cfg, (*broker)->bootstrap(), 1 << 20, "h", listener);
  ASSERT_TRUE(sink.ok()) << sink.error();
  std::string big = "{\"prompt\":\"" + std::string(20000, 'x') + "\"}";
  (*sink)->send(batch_of({{big, Disposition::kShip}, {R"({"small":1})", Disposition::kShip}}));
  ASSERT_TRUE((*sink)->flush(std::chrono::seconds(20)));
  EXPECT_EQ(listener.acked().size(), 2u);
  std::vector<std::string> keep;
  auto dlq = read_all((*broker)->bootstrap(), "dlq", 1, keep);
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_NE(keep.back().find("\"reason\":\"message_too_large\""), std::string::npos);
  EXPECT_LT(keep.back().size(), 2000u) << "only a preview of the record";
}

TEST(KafkaSink, RidesOutABrokerOutageWithoutLosingRecords) {
  auto broker = EmbeddedBroker::start(1, 1, {"records", "dlq"});
  ASSERT_TRUE(broker.ok());
  config::KafkaConfig cfg;
  cfg.topic = "records";
  cfg.dead_letter_topic = "dlq";
  cfg.properties["linger.ms"] = "1";
  RecordingListener listener;
  auto sink = KafkaSink::make(cfg, (*broker)->bootstrap(), 1 << 20, "h", listener);
  ASSERT_TRUE(sink.ok());
  (*sink)->send(batch_of({{R"({"before":1})", Disposition::kShip}}));
  ASSERT_TRUE((*sink)->flush(std::chrono::seconds(20)));
  (*broker)->set_all_down(true);
  (*sink)->send(batch_of({{R"({"during":1})", Disposition::kShip}, {R"({"during":2})", Disposition::kShip}}));
  EXPECT_FALSE((*sink)->flush(std::chrono::seconds(2))) << "nothing can be acknowledged while the broker is down";
  (*broker)->set_all_down(false);
  ASSERT_TRUE((*sink)->flush(std::chrono::seconds(30)));
  EXPECT_FALSE((*sink)->failure().has_value());
  std::vector<std::string> keep;
  EXPECT_EQ(read_all((*broker)->bootstrap(), "records", 3, keep).size(), 3u);
}

}  // namespace
}  // namespace auditship::sink
