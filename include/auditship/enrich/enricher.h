#pragma once
// The Enrich stage: adds exact cost and provider data from OpenRouter's generation endpoint.
// A batch enters with process() and leaves through `next` (perhaps later, from another
// thread) with batches of one source in the order they entered.
#include <functional>
#include <memory>

#include "auditship/common/result.h"
#include "auditship/enrich/enrich_config.h"
#include "auditship/pipeline/batch.h"

namespace auditship::enrich {

class Enricher;
using EnricherPtr = std::unique_ptr<Enricher>;

class Enricher {
 public:
  using NextFn = std::function<void(BatchPtr)>;
  // With enrich.enabled=false this is a pass-through.
  [[nodiscard]] static Result<EnricherPtr> make(const EnrichConfig& config, NextFn next);
  virtual ~Enricher() = default;
  virtual void process(BatchPtr batch) = 0;
  // Releases every held batch to `next` (resolving pending lookups as timed out if needed).
  virtual void drain(std::chrono::milliseconds timeout) = 0;
  virtual void stop() noexcept = 0;
};

}  // namespace auditship::enrich
