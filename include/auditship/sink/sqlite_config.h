#pragma once
// Configuration of the SQLite sink (`sqlite:` in YAML). One visit() table drives parsing,
// `auditship check` output and the option reference; validate() adds the cross-field rules.
#include <string>

#include "auditship/config/checker.h"
#include "auditship/config/schema.h"

namespace auditship::sink {

struct SqliteConfig {
  std::string path;  // empty: no SQLite sink
  // 0 = keep every row forever. Retention is the only way rows ever leave the store.
  config::Duration retention{0};
  config::Duration retention_interval{3600000};

  template <class V>
  void visit(V& v) {
    v.field("path", path,
            "SQLite database file with the seed's audit_log table (e.g. /var/lib/auditship/audit.db); "
            "empty: no SQLite sink");
    v.field("retention", retention,
            "Delete rows whose timestamp is older than this (e.g. 90d); 0s keeps everything (append-only)");
    v.field("retention_interval", retention_interval, "How often the retention delete runs");
  }
  [[nodiscard]] bool enabled() const { return !path.empty(); }
  void validate(config::Checker& check) const;
};

}  // namespace auditship::sink
