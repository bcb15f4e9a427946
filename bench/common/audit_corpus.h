#pragma once
// The benchmark corpus: realistic audit lines (~650-700 B on average), deterministic for a
// seed. 20 % of lines carry 1-3 PII values in free text (email, NA phone, Luhn card, SSN,
// IPv4, OpenRouter key); 5 % carry a multi-KB prompt preview with JSON escapes. Shared by the
// stage micro-benchmarks and the end-to-end harness so they measure the same data.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace auditship::bench {

struct Corpus {
  std::vector<std::string> lines;
  std::vector<std::vector<std::string>> pii;  // by line: the PII values planted (none may survive)
  std::size_t bytes = 0;
};

Corpus make_corpus(std::size_t lines, std::uint64_t seed = 42);

}  // namespace auditship::bench
