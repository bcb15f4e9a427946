#include "auditship/redact/hmac.h"

#include <gtest/gtest.h>

#include "auditship/redact/redactor.h"

namespace auditship::redact {
namespace {

// RFC 4231, test cases 1 and 2: the re-initialised context gives the standard HMAC.
TEST(HmacSha256, MatchesRfc4231AndStaysCorrectWhenReused) {
  HmacSha256 jefe("Jefe");
  std::string out;
  for (int i = 0; i < 3; ++i) {  // every call re-initialises with the same key
    out.clear();
    jefe.append_hex("what do ya want for nothing?", out);
    EXPECT_EQ(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") << "call " << i;
  }
  HmacSha256 twenty(std::string(20, '\x0b'));
  out = "prefix:";
  twenty.append_hex("Hi There", out);
  EXPECT_EQ(out, "prefix:b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7") << "appends";
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace auditship::redact
