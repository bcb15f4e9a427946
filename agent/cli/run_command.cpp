// auditship run -c FILE: the daemon, in the foreground.
#include <cstdio>

#include "auditship/cli/commands.h"
#include "auditship/cli/options.h"

namespace auditship::cli {

int run_command(const Args& args) {
  Options opts(args, "auditship run -c FILE [--once]",
               {{"config", 'c', true, "config file"},
                {"once", 0, false, "exit once every file is shipped to its end and acknowledged"}});
  if (opts.exit_code()) return *opts.exit_code();
  std::fprintf(stderr, "run: not implemented yet\n");
  return 1;
}

}  // namespace auditship::cli
