#pragma once
// Looks up generations on OpenRouter's GET /generation, many at once, politely.
//
// Runs on: its own thread with its own io_context (started by make(), joined by stop()); the
// caller's thread never waits on the network: submit() only posts. Results come back through
// the ResultFn, called on the fetcher's thread, once per id per resolution (requests for an
// id already pending merge into it; ids in the LRU+TTL cache are answered from it at once).
//
// Policy (see docs/generation-api.md): the first attempt no earlier than `not_before`; 404 and
// "total_cost still missing" retry with exponential backoff until not_before + horizon (a lookup
// still waiting for a token or a connection shortly after that resolves without another
// attempt: its last outcome, or timeout if it never had one);
// 408/429/5xx, network errors, timeouts and garbage answers retry with jittered backoff on
// another connection; 401/402/403 resolve at once and are logged once per key. A token bucket
// (max_rps, halved on 429, honouring Retry-After / X-RateLimit-Reset) and an in-flight cap of
// min(max_in_flight, pool_size) (HTTP/1.1 keep-alive carries one request per connection) bound
// the load. Beast/Asio stay behind the pimpl so including this header costs nothing.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auditship/common/result.h"
#include "auditship/enrich/api_keys.h"
#include "auditship/enrich/enrich_config.h"
#include "auditship/enrich/generation.h"

namespace auditship::enrich {

struct LookupRequest {
  std::string id;
  ApiKeys::Index key = 0;
  std::chrono::steady_clock::time_point not_before;  // record timestamp + initial_delay
};

class GenerationFetcher;
using GenerationFetcherPtr = std::unique_ptr<GenerationFetcher>;

class GenerationFetcher {
 public:
  using ResultFn = std::function<void(const std::string& id, LookupResultPtr result)>;

  // Parses the endpoint, loads the CA, starts the thread. Errors: bad URL, unreadable ca_file,
  // a bad proxy URL (enrich.proxy or HTTPS_PROXY).
  [[nodiscard]] static Result<GenerationFetcherPtr> make(const EnrichConfig& config, ApiKeys keys, ResultFn on_result);
  // How lookups reach the endpoint from this process's environment: "directly" or "through the
  // HTTP proxy host:port (from HTTPS_PROXY)". `auditship check` prints it. Errors as make().
  [[nodiscard]] static Result<std::string> route(const EnrichConfig& config);
  ~GenerationFetcher();  // stop()s
  GenerationFetcher(const GenerationFetcher&) = delete;
  GenerationFetcher& operator=(const GenerationFetcher&) = delete;

  // Thread-safe; never blocks on the network.
  void submit(std::vector<LookupRequest> requests);
  // Abandons pending lookups (no more results), closes connections, joins the thread.
  void stop() noexcept;

 private:
  struct Impl;
  explicit GenerationFetcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace auditship::enrich
