// KafkaSink against librdkafka's mock cluster in this process (real protocol over loopback).
#include "auditship/sink/kafka_sink.h"

#include <gtest/gtest.h>

#include <set>

#include "auditship/sink/embedded_broker.h"
#include "auditship/sink/topic_reader.h"
#include "auditship/sink/zstd_context_pool.h"
#include "support/batches.h"
#include "support/process.h"

namespace auditship::sink {
namespace {

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

// A KafkaSink on topics "records" and "dlq" of an in-process mock cluster.
class KafkaSinkTest : public ::testing::Test {
 protected:
  void start(int partitions, const std::map<std::string, std::string>& properties, const std::string& host = "h") {
    auto broker = EmbeddedBroker::start(1, partitions, {"records", "dlq"});
    ASSERT_TRUE(broker.ok()) << broker.error();
    broker_ = std::move(broker.value());
    config::KafkaConfig cfg;
    cfg.topic = "records";
    cfg.dead_letter_topic = "dlq";
    cfg.properties = properties;
    cfg.properties["linger.ms"] = "1";
    auto sink = KafkaSink::make(cfg, broker_->bootstrap(), 1 << 20, host, listener_);
    ASSERT_TRUE(sink.ok()) << sink.error();
    sink_ = std::move(sink.value());
  }

  EmbeddedBrokerPtr broker_;
  testing::RecordingListener listener_;  // outlives sink_: declared first, destroyed last
  KafkaSinkPtr sink_;
};

TEST_F(KafkaSinkTest, DeliversRecordsAndDeadLettersAndReportsEachAck) {
  ASSERT_NO_FATAL_FAILURE(start(2, {}, "testhost"));
  auto b = testing::make_batch({{R"({"a":1})", Disposition::kShip},
                     {R"({"reason":"invalid_json"})", Disposition::kDeadLetter},
                     {R"({"dup":1})", Disposition::kDrop},
                     {R"({"a":2})", Disposition::kShip}});
  sink_->send(std::move(b));
  ASSERT_TRUE(sink_->flush(std::chrono::seconds(20)));
  EXPECT_EQ(listener_.count(), 4u) << "a dropped record is acknowledged too";
  std::vector<std::string> keep;
  auto records = read_all(broker_->bootstrap(), "records", 2, keep);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].headers.at("source"), "/logs/a.jsonl");
  EXPECT_EQ(records[0].headers.at("host"), "testhost");
  std::set<std::string> values(keep.begin(), keep.end());
  EXPECT_TRUE(values.count(R"({"a":1})") && values.count(R"({"a":2})"));
  auto dlq = read_all(broker_->bootstrap(), "dlq", 1, keep);
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_FALSE(sink_->failure().has_value());
}

TEST_F(KafkaSinkTest, TooLargeForKafkaIsDeadLetteredWithAPreview) {
  ASSERT_NO_FATAL_FAILURE(start(1, {{"message.max.bytes", "10000"}}));
  std::string big = "{\"prompt\":\"" + std::string(20000, 'x') + "\"}";
  sink_->send(testing::make_batch({{big, Disposition::kShip}, {R"({"small":1})", Disposition::kShip}}));
  ASSERT_TRUE(sink_->flush(std::chrono::seconds(20)));
  EXPECT_EQ(listener_.count(), 2u);
  std::vector<std::string> keep;
  auto dlq = read_all(broker_->bootstrap(), "dlq", 1, keep);
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_NE(keep.back().find("\"reason\":\"message_too_large\""), std::string::npos);
  EXPECT_LT(keep.back().size(), 2000u) << "only a preview of the record";
}

TEST_F(KafkaSinkTest, RidesOutABrokerOutageWithoutLosingRecords) {
  ASSERT_NO_FATAL_FAILURE(start(1, {}));
  sink_->send(testing::make_batch({{R"({"before":1})", Disposition::kShip}}));
  ASSERT_TRUE(sink_->flush(std::chrono::seconds(20)));
  broker_->set_all_down(true);
  sink_->send(testing::make_batch({{R"({"during":1})", Disposition::kShip}, {R"({"during":2})", Disposition::kShip}},
                                  "/logs/a.jsonl", /*first_offset=*/13));  // the lines after the first batch's
  EXPECT_FALSE(sink_->flush(std::chrono::seconds(2))) << "nothing can be acknowledged while the broker is down";
  broker_->set_all_down(false);
  ASSERT_TRUE(sink_->flush(std::chrono::seconds(30)));
  EXPECT_FALSE(sink_->failure().has_value());
  std::vector<std::string> keep;
  EXPECT_EQ(read_all(broker_->bootstrap(), "records", 3, keep).size(), 3u);
}

// librdkafka's own compression goes through the pool (the interposition works in the real
// library): each message set after the first reuses the context the one before it freed.
TEST_F(KafkaSinkTest, ReusesZstdContextsAcrossMessageSets) {
  ASSERT_NO_FATAL_FAILURE(start(1, {}));
  zstd_context_pool::release();
  const auto before = zstd_context_pool::counts();
  for (int i = 0; i < 3; ++i) {
    sink_->send(testing::make_batch({{R"({"set":)" + std::to_string(i) + "}", Disposition::kShip}}, "/logs/a.jsonl",
                                    /*first_offset=*/static_cast<std::uint64_t>(i) * 10));
    ASSERT_TRUE(sink_->flush(std::chrono::seconds(20)));  // one message set each
  }
  const auto after = zstd_context_pool::counts();
  EXPECT_GE(after.reused - before.reused, 2u);
  EXPECT_LE(after.created - before.created, 1u);
  std::vector<std::string> keep;
  ASSERT_EQ(read_all(broker_->bootstrap(), "records", 3, keep).size(), 3u);
  std::set<std::string> values(keep.begin(), keep.end());
  EXPECT_EQ(values, (std::set<std::string>{R"({"set":0})", R"({"set":1})", R"({"set":2})"}));
}

}  // namespace
}  // namespace auditship::sink
