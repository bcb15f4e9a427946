#pragma once
// The Hyperscan databases of the detectors, compiled, or loaded from a cache file in
// state_dir (`<state_dir>/detectors.hsdb`) that the last compile wrote.
//
// Why a cache: compiling the default detectors costs ~90 ms of CPU at every start and config
// reload, and pages in libhs's compiler (~3.7 MB of file-backed pages that stay resident) and
// its temporaries. Deserializing the same databases takes ~0.35 ms of CPU and runs only
// libhs's runtime code (BENCHMARKS.md, "Detector database cache").
//
// The file is keyed by a SHA-256 over its format version, hs_version(), the host's
// hs_platform_info (tuning and CPU features the databases were built for), and every
// database's expressions, flags and ids in order: any change to the detectors, the Hyperscan
// library or the CPU makes it a miss. A file that is short, altered (a SHA-256 of its contents
// is checked), owned by another user or writable by others is ignored. A miss or an unusable
// file is logged with the reason and counted (auditship_redact_detector_cache_total{result}),
// then the databases are compiled and the file rewritten (temp, fsync, rename, mode 0600).
// A failed write is logged and counted and never stops the agent. The file holds one set:
// the last compiled.
//
// Trust: the file is Hyperscan bytecode the agent runs. It is as trusted as the checkpoints
// and hash.key next to it: whoever can write state_dir controls the agent's output anyway.
#include <hs/hs.h>

#include <memory>
#include <string>
#include <vector>

#include "auditship/common/result.h"

namespace auditship::redact {

struct DatabaseDeleter {
  void operator()(hs_database_t* db) const { hs_free_database(db); }
};
using DatabasePtr = std::unique_ptr<hs_database_t, DatabaseDeleter>;

// The inputs of one hs_compile_multi call (HS_MODE_BLOCK, for this host).
struct DatabaseSpec {
  std::vector<std::string> expressions;
  std::vector<unsigned> flags, ids;
  std::vector<std::string> names;  // the detector of each expression, for errors (not in the key)
  void add(const std::string& expression, unsigned flag, unsigned id, const std::string& name);
};

// One database per spec, in order (none for an empty spec). The error names the detector.
[[nodiscard]] Result<std::vector<DatabasePtr>> compile_databases(const std::vector<DatabaseSpec>& specs);

// compile_databases, but from the cache file `cache_file` when it holds these specs' databases
// (and, after compiling, written there). Empty `cache_file`: no cache. Only a compile error fails.
[[nodiscard]] Result<std::vector<DatabasePtr>> load_or_compile_databases(const std::vector<DatabaseSpec>& specs,
                                                                         const std::string& cache_file);

// Where the agent keeps the cache: <state_dir>/detectors.hsdb.
[[nodiscard]] std::string detector_cache_file(const std::string& state_dir);

}  // namespace auditship::redact
