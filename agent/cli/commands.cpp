#include "auditship/cli/commands.h"

#include <hs/hs.h>
#include <librdkafka/rdkafka.h>
#include <openssl/crypto.h>
#include <simdjson.h>
#include <sqlite3.h>
#include <zstd.h>

#include <boost/version.hpp>
#include <cstdio>
#include <cstring>
#include <string>

namespace auditship::cli {
namespace {

struct Command {
  const char* name;
  int (*fn)(const Args&);
  const char* summary;
};

// The libraries this binary runs with (shared, so they follow the host's packages), and the
// simdjson kernel this CPU selected: what a bug report needs besides our version.
int version_command(const Args&) {
  std::printf("auditship %s\n", AUDITSHIP_VERSION);
  std::printf("  librdkafka  %s\n", rd_kafka_version_str());
  std::printf("  hyperscan   %s\n", hs_version());
  std::printf("  simdjson    %d.%d.%d (%s kernel)\n", simdjson::SIMDJSON_VERSION_MAJOR, simdjson::SIMDJSON_VERSION_MINOR,
              simdjson::SIMDJSON_VERSION_REVISION, std::string(simdjson::get_active_implementation()->name()).c_str());
  std::printf("  openssl     %s\n", OpenSSL_version(OPENSSL_VERSION));
  std::printf("  zstd        %s\n", ZSTD_versionString());
  std::printf("  sqlite      %s\n", sqlite3_libversion());
  std::printf("  boost       %d.%d.%d\n", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100);
  return 0;
}

constexpr Command kCommands[] = {
    {"run", run_command, "follow audit files and ship them (the daemon, in the foreground)"},
    {"check", check_command, "validate a config file and print the effective config"},
    {"redact", redact_command, "redact JSON lines from stdin to stdout with the configured detectors"},
    {"status", status_command, "show a running agent's lag, throughput, enrichment and errors"},
    {"version", version_command, "print the version"},
};

void usage(std::FILE* out) {
  std::fprintf(out, "usage: auditship <command> [options]\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out, "\nRun 'auditship <command> --help' for a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(stdout);
    return 0;
  }
  if (name == "--version") name = "version";
  Args args(argv + 2, argv + argc);
  for (const auto& c : kCommands)
    if (name == c.name) return c.fn(args);
  std::fprintf(stderr, "auditship: unknown command '%s'\n\n", name.c_str());
  usage(stderr);
  return 2;
}

}  // namespace auditship::cli
