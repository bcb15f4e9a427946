#pragma once
// Configuration of the disk buffer (`buffer:` in YAML). One visit() table drives parsing,
// `auditship check` output and the option reference; validate() adds the cross-field rules.
//
// Off by default (max_disk_bytes: 0): spilling writes and fsyncs under state_dir, which must
// then be sized for it (the default /var/lib/auditship is often on a small root volume). Without
// it a Kafka outage pauses reading at pipeline.max_in_flight_bytes, which is safe as long as the
// apps keep their files longer than the outage.
#include <string>

#include "auditship/config/checker.h"
#include "auditship/config/schema.h"

namespace auditship::buffer {

struct BufferConfig {
  config::Bytes max_disk_bytes = 0;  // 0 = no disk buffer
  std::string when_full = "block";
  std::string fsync = "always";
  config::Duration fsync_interval{1000};
  config::Duration spill_after{2000};

  template <class V>
  void visit(V& v) {
    v.field("max_disk_bytes", max_disk_bytes,
            "Disk bound of the zstd buffer under state_dir/buffer that rides out Kafka outages; 0: no disk buffer");
    v.field("when_full", when_full,
            "At max_disk_bytes: `block` (reading slows until Kafka drains the buffer; default) or `drop_oldest` "
            "(delete the oldest segment, counted in auditship_buffer_records_dropped_total)");
    v.field("fsync", fsync,
            "When spilled records count as durable (and checkpoints may pass them): `always` (fsync every batch) "
            "or `interval` (fsync every fsync_interval; acknowledgements wait for it)");
    v.field("fsync_interval", fsync_interval, "fsync period with fsync: interval");
    v.field("spill_after", spill_after,
            "Spill to disk once Kafka left a batch unacknowledged this long (or half the memory bound is in "
            "flight); with when_full: block, how long a batch waits for disk space before it waits in memory");
  }
  [[nodiscard]] bool enabled() const { return max_disk_bytes > 0; }
  void validate(config::Checker& check) const;
};

}  // namespace auditship::buffer
