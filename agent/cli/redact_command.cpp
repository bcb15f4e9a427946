// auditship redact [-c FILE]: JSON lines on stdin -> redacted JSON lines on stdout.
#include <cstdio>
#include <iostream>
#include <string>

#include "auditship/cli/commands.h"
#include "auditship/cli/options.h"
#include "auditship/config/config.h"
#include "auditship/redact/redactor.h"

namespace auditship::cli {

int redact_command(const Args& args) {
  Options opts(args, "auditship redact [-c FILE] < in.jsonl > out.jsonl",
               {{"config", 'c', true, "config file whose `redact:` section to use (default: built-in detectors)"}});
  if (opts.exit_code()) return *opts.exit_code();
  redact::RedactConfig rc;
  if (opts.has("config")) {
    auto loaded = config::load(opts.get("config"), {.check_state_dir = false});
    if (!loaded) {
      std::fprintf(stderr, "%s\n", loaded.error().c_str());
      return 1;
    }
    rc = loaded->redact;
  }
  auto redactor = redact::Redactor::make(rc);
  if (!redactor) {
    std::fprintf(stderr, "error: %s\n", redactor.error().c_str());
    return 1;
  }
  std::ios::sync_with_stdio(false);
  std::string line, out;
  std::size_t number = 0;
  int status = 0;
  while (std::getline(std::cin, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.clear();
    if (!(*redactor)->redact_json(line, out)) {
      std::fprintf(stderr, "line %zu: not valid JSON, skipped\n", number);
      status = 1;
      continue;
    }
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  return status;
}

}  // namespace auditship::cli
