#include "auditship/pipeline/batch.h"

#include <gtest/gtest.h>

#include "support/batches.h"

namespace auditship {
namespace {

using testing::make_batch;

TEST(BatchCompact, RewrittenAndUnchangedPayloadsEndUpOnceInOutputAndInputIsFreed) {
  BatchPtr b = make_batch({{"one"}, {"two"}, {"three"}, {"four"}});
  // Records 1 and 3 rewritten, as the redactor does: appended to output.
  b->output = "junk-before:";
  std::size_t at = b->output.size();
  b->output += "TWO!";
  b->set_output_payload(b->records[1], at);
  at = b->output.size();
  b->output += "FOUR!";
  b->set_output_payload(b->records[3], at);
  const std::vector<std::string> want = {"one", "TWO!", "three", "FOUR!"};

  b->compact();
  EXPECT_TRUE(b->input.empty());
  EXPECT_EQ(b->input.capacity(), std::string().capacity()) << "memory released";
  EXPECT_EQ(b->output, "oneTWO!threeFOUR!") << "exactly the payloads, nothing else";
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(b->payload(b->records[i]), want[i]);
    EXPECT_TRUE(b->records[i].payload_in_output);
    EXPECT_EQ(b->records[i].file_offset, make_batch({{"one"}, {"two"}, {"three"}, {"four"}})->records[i].file_offset)
        << "offsets untouched: acknowledgements still map to the file";
  }
}

TEST(BatchCompact, NothingRewrittenKeepsTheZeroCopyInput) {
  BatchPtr b = make_batch({{"one"}, {"two"}});
  const std::string input = b->input;
  b->compact();
  EXPECT_EQ(b->input, input);
  EXPECT_TRUE(b->output.empty());
  EXPECT_EQ(b->payload(b->records[1]), "two");
  EXPECT_FALSE(b->records[1].payload_in_output);
}

}  // namespace
}  // namespace auditship
