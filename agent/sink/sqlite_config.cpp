#include "auditship/sink/sqlite_config.h"

namespace auditship::sink {

void SqliteConfig::validate(config::Checker& check) const {
  if (!path.empty()) {
    // These open a database that vanishes at exit (or is not a file), so records would be
    // acknowledged into nothing.
    if (path == ":memory:" || path.rfind("file:", 0) == 0)
      check.fail("path", "must be a file path; in-memory and URI databases would lose acknowledged records");
    if (path.back() == '/') check.fail("path", "names a directory; give the database file, e.g. " + path + "audit.db");
  }
  if (retention.count() < 0) check.fail("retention", "must not be negative (0s keeps every row)");
  if (retention_interval.count() <= 0) check.fail("retention_interval", "must be positive");
}

}  // namespace auditship::sink
