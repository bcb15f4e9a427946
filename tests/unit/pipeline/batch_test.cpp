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

// Rewrites every record into `output`, in order, each with `prefix` before it.
BatchPtr all_rewritten(const std::string& prefix) {
  BatchPtr b = make_batch({{"one"}, {"two"}});
  for (Record& r : b->records) {
    b->output += prefix;
    const std::size_t at = b->output.size();
    b->output += std::string(b->raw(r)) + "!";
    b->set_output_payload(r, at);
  }
  return b;
}

TEST(BatchCompact, EveryLineRewrittenKeepsOutputWithoutACopy) {
  BatchPtr b = all_rewritten("");
  const char* data = b->output.data();
  b->compact();
  EXPECT_EQ(b->output.data(), data) << "output already packed: not copied";
  EXPECT_EQ(b->output, "one!two!");
  EXPECT_EQ(b->input.capacity(), std::string().capacity()) << "memory released";
  EXPECT_EQ(b->payload(b->records[1]), "two!");
  EXPECT_EQ(b->records[1].raw.length, 0u);
}

TEST(BatchCompact, EveryLineRewrittenWithDeadBytesInOutputIsPacked) {
  BatchPtr b = all_rewritten("dead");  // e.g. an envelope later rewritten again
  b->compact();
  EXPECT_EQ(b->output, "one!two!") << "the dead bytes are not kept in flight";
  EXPECT_EQ(b->payload(b->records[0]), "one!");
  EXPECT_TRUE(b->input.empty());
}

}  // namespace
}  // namespace auditship
