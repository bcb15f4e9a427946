#include "auditship/pipeline/resequencer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace auditship::pipeline {
namespace {

TEST(Resequencer, HandsOnInNumberOrderWhateverTheCompletionOrder) {
  std::vector<int> out;
  Resequencer<int> r([&](int v) { out.push_back(v); });
  r.complete(2, 20);
  r.complete(1, 10);
  EXPECT_TRUE(out.empty()) << "nothing may pass before number 0";
  EXPECT_EQ(r.parked(), 2u);
  r.complete(0, 0);
  EXPECT_EQ(out, (std::vector<int>{0, 10, 20}));
  r.complete(4, 40);
  r.complete(3, 30);
  EXPECT_EQ(out, (std::vector<int>{0, 10, 20, 30, 40}));
  EXPECT_EQ(r.parked(), 0u);
}

TEST(Resequencer, MoveOnlyItems) {
  std::vector<int> out;
  Resequencer<std::unique_ptr<int>> r([&](std::unique_ptr<int> v) { out.push_back(*v); });
  r.complete(1, std::make_unique<int>(1));
  r.complete(0, std::make_unique<int>(0));
  EXPECT_EQ(out, (std::vector<int>{0, 1}));
}

// Many threads complete a shuffled range concurrently: every item comes out once, in order,
// and `next` never runs on two threads at once.
TEST(Resequencer, ConcurrentCompletionsComeOutInOrderOneAtATime) {
  constexpr std::uint64_t kItems = 20000;
  constexpr int kThreads = 4;
  std::vector<std::uint64_t> order(kItems);
  for (std::uint64_t i = 0; i < kItems; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(7));

  std::vector<std::uint64_t> out;
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  Resequencer<std::uint64_t> r([&](std::uint64_t v) {
    if (inside.fetch_add(1) != 0) overlapped = true;
    out.push_back(v);
    inside.fetch_sub(1);
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (std::uint64_t i = static_cast<std::uint64_t>(t); i < kItems; i += kThreads) r.complete(order[i], order[i]);
    });
  for (auto& t : threads) t.join();
  EXPECT_FALSE(overlapped.load());
  ASSERT_EQ(out.size(), kItems);
  for (std::uint64_t i = 0; i < kItems; ++i) ASSERT_EQ(out[i], i) << "at " << i;
  EXPECT_EQ(r.parked(), 0u);
}

}  // namespace
}  // namespace auditship::pipeline
