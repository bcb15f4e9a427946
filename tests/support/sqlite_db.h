#pragma once
// Reads a SQLite database the way a user would (a second connection, sqlite3 C API), for tests
// of the SQLite sink.
#include <string>
#include <vector>

namespace auditship::testing {

// Every row of one query, each column as text; NULL becomes "NULL". Throws std::runtime_error
// on an SQL error.
using Rows = std::vector<std::vector<std::string>>;
Rows query(const std::string& db_path, const std::string& sql);
// `sql` holds several statements (e.g. conf/queries.sql): the rows of each query, in order.
std::vector<Rows> query_each(const std::string& db_path, const std::string& sql);
// The single value of a one-row, one-column query.
std::string scalar(const std::string& db_path, const std::string& sql);

}  // namespace auditship::testing
