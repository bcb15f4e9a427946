#pragma once
// Subcommands of the `auditship` binary. Each lives in agent/cli/<name>.cpp and registers in
// the table in agent/cli/commands.cpp.
#include <string>
#include <vector>

namespace auditship::cli {

using Args = std::vector<std::string>;  // arguments after the subcommand name

int main(int argc, char** argv);

int run_command(const Args& args);     // auditship run -c FILE [--once]
int check_command(const Args& args);   // auditship check -c FILE
int redact_command(const Args& args);  // auditship redact [-c FILE]
int status_command(const Args& args);  // auditship status [--url URL]

// Shared option parsing: returns false (after printing usage) on a bad command line.
struct CommonOptions {
  std::string config_file;
  bool help = false;
};

}  // namespace auditship::cli
