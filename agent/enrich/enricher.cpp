#include "auditship/enrich/enricher.h"

namespace auditship::enrich {
namespace {

// Enrichment off: batches go straight on.
class PassThroughEnricher final : public Enricher {
 public:
  explicit PassThroughEnricher(NextFn next) : next_(std::move(next)) {}
  void process(BatchPtr batch) override { next_(std::move(batch)); }
  void drain(std::chrono::milliseconds) override {}
  void stop() noexcept override {}

 private:
  NextFn next_;
};

}  // namespace

Result<EnricherPtr> Enricher::make(const EnrichConfig& config, NextFn next) {
  if (config.enabled) return Error{"enrichment is not available in this build yet"};
  return EnricherPtr(new PassThroughEnricher(std::move(next)));
}

}  // namespace auditship::enrich
