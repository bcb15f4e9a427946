#include "auditship/redact/hmac.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <random>

#include "auditship/common/hash.h"
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

// RFC 4231 test case 6: a key longer than SHA-256's block is hashed first.
TEST(HmacSha256, HashesKeysLongerThanABlock) {
  std::string out;
  HmacSha256(std::string(131, '\xaa')).append_hex("Test Using Larger Than Block-Size Key - Hash Key First", out);
  EXPECT_EQ(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// Against OpenSSL's own HMAC on keys of every length around the block size (63, 64, 65 bytes
// are the edges) and values of every length around one and two blocks.
TEST(HmacSha256, EqualsOpenSslHmacForEveryKeyAndValueLength) {
  std::mt19937 rng(7);
  auto bytes = [&](std::size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  };
  for (std::size_t key_len = 0; key_len <= 140; ++key_len) {
    std::string key = bytes(key_len);
    HmacSha256 mine(key);
    for (std::size_t len : {0, 1, 11, 55, 56, 63, 64, 65, 119, 120, 128, 300}) {
      std::string value = bytes(len);
      unsigned char md[32];
      unsigned int md_len = 0;
      ASSERT_NE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                     reinterpret_cast<const unsigned char*>(value.data()), value.size(), md, &md_len),
                nullptr);
      std::string expected;
      auditship::append_hex(md, md_len, expected);
      std::string got;
      mine.append_hex(value, got);
      ASSERT_EQ(got, expected) << "key " << key_len << " bytes, value " << len << " bytes";
    }
  }
}

}  // namespace
}  // namespace auditship::redact
