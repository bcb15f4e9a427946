#include "auditship/config/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "auditship/common/log.h"
#include "auditship/metrics/metrics_server.h"

namespace auditship::config {
namespace fs = std::filesystem;

void Checker::fail(const std::string& key, std::string message) {
  std::string p = path(key);
  int line = 0;
  // The key itself, else the nearest enclosing section that has a line.
  for (std::string probe = p; !probe.empty();) {
    if (auto it = lines_.find(probe); it != lines_.end()) {
      line = it->second;
      break;
    }
    auto cut = probe.find_last_of(".[");
    probe = cut == std::string::npos ? std::string() : probe.substr(0, cut);
  }
  problems_.push_back({line, p, std::move(message)});
}

namespace {

// A glob we can expand: brackets balanced, no recursive `**` (not supported by glob(3)).
std::string glob_problem(const std::string& glob) {
  if (glob.empty()) return "is empty";
  if (glob.back() == '/') return "names a directory; add a file pattern such as '*.jsonl'";
  if (glob.find("**") != std::string::npos) return "'**' is not supported; list each directory level with '*'";
  int depth = 0;
  for (std::size_t i = 0; i < glob.size(); ++i) {
    if (glob[i] == '\\') { ++i; continue; }
    if (glob[i] == '[') {
      if (depth) return "has a '[' inside a bracket expression";
      depth = 1;
    } else if (glob[i] == ']' && depth) {
      depth = 0;
    }
  }
  if (depth) return "has an unclosed '['";
  return {};
}

std::string state_dir_problem(const std::string& dir) {
  if (dir.empty()) return "is required";
  std::error_code ec;
  fs::path p(dir);
  if (fs::exists(p, ec)) {
    if (!fs::is_directory(p, ec)) return "'" + dir + "' exists but is not a directory";
    if (::access(dir.c_str(), R_OK | W_OK | X_OK) != 0)
      return "'" + dir + "' is not readable and writable by this user";
    return {};
  }
  // Created at start: its nearest existing ancestor must be a writable directory.
  for (fs::path up = fs::absolute(p, ec).parent_path(); !up.empty(); up = up.parent_path()) {
    if (fs::exists(up, ec)) {
      if (!fs::is_directory(up, ec)) return "cannot be created: '" + up.string() + "' is not a directory";
      if (::access(up.c_str(), W_OK | X_OK) != 0)
        return "cannot be created: '" + up.string() + "' is not writable by this user";
      return {};
    }
    if (up == up.root_path()) break;
  }
  return "cannot be created";
}

Result<Config> parse(const YAML::Node& root, const std::string& name, const LoadOptions& options) {
  std::vector<Problem> problems;
  std::map<std::string, int> lines;
  Config config;
  if (!root.IsMap()) return Error{name + ": the config must be a YAML map of options"};
  Reader reader(root, "", problems, lines);
  config.visit(reader);
  reader.finish();
  Checker check(problems, lines);
  config.validate(check);
  if (options.check_state_dir) {
    if (auto p = state_dir_problem(config.state_dir); !p.empty()) check.fail("state_dir", p);
    // The database's directory is created at start like state_dir; `check` should catch the same.
    if (config.sqlite.enabled() && config.sqlite.path.back() != '/') {
      std::string dir = fs::path(config.sqlite.path).parent_path().string();
      if (auto p = state_dir_problem(dir.empty() ? "." : dir); !p.empty())
        check.sub("sqlite").fail("path", "its directory " + p);
    }
  }
  if (problems.empty()) return config;
  std::sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) { return a.line < b.line; });
  std::string message;
  for (const auto& p : problems) message += p.to_string(name) + "\n";
  message.pop_back();
  return Error{message};
}

}  // namespace

void Config::validate(Checker& check) const {
  if (sources.empty()) check.fail("sources", "at least one source is required");
  for (std::size_t i = 0; i < sources.size(); ++i) {
    Checker s = check.sub("sources[" + std::to_string(i) + "]");
    if (auto p = glob_problem(sources[i].path); !p.empty()) s.fail("path", "glob '" + sources[i].path + "' " + p);
    for (const auto& ex : sources[i].exclude)
      if (auto p = glob_problem(ex); !p.empty()) s.fail("exclude", "glob '" + ex + "' " + p);
    if (sources[i].read_from != "beginning" && sources[i].read_from != "end")
      s.fail("read_from", "must be 'beginning' or 'end', got '" + sources[i].read_from + "'");
  }
  if (on_corrupt_checkpoint != "fail" && on_corrupt_checkpoint != "restart_from_beginning")
    check.fail("on_corrupt_checkpoint", "must be 'fail' or 'restart_from_beginning', got '" + on_corrupt_checkpoint + "'");
  if (max_line_bytes < 64) check.fail("max_line_bytes", "must be at least 64 bytes");
  Checker p = check.sub("pipeline");
  if (pipeline.read_chunk_bytes < 4096) p.fail("read_chunk_bytes", "must be at least 4KiB");
  if (pipeline.max_in_flight_bytes < 2 * pipeline.read_chunk_bytes)
    p.fail("max_in_flight_bytes", "must be at least twice pipeline.read_chunk_bytes");
  if (pipeline.checkpoint_interval.count() <= 0) p.fail("checkpoint_interval", "must be positive");
  if (pipeline.rescan_interval.count() <= 0) p.fail("rescan_interval", "must be positive");
  if (pipeline.batch_wait.count() < 0) p.fail("batch_wait", "must not be negative");
  if (pipeline.workers < 0 || pipeline.workers > 64) p.fail("workers", "must be 0 (automatic) to 64");
  Checker k = check.sub("kafka");
  if (kafka.brokers.empty() && !sqlite.enabled())
    k.fail("brokers", "is required unless sqlite.path is set: a bootstrap list such as 'host1:9092,host2:9092', "
                      "or 'embedded'");
  if (kafka.topic.empty()) k.fail("topic", "is required");
  if (kafka.dead_letter_topic.empty()) k.fail("dead_letter_topic", "is required");
  if (kafka.dead_letter_topic == kafka.topic) k.fail("dead_letter_topic", "must differ from kafka.topic");
  if (kafka.embedded_partitions < 1 || kafka.embedded_partitions > 256) k.fail("embedded_partitions", "must be 1..256");
  for (const char* owned : {"bootstrap.servers", "metadata.broker.list"})
    if (kafka.properties.count(owned)) k.fail("properties." + std::string(owned), "set kafka.brokers instead");
  for (const char* owned : {"dr_msg_cb", "dr_cb", "opaque"})
    if (kafka.properties.count(owned)) k.fail("properties." + std::string(owned), "is set by the agent");
  Checker bu = check.sub("buffer");
  buffer.validate(bu);
  if (buffer.enabled() && kafka.brokers.empty()) bu.fail("max_disk_bytes", "buffers Kafka: needs kafka.brokers");
  Checker sq = check.sub("sqlite");
  sqlite.validate(sq);
  Checker r = check.sub("redact");
  redact.validate(r);
  Checker e = check.sub("enrich");
  enrich.validate(e);
  if (!log::parse_level(log.level)) check.sub("log").fail("level", "must be debug, info, warn or error");
  Checker o = check.sub("output");
  output.validate(o);
  if (!metrics.listen.empty()) {
    std::string host;
    std::uint16_t port = 0;
    if (!metrics::split_host_port(metrics.listen, host, port))
      check.sub("metrics").fail("listen", "must be host:port (e.g. 127.0.0.1:9464) or empty, got '" + metrics.listen + "'");
  }
}

Result<Config> load_string(const std::string& yaml, const std::string& name, const LoadOptions& options) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return Error{name + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg};
  }
  return parse(root, name, options);
}

Result<Config> load(const std::string& file, const LoadOptions& options) {
  std::ifstream in(file);
  if (!in) return Error{file + ": cannot read the config file: " + std::strerror(errno)};
  std::stringstream ss;
  ss << in.rdbuf();
  return load_string(ss.str(), file, options);
}

std::string to_yaml(Config& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  Emitter emitter(out);
  config.visit(emitter);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string reference_markdown() {
  std::string out = "| key | type | default | meaning |\n|---|---|---|---|\n";
  Config defaults;
  Documenter doc(out);
  defaults.visit(doc);
  return out;
}

}  // namespace auditship::config
