#pragma once
// A small command-line option parser shared by the subcommands: `--name VALUE`, `-n VALUE`,
// `--name=VALUE`, flags, and `--help` (always accepted, prints the generated usage).
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace auditship::cli {

struct OptionSpec {
  const char* name;  // long name without dashes, e.g. "config"
  char short_name;   // e.g. 'c', or 0
  bool takes_value;
  const char* help;
};

class Options {
 public:
  // Parses; on --help prints usage to stdout and returns exit code 0 in `exit_code`; on an
  // error prints it and usage to stderr and sets exit code 2. Continue only if !exit_code.
  Options(const std::vector<std::string>& args, const char* usage_line, std::vector<OptionSpec> specs);
  [[nodiscard]] std::optional<int> exit_code() const { return exit_code_; }
  [[nodiscard]] bool has(const std::string& name) const { return values_.count(name) != 0; }
  [[nodiscard]] std::string get(const std::string& name, const std::string& fallback = {}) const;

 private:
  void usage(std::FILE* out) const;
  const char* usage_line_;
  std::vector<OptionSpec> specs_;
  std::map<std::string, std::string> values_;
  std::optional<int> exit_code_;
};

}  // namespace auditship::cli
