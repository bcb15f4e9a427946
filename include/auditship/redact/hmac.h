#pragma once
// HMAC-SHA256 with the key prepared once: the `hash` field policy runs it on every record
// (user_id by default). The key's inner and outer pads are absorbed into two SHA-256 states in
// the constructor (RFC 2104); each value then costs two copies of a plain struct and two
// SHA-256 finals, ~100 ns here. OpenSSL's EVP_MAC re-initialised with its stored key costs
// ~200 ns (it duplicates two provider digest contexts, with an allocation each, per value) and
// its one-shot HMAC() ~1.2 µs. One object per thread (a Redactor clone owns one).
#include <openssl/sha.h>

#include <string>
#include <string_view>

namespace auditship::redact {

class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  // Appends the 64 lowercase hex digits of HMAC-SHA256(key, data) to `out`.
  void append_hex(std::string_view data, std::string& out);
  // Whether `s` has the shape append_hex() writes (64 lowercase hex digits): a `hash` field
  // holding one is taken as already pseudonymised and left as it is.
  [[nodiscard]] static bool is_digest_hex(std::string_view s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
  }

 private:
  SHA256_CTX inner_;  // after key ^ ipad
  SHA256_CTX outer_;  // after key ^ opad
};

}  // namespace auditship::redact
