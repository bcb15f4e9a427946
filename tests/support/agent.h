#pragma once
// Runs the real `auditship` binary against a config written for the test.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "support/process.h"
#include "support/temp_dir.h"

namespace auditship::testing {

// A config for tests: sources = `glob`, the given brokers, state in `state_dir`, fast
// checkpoints and rescans; `pipeline` adds keys to the pipeline map (e.g. "max_in_flight_bytes:
// 8MiB"), `extra` adds top-level YAML verbatim.
std::string test_config(const std::string& glob, const std::string& state_dir, const std::string& brokers,
                        const std::string& extra = {}, const std::string& pipeline = {});

// The committed offset of each file in state_dir/checkpoints.json (path -> offset).
std::map<std::string, std::uint64_t> committed_offsets(const std::string& state_dir);

class Agent {
 public:
  // Writes `config_yaml` to dir/auditship.yaml and starts `auditship run -c` on it; the
  // agent's log goes to dir/agent.log (appended across restarts).
  Agent(const TempDir& dir, const std::string& config_yaml, std::vector<std::string> extra_args = {},
        std::vector<std::string> env = {});
  Process& process() { return *process_; }
  [[nodiscard]] std::string log() const;
  // "http://127.0.0.1:PORT" of the agent's metrics server, read from its log line (empty if it
  // did not start within `timeout`).
  [[nodiscard]] std::string metrics_url(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  // SIGTERM and wait; returns the exit code.
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(60));

 private:
  std::string log_file_;
  std::unique_ptr<Process> process_;
};

}  // namespace auditship::testing
