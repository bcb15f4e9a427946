#pragma once
// FNV-1a 64: a stable (across runs and hosts) hash for file fingerprints. Not for secrets.
#include <cstdint>
#include <string_view>

namespace auditship {

constexpr std::uint64_t fnv1a64(std::string_view data, std::uint64_t h = 0xcbf29ce484222325ull) {
  for (char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace auditship
