#include "auditship/pipeline/worker_pool.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/batches.h"

namespace auditship::pipeline {
namespace {

using testing::Line;
using testing::make_batch;

std::string record(int file, int n, const std::string& text) {
  return R"({"generation_id":"gen-)" + std::to_string(file) + "-" + std::to_string(n) + R"(","note":")" + text + R"("})";
}

redact::RedactorPtr default_redactor() {
  auto r = redact::Redactor::make(redact::RedactConfig{});
  EXPECT_TRUE(r) << r.error();
  return std::move(r.value());
}

struct Collected {
  std::mutex mu;
  std::vector<BatchPtr> batches;
  std::set<std::thread::id> threads;
  void operator()(BatchPtr b) {
    std::lock_guard lock(mu);
    threads.insert(std::this_thread::get_id());
    batches.push_back(std::move(b));
  }
};

// Batches of very different sizes from three files, 4 workers: the batches come out in the
// order they were pushed (so each file's records in file order), each parsed and redacted.
TEST(WorkerPool, KeepsPushOrderAcrossWorkersAndParsesAndRedactsEveryBatch) {
  Collected out;
  constexpr int kBatches = 300;
  {
    WorkerPool pool({4, 8, {}}, default_redactor(), [&](BatchPtr b) { out(std::move(b)); });
    EXPECT_EQ(pool.workers(), 4u);
    std::uint64_t offsets[3] = {0, 0, 0};
    for (int i = 0; i < kBatches; ++i) {
      const int file = i % 3;
      std::vector<Line> lines;
      const int n = (i % 7 == 0) ? 400 : 1 + i % 5;  // some batches take far longer than others
      for (int k = 0; k < n; ++k) lines.push_back({record(file, i * 1000 + k, "mail bob" + std::to_string(k) + "@example.com")});
      lines.push_back({"{not json"});
      auto b = make_batch(lines, "/logs/" + std::to_string(file) + ".jsonl", offsets[file]);
      offsets[file] = b->end_offset;
      ASSERT_TRUE(pool.push(std::move(b)));
    }
    pool.close_and_join();
  }
  ASSERT_EQ(out.batches.size(), static_cast<std::size_t>(kBatches));
  std::uint64_t last_end[3] = {0, 0, 0};
  for (int i = 0; i < kBatches; ++i) {
    const Batch& b = *out.batches[i];
    const int file = i % 3;
    EXPECT_EQ(b.source->path, "/logs/" + std::to_string(file) + ".jsonl");
    EXPECT_EQ(b.begin_offset, last_end[file]) << "batch " << i << " out of file order";
    last_end[file] = b.end_offset;
    ASSERT_GE(b.records.size(), 2u);
    const std::string first(b.payload(b.records.front()));
    EXPECT_NE(first.find("[EMAIL]"), std::string::npos) << first;
    EXPECT_EQ(first.find("@example.com"), std::string::npos) << first;
    EXPECT_EQ(b.records.back().disposition, Disposition::kDeadLetter);
  }
}

TEST(WorkerPool, ReplacedRedactorIsUsedForLaterBatches) {
  Collected out;
  WorkerPool pool({2, 4, {}}, default_redactor(), [&](BatchPtr b) { out(std::move(b)); });
  const std::string line = record(0, 1, "mail bob@example.com");
  ASSERT_TRUE(pool.push(make_batch({{line}})));
  // Wait until the first batch is through, so the swap is between batches for every worker.
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(out.mu);
      if (!out.batches.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pool.replace_redactor(nullptr);  // redaction turned off by a reload
  ASSERT_TRUE(pool.push(make_batch({{line}}, "/logs/a.jsonl", line.size() + 1)));
  pool.close_and_join();
  ASSERT_EQ(out.batches.size(), 2u);
  EXPECT_EQ(out.batches[0]->payload(out.batches[0]->records[0]).find("bob@example.com"), std::string::npos);
  EXPECT_NE(out.batches[1]->payload(out.batches[1]->records[0]).find("bob@example.com"), std::string::npos);
}

TEST(WorkerPool, PushAfterCloseIsRefused) {
  Collected out;
  WorkerPool pool({1, 2, {}}, nullptr, [&](BatchPtr b) { out(std::move(b)); });
  pool.close_and_join();
  EXPECT_FALSE(pool.push(make_batch({{record(0, 1, "x")}})));
  EXPECT_TRUE(out.batches.empty());
}

}  // namespace
}  // namespace auditship::pipeline
