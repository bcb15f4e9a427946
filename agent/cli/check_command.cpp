// auditship check -c FILE: validates a config and prints the effective config.
#include <cstdio>

#include "auditship/cli/commands.h"
#include "auditship/cli/options.h"
#include "auditship/config/config.h"
#include "auditship/config/secrets.h"
#include "auditship/enrich/generation_fetcher.h"
#include "auditship/enrich/proxy.h"

namespace auditship::cli {

int check_command(const Args& args) {
  Options opts(args, "auditship check -c FILE [--reference]",
               {{"config", 'c', true, "config file to validate"},
                {"reference", 0, false, "print the configuration reference (Markdown) and exit"}});
  if (opts.exit_code()) return *opts.exit_code();
  if (opts.has("reference")) {
    std::fputs(config::reference_markdown().c_str(), stdout);
    return 0;
  }
  if (!opts.has("config")) {
    std::fprintf(stderr, "error: -c FILE is required\n");
    return 2;
  }
  auto loaded = config::load(opts.get("config"));
  if (!loaded) {
    std::fprintf(stderr, "%s\n", loaded.error().c_str());
    return 1;
  }
  for (const auto& warning : config::exposed_secrets(opts.get("config"), *loaded))
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  if (loaded->enrich.enabled) {
    // Read from this process's environment, which under systemd is the agent's (ExecStartPre).
    auto route = enrich::GenerationFetcher::route(loaded->enrich);
    if (!route) {
      std::fprintf(stderr, "%s: enrich: %s\n", opts.get("config").c_str(), route.error().c_str());
      return 1;
    }
    std::fprintf(stderr, "enrich: lookups reach %s %s\n", loaded->enrich.endpoint.c_str(), route->c_str());
  }
  // The effective config ends up in terminals and CI logs: never print a secret value.
  for (auto& [key, value] : loaded->kafka.properties)
    if (config::is_secret_property(key)) value = "<redacted>";
  loaded->enrich.proxy = enrich::without_credentials(loaded->enrich.proxy);
  std::fputs(config::to_yaml(*loaded).c_str(), stdout);
  std::fprintf(stderr, "%s: ok\n", opts.get("config").c_str());
  return 0;
}

}  // namespace auditship::cli
