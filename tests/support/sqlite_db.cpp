#include "support/sqlite_db.h"

#include <sqlite3.h>

#include <stdexcept>

namespace auditship::testing {

std::vector<Rows> query_each(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string e = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + db_path + ": " + e);
  }
  sqlite3_busy_timeout(db, 5000);
  std::vector<Rows> out;
  const char* tail = sql.c_str();
  while (tail && *tail) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, tail, -1, &stmt, &tail) != SQLITE_OK) {
      std::string e = sqlite3_errmsg(db);
      sqlite3_close(db);
      throw std::runtime_error("SQL error: " + e);
    }
    if (!stmt) continue;  // whitespace or a comment
    Rows these;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        // The type first: asking for text converts the value.
        if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
          row.push_back("NULL");
        } else {
          row.push_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, c)));
        }
      }
      these.push_back(std::move(row));
    }
    const bool is_query = sqlite3_column_count(stmt) > 0;
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
      std::string e = sqlite3_errmsg(db);
      sqlite3_close(db);
      throw std::runtime_error("SQL error: " + e);
    }
    if (is_query) out.push_back(std::move(these));
  }
  sqlite3_close(db);
  return out;
}

Rows query(const std::string& db_path, const std::string& sql) {
  std::vector<Rows> all = query_each(db_path, sql);
  if (all.size() != 1) throw std::runtime_error("expected one query in: " + sql);
  return all[0];
}

std::string scalar(const std::string& db_path, const std::string& sql) {
  Rows rows = query(db_path, sql);
  if (rows.size() != 1 || rows[0].size() != 1)
    throw std::runtime_error("expected one value from: " + sql + " (got " + std::to_string(rows.size()) + " rows)");
  return rows[0][0];
}

}  // namespace auditship::testing
