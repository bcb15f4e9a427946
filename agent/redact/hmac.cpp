// OpenSSL 3 marks the SHA256_* functions deprecated in favour of EVP_Digest*, whose contexts
// cannot be copied without an allocation; they remain part of libcrypto's API and ABI.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "auditship/redact/hmac.h"

#include <array>
#include <cstring>

#include "auditship/common/hash.h"

namespace auditship::redact {

namespace {
constexpr std::size_t kBlock = SHA256_CBLOCK;  // 64

void absorb_pad(SHA256_CTX& ctx, const std::array<unsigned char, kBlock>& key_block, unsigned char pad) {
  std::array<unsigned char, kBlock> padded;
  for (std::size_t i = 0; i < kBlock; ++i) padded[i] = key_block[i] ^ pad;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, padded.data(), padded.size());
}
}  // namespace

HmacSha256::HmacSha256(std::string_view key) {
  // A key longer than a block is replaced by its digest; a shorter one is zero-padded.
  std::array<unsigned char, kBlock> key_block{};
  if (key.size() > kBlock)
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), key_block.data());
  else
    std::memcpy(key_block.data(), key.data(), key.size());
  absorb_pad(inner_, key_block, 0x36);
  absorb_pad(outer_, key_block, 0x5c);
}

void HmacSha256::append_hex(std::string_view data, std::string& out) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx = inner_;
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(digest, &ctx);
  ctx = outer_;
  SHA256_Update(&ctx, digest, sizeof digest);
  SHA256_Final(digest, &ctx);
  auditship::append_hex(digest, sizeof digest, out);
}

}  // namespace auditship::redact
