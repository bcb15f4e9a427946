#include "auditship/buffer/buffer_config.h"

namespace auditship::buffer {

void BufferConfig::validate(config::Checker& check) const {
  if (max_disk_bytes > 0 && max_disk_bytes < (1u << 20))
    check.fail("max_disk_bytes", "must be 0 (off) or at least 1MiB (a few segments of frames)");
  if (when_full != "block" && when_full != "drop_oldest")
    check.fail("when_full", "must be 'block' or 'drop_oldest', got '" + when_full + "'");
  if (fsync != "always" && fsync != "interval")
    check.fail("fsync", "must be 'always' or 'interval', got '" + fsync + "'");
  if (fsync_interval.count() <= 0) check.fail("fsync_interval", "must be positive");
  if (spill_after.count() <= 0) check.fail("spill_after", "must be positive");
}

}  // namespace auditship::buffer
