#include "auditship/redact/hmac.h"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include <stdexcept>

#include "auditship/common/hash.h"

namespace auditship::redact {

HmacSha256::HmacSha256(std::string_view key) {
  mac_ = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  ctx_ = mac_ ? EVP_MAC_CTX_new(mac_) : nullptr;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (!ctx_ || EVP_MAC_init(ctx_, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) != 1) {
    EVP_MAC_CTX_free(ctx_);
    EVP_MAC_free(mac_);
    throw std::runtime_error("OpenSSL cannot set up HMAC-SHA256");
  }
}

HmacSha256::~HmacSha256() {
  EVP_MAC_CTX_free(ctx_);
  EVP_MAC_free(mac_);
}

void HmacSha256::append_hex(std::string_view data, std::string& out) {
  unsigned char md[32];
  std::size_t len = 0;
  // A null key re-initialises with the key set in the constructor (no re-derivation).
  EVP_MAC_init(ctx_, nullptr, 0, nullptr);
  EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  EVP_MAC_final(ctx_, md, &len, sizeof md);
  auditship::append_hex(md, len, out);
}

}  // namespace auditship::redact
