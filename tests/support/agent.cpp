#include "support/agent.h"

#include <simdjson.h>

#include <csignal>

namespace auditship::testing {

std::string test_config(const std::string& glob, const std::string& state_dir, const std::string& brokers,
                        const std::string& extra, const std::string& pipeline) {
  // Port 0: agents of concurrent tests (and a developer's own agent on 9464) never collide;
  // Agent::metrics_url() reads the bound address from the log.
  const bool has_metrics = extra.rfind("metrics:", 0) == 0 || extra.find("\nmetrics:") != std::string::npos;
  return std::string(has_metrics ? "" : "metrics:\n  listen: \"127.0.0.1:0\"\n") + "sources:\n  - path: \"" + glob + "\"\nstate_dir: \"" + state_dir + "\"\nkafka:\n  brokers: \"" + brokers +
         "\"\n  properties: { linger.ms: \"5\" }\npipeline:\n  checkpoint_interval: 200ms\n  rescan_interval: 200ms\n" +
         (pipeline.empty() ? "" : "  " + pipeline + "\n") + extra;
}

std::map<std::string, std::uint64_t> committed_offsets(const std::string& state_dir) {
  std::map<std::string, std::uint64_t> out;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(read_file(state_dir + "/checkpoints.json")).get(doc)) return out;
  for (auto f : doc["files"].get_array()) out[std::string(f["path"].get_string().value())] = f["offset"].get_uint64();
  return out;
}

Agent::Agent(const TempDir& dir, const std::string& config_yaml, std::vector<std::string> extra_args,
             std::vector<std::string> env)
    : log_file_(dir.file("agent.log")) {
  write_file(dir.file("auditship.yaml"), config_yaml);
  std::vector<std::string> args{"run", "-c", dir.file("auditship.yaml")};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<Process>(AUDITSHIP_BINARY, args,
                                       Process::Options{.stdout_file = dir.file("agent.out"),
                                                        .stderr_file = log_file_,
                                                        .env = std::move(env)});
}

std::string Agent::log() const { return read_file(log_file_); }

std::string Agent::metrics_url(std::chrono::milliseconds timeout) const {
  constexpr std::string_view kLine = "\"msg\":\"metrics server listening\"";
  std::string url;
  eventually(
      [&] {
        std::string text = log();
        auto at = text.find(kLine);
        if (at == std::string::npos) return false;
        auto field = text.find("\"address\":\"", at);
        if (field == std::string::npos) return false;
        field += 11;
        url = "http://" + text.substr(field, text.find('"', field) - field);
        return true;
      },
      timeout);
  return url;
}

int Agent::stop(std::chrono::milliseconds timeout) {
  process_->signal(SIGTERM);
  auto code = process_->wait(timeout);
  return code ? *code : -1;
}

}  // namespace auditship::testing
