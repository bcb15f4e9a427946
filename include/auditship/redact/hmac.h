#pragma once
// HMAC-SHA256 with the key prepared once: the `hash` field policy runs it on every record
// (user_id by default), and OpenSSL's one-shot HMAC() fetches the algorithm and builds a fresh
// context on each call (~1.2 µs here); re-initialising one EVP_MAC context with the key it
// already holds costs ~0.2 µs. One object per thread (a Redactor clone owns one).
#include <openssl/evp.h>

#include <string>
#include <string_view>

namespace auditship::redact {

class HmacSha256 {
 public:
  // Throws std::runtime_error if OpenSSL has no HMAC/SHA256 (a broken installation).
  explicit HmacSha256(std::string_view key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  // Appends the 64 lowercase hex digits of HMAC-SHA256(key, data) to `out`.
  void append_hex(std::string_view data, std::string& out);

 private:
  EVP_MAC* mac_ = nullptr;
  EVP_MAC_CTX* ctx_ = nullptr;
};

}  // namespace auditship::redact
