#include "auditship/checkpoint/delivery_tracker.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace auditship::checkpoint {
namespace {

class DeliveryTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = CheckpointStore::open(dir_.path());
    ASSERT_TRUE(s.ok());
    store_ = std::move(s.value());
    tracker_ = std::make_unique<DeliveryTracker>(*store_);
    auto f = std::make_shared<SourceFile>();
    f->id = 7;
    f->dev = 1;
    f->ino = 99;
    file_ = f;
  }
  // A batch of `n` records of 10 bytes each, starting at `begin`.
  BatchPtr batch(std::uint64_t begin, std::size_t n, std::uint64_t extra_end = 0) {
    auto b = std::make_unique<Batch>();
    b->source = file_;
    b->begin_offset = begin;
    for (std::size_t i = 0; i < n; ++i) {
      Record r;
      r.file_offset = begin + 10 * i;
      r.line_bytes = 10;
      b->records.push_back(r);
    }
    b->end_offset = begin + 10 * n + extra_end;
    tracker_->track(*b);
    return b;
  }
  std::optional<std::uint64_t> committed() {
    auto c = store_->find(1, 99);
    return c ? std::optional(c->offset) : std::nullopt;
  }

  testing::TempDir dir_;
  CheckpointStorePtr store_;
  std::unique_ptr<DeliveryTracker> tracker_;
  SourceFilePtr file_;
};

TEST_F(DeliveryTrackerTest, CommitsTheLongestAcknowledgedPrefix) {
  auto b = batch(0, 4);
  tracker_->delivered(*b, 1);
  tracker_->delivered(*b, 2);
  EXPECT_FALSE(committed().has_value()) << "record 0 is not acknowledged yet";
  tracker_->delivered(*b, 0);
  EXPECT_EQ(committed(), 30u);
  tracker_->delivered(*b, 3);
  EXPECT_EQ(committed(), 40u);
  EXPECT_EQ(tracker_->pending_records(), 0u);
  EXPECT_EQ(tracker_->pending_batches(), 0u);
}

TEST_F(DeliveryTrackerTest, LaterBatchesWaitForEarlierOnes) {
  auto first = batch(0, 2);
  auto second = batch(20, 2);
  tracker_->delivered(*second, 0);
  tracker_->delivered(*second, 1);
  EXPECT_FALSE(committed().has_value());
  tracker_->delivered(*first, 0);
  EXPECT_EQ(committed(), 10u);
  tracker_->delivered(*first, 1);
  EXPECT_EQ(committed(), 40u) << "both batches complete: commit jumps past the second";
}

TEST_F(DeliveryTrackerTest, EmptyBatchesCommitWhenTheyReachTheFront) {
  auto first = batch(0, 1);
  auto skipped = batch(10, 0, 4990);  // e.g. the middle of an over-long line
  EXPECT_FALSE(committed().has_value());
  tracker_->delivered(*first, 0);
  EXPECT_EQ(committed(), 5000u);
}

TEST_F(DeliveryTrackerTest, DuplicateReportsAreIgnored) {
  auto b = batch(0, 2);
  tracker_->delivered(*b, 0);
  tracker_->delivered(*b, 0);
  EXPECT_EQ(tracker_->pending_records(), 1u);
}

}  // namespace
}  // namespace auditship::checkpoint
