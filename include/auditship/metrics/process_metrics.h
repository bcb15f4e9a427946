#pragma once
// The conventional process_* metrics (as Prometheus client libraries export them), sampled
// from /proc/self at each render: process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_start_time_seconds.
#include "auditship/common/metrics.h"

namespace auditship::metrics {

// Registers the collector once per registry (later calls do nothing).
void register_process_metrics(Registry& registry = Registry::global());

}  // namespace auditship::metrics
