#pragma once
// `auditship status`: a human view of a running agent from two /metrics scrapes.
#include <string>

#include "auditship/metrics/scrape.h"

namespace auditship::metrics {

// Renders lag, throughput (rates between the scrapes, `seconds` apart), Kafka, enrichment,
// redaction, dead letters and process figures. Metrics absent from the scrape show as 0.
[[nodiscard]] std::string render_status(const Samples& before, const Samples& after, double seconds);

}  // namespace auditship::metrics
