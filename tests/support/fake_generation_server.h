#pragma once
// A stand-in for OpenRouter's GET /api/v1/generation on 127.0.0.1 (port 0), HTTPS with a
// self-signed certificate generated at start (ca_file() is its PEM). Serves deterministic
// values per id (expected()), records every request, and misbehaves on demand: latency,
// 404 for the first K lookups, 429 with Retry-After, 5xx, hangs, malformed or oversized JSON,
// 401 for a key it does not accept. Runs on its own thread; thread-safe accessors.
//
// Tools and benchmarks link only auditship_core, so this file depends on nothing from gtest.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace auditship::testing {

enum class FakeAction { kServe, kNotFound, kTooManyRequests, kStatus, kHang, kMalformed, kOversized, kNoCost };

struct FakeBehavior {
  FakeBehavior() = default;
  FakeBehavior(FakeAction a, int s = 500, std::string retry = {}, std::string reset = {})  // NOLINT
      : action(a), status(s), retry_after(std::move(retry)), ratelimit_reset(std::move(reset)) {}
  FakeAction action = FakeAction::kServe;
  int status = 500;                 // kStatus
  std::string retry_after;          // kTooManyRequests: Retry-After header if not empty
  std::string ratelimit_reset;      // kTooManyRequests: X-RateLimit-Reset header if not empty
};

struct FakeServerOptions {
  bool tls = true;
  std::chrono::milliseconds latency{0};  // added before every answer
  std::vector<std::string> accepted_keys;  // empty: any key; else others get 401
  int not_found_first = 0;                 // 404 for the first K lookups of every id
  std::vector<std::string> never_found;    // ids (or id prefixes ending in '*') that 404 forever
  // Per request: (id, how many requests for this id came before) -> behaviour; nullopt = default.
  std::function<std::optional<FakeBehavior>(std::string_view id, int nth)> script;
  int threads = 1;
};

struct FakeRequest {
  std::string id;
  std::uint64_t key_hash = 0;
  std::chrono::steady_clock::time_point at;
  int status = 0;  // 0 for a hang
};

// The values served for an id (a subset, for assertions).
struct FakeGeneration {
  double total_cost = 0;
  double latency = 0;
  std::string model;
  std::string provider_name;
  std::int64_t tokens_prompt = 0;
  std::int64_t tokens_completion = 0;
  bool streamed = false;
};

class FakeGenerationServer {
 public:
  explicit FakeGenerationServer(FakeServerOptions options = {});
  ~FakeGenerationServer();
  FakeGenerationServer(const FakeGenerationServer&) = delete;
  FakeGenerationServer& operator=(const FakeGenerationServer&) = delete;

  [[nodiscard]] std::string url() const;      // e.g. https://127.0.0.1:40123/api/v1/generation
  [[nodiscard]] std::string ca_file() const;  // PEM of the self-signed certificate
  [[nodiscard]] std::uint16_t port() const;

  [[nodiscard]] std::vector<FakeRequest> requests() const;
  [[nodiscard]] std::size_t request_count() const;
  [[nodiscard]] std::size_t connections() const;  // accepted so far
  [[nodiscard]] std::size_t requests_for(std::string_view id) const;

  static std::uint64_t key_hash(std::string_view key);
  static FakeGeneration expected(std::string_view id);
  static std::string generation_body(std::string_view id, bool with_cost = true);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auditship::testing
