#pragma once
// The agent's HTTP endpoint for operators (`metrics.listen`): Prometheus scrapes, liveness and
// readiness probes.
//
//   GET /metrics  Prometheus text format 0.0.4 of a Registry (collectors run first)
//   GET /health   200 {"status":"alive"} while the process serves requests
//   GET /ready    200 {"status":"ready"} when every ReadinessCheck passes, else 503 with
//                 {"status":"not_ready","failing":{"<check>":"<why>",...}}
//
// Runs on: two threads of its own (a slow readiness probe never stalls a scrape). Owned by:
// Pipeline; destroying it stops the threads. Errors: a listen address that cannot be bound is
// returned by start(); a bad request gets 400/404/405, never a crash. Beast stays in the body.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auditship/common/metrics.h"
#include "auditship/common/result.h"

namespace auditship::metrics {

// One condition of /ready. `failure` returns an empty string when it holds, else why not; it
// is called on the server's threads, so it must be thread-safe (and should be cheap or cached).
struct ReadinessCheck {
  std::string name;
  std::function<std::string()> failure;
};

class MetricsServer;
using MetricsServerPtr = std::unique_ptr<MetricsServer>;

class MetricsServer {
 public:
  // `listen` is "host:port" (port 0 picks a free one; see address()).
  [[nodiscard]] static Result<MetricsServerPtr> start(const std::string& listen, std::vector<ReadinessCheck> checks,
                                                      Registry& registry = Registry::global());
  ~MetricsServer();
  // The bound address, "host:port".
  [[nodiscard]] std::string address() const;

  struct Impl;

 private:
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Splits "host:port" (also "[v6]:port"); false if it is not one.
bool split_host_port(const std::string& listen, std::string& host, std::uint16_t& port);

}  // namespace auditship::metrics
