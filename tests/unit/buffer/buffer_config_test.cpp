// The `buffer:` section: parsed and validated by the config table (each problem with its
// line), and turned into the sink's options (segment size, spill and replay shares).
#include "auditship/buffer/buffer_config.h"

#include <gtest/gtest.h>

#include "auditship/buffer/disk_buffer_sink.h"
#include "auditship/config/config.h"

namespace auditship::buffer {
namespace {

const config::LoadOptions kNoStateCheck{.check_state_dir = false};

TEST(BufferConfig, OffByDefaultAndReadWithUnits) {
  auto off = config::load_string("sources:\n  - path: /a/*.jsonl\nkafka:\n  brokers: embedded\n", "t.yaml", kNoStateCheck);
  ASSERT_TRUE(off) << off.error();
  EXPECT_FALSE(off->buffer.enabled());
  auto on = config::load_string(R"(sources:
  - path: /a/*.jsonl
kafka:
  brokers: embedded
buffer:
  max_disk_bytes: 2GiB
  when_full: drop_oldest
  fsync: interval
  fsync_interval: 200ms
  spill_after: 5s
)",
                                "t.yaml", kNoStateCheck);
  ASSERT_TRUE(on) << on.error();
  EXPECT_EQ(on->buffer.max_disk_bytes, 2ull << 30);
  EXPECT_EQ(on->buffer.fsync_interval, std::chrono::milliseconds(200));
  const DiskBufferOptions o = DiskBufferOptions::from(on->buffer, "/var/lib/auditship", 8u << 20);
  EXPECT_EQ(o.dir, "/var/lib/auditship/buffer");
  EXPECT_TRUE(o.drop_oldest);
  EXPECT_FALSE(o.fsync_always);
  EXPECT_EQ(o.segment_bytes, 4u << 20) << "capped";
  EXPECT_EQ(o.spill_bytes, 4u << 20) << "half the memory share waits in Kafka before spilling";
  EXPECT_EQ(o.replay_bytes, 4u << 20);
  EXPECT_EQ(o.spill_after, std::chrono::seconds(5));
}

TEST(BufferConfig, EveryBadValueIsReportedWithItsLine) {
  auto c = config::load_string(R"(sources:
  - path: /a/*.jsonl
sqlite:
  path: /tmp/a.db
buffer:
  max_disk_bytes: 512KiB
  when_full: evict
  fsync: sometimes
  spill_after: 0s
)",
                               "t.yaml", kNoStateCheck);
  ASSERT_FALSE(c);
  for (const char* expect : {"t.yaml:6: buffer.max_disk_bytes: must be 0 (off) or at least 1MiB",
                             "t.yaml:7: buffer.when_full: must be 'block' or 'drop_oldest'",
                             "t.yaml:8: buffer.fsync: must be 'always' or 'interval'",
                             "t.yaml:9: buffer.spill_after: must be positive",
                             "buffer.max_disk_bytes: buffers Kafka: needs kafka.brokers"})
    EXPECT_NE(c.error().find(expect), std::string::npos) << expect << "\n" << c.error();
}

}  // namespace
}  // namespace auditship::buffer
