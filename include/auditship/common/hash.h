#pragma once
// FNV-1a 64: a stable (across runs and hosts) hash for file fingerprints. Not for secrets.
// And the lowercase hex form digests and keys are written in (and hex digits read back).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace auditship {

constexpr std::uint64_t fnv1a64(std::string_view data, std::uint64_t h = 0xcbf29ce484222325ull) {
  for (char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

// The value of one hex digit of either case, or -1.
constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends two lowercase hex digits per byte of [bytes, bytes + n) to `out`.
inline void append_hex(const unsigned char* bytes, std::size_t n, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Grow once and write in place: a per-character append was 2.6 % of the agent's CPU (one
  // 64-digit HMAC per record).
  std::size_t at = out.size();
  out.resize(at + 2 * n);
  char* p = out.data() + at;
  for (std::size_t i = 0; i < n; ++i) {
    p[2 * i] = kHex[bytes[i] >> 4];
    p[2 * i + 1] = kHex[bytes[i] & 15];
  }
}

}  // namespace auditship
