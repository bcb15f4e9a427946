// auditship status [--url URL]: a human view of a running agent, from two /metrics scrapes.
#include <chrono>
#include <cstdio>
#include <thread>

#include "auditship/cli/commands.h"
#include "auditship/cli/options.h"
#include "auditship/metrics/scrape.h"
#include "auditship/metrics/status_view.h"

namespace auditship::cli {

int status_command(const Args& args) {
  Options opts(args, "auditship status [--url URL] [--interval SECONDS]",
               {{"url", 0, true, "the agent's metrics endpoint (default http://127.0.0.1:9464)"},
                {"interval", 0, true, "seconds between the two scrapes rates are taken over (default 1)"}});
  if (opts.exit_code()) return *opts.exit_code();
  std::string url = opts.get("url", "http://127.0.0.1:9464");
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.size() < 8 || url.compare(url.size() - 8, 8, "/metrics") != 0) url += "/metrics";
  double interval = 1;
  try {
    interval = std::stod(opts.get("interval", "1"));
  } catch (const std::exception&) {
    interval = -1;
  }
  if (!(interval > 0 && interval <= 600)) {
    std::fprintf(stderr, "error: --interval must be a number of seconds in (0, 600]\n");
    return 2;
  }
  using Clock = std::chrono::steady_clock;
  constexpr auto kTimeout = std::chrono::seconds(5);
  auto scrape = [&](metrics::Samples& out) -> bool {
    auto res = metrics::http_get(url, kTimeout);
    if (!res) {
      std::fprintf(stderr, "cannot reach the agent: %s\n(is it running with metrics.listen set?)\n",
                   res.error().c_str());
      return false;
    }
    if (res->status != 200) {
      std::fprintf(stderr, "GET %s answered HTTP %d\n", url.c_str(), res->status);
      return false;
    }
    out = metrics::parse_prometheus(res->body);
    return true;
  };
  metrics::Samples before, after;
  auto t0 = Clock::now();
  if (!scrape(before)) return 1;
  std::this_thread::sleep_for(std::chrono::duration<double>(interval));
  auto t1 = Clock::now();
  if (!scrape(after)) return 1;
  std::printf("auditship at %s (rates over %.1f s)\n%s", url.c_str(),
              std::chrono::duration<double>(t1 - t0).count(),
              metrics::render_status(before, after, std::chrono::duration<double>(t1 - t0).count()).c_str());
  return 0;
}

}  // namespace auditship::cli
