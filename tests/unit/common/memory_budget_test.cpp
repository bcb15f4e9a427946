#include "auditship/common/memory_budget.h"

#include <gtest/gtest.h>

namespace auditship {
namespace {

TEST(MemoryBudget, RefusesAboveLimitAndCallsBackAtLowWatermark) {
  MemoryBudget budget(100);
  int callbacks = 0;
  budget.on_available([&] { ++callbacks; });
  MemoryBudget::Lease a, b, c;
  ASSERT_TRUE(budget.try_acquire(60, a));
  ASSERT_TRUE(budget.try_acquire(40, b));
  EXPECT_FALSE(budget.try_acquire(1, c));
  EXPECT_EQ(budget.used(), 100u);
  b.reset();  // 60 used: above the low watermark (50), no callback yet
  EXPECT_EQ(callbacks, 0);
  a.reset();
  EXPECT_EQ(callbacks, 1);
  EXPECT_EQ(budget.used(), 0u);
}

TEST(MemoryBudget, OneOversizedRequestIsGrantedWhenNothingElseIsInFlight) {
  MemoryBudget budget(100);
  MemoryBudget::Lease big;
  EXPECT_TRUE(budget.try_acquire(500, big)) << "otherwise a single huge chunk would deadlock";
  MemoryBudget::Lease more;
  EXPECT_FALSE(budget.try_acquire(1, more));
}

TEST(MemoryBudget, LeaseMovesOwnership) {
  MemoryBudget budget(100);
  MemoryBudget::Lease a;
  ASSERT_TRUE(budget.try_acquire(10, a));
  MemoryBudget::Lease b = std::move(a);
  EXPECT_EQ(budget.used(), 10u);
  a.reset();
  EXPECT_EQ(budget.used(), 10u);
  b.reset();
  EXPECT_EQ(budget.used(), 0u);
}

}  // namespace
}  // namespace auditship
