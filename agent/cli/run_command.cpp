// auditship run -c FILE: the daemon, in the foreground.
#include <malloc.h>

#include <csignal>
#include <cstdio>

#include "auditship/cli/commands.h"
#include "auditship/cli/options.h"
#include "auditship/common/log.h"
#include "auditship/config/config.h"
#include "auditship/config/secrets.h"
#include "auditship/pipeline/pipeline.h"
#include "auditship/sink/topic_reader.h"

namespace auditship::cli {
namespace {

std::atomic<int> g_stop{0};
std::atomic<int> g_reload{0};  // bumped by each SIGHUP; the pipeline reloads when it changes
static_assert(std::atomic<int>::is_always_lock_free, "written from a signal handler");

extern "C" void on_stop_signal(int sig) { g_stop.store(sig); }
extern "C" void on_reload_signal(int) { g_reload.fetch_add(1); }

// For the demo: what the embedded broker holds, so a newcomer sees what was shipped.
void show_shipped(const std::string& bootstrap, const config::KafkaConfig& kafka, std::size_t show) {
  for (const std::string& topic : {kafka.topic, kafka.dead_letter_topic}) {
    auto reader = sink::TopicReader::open(bootstrap, topic);
    if (!reader) {
      std::fprintf(stderr, "cannot read back topic %s: %s\n", topic.c_str(), reader.error().c_str());
      continue;
    }
    std::size_t count = 0;
    std::string shown;
    // Read up to what the topic holds: stopping at the first quiet 500 ms printed "0 messages"
    // on a slow machine, where the consumer's first fetch comes later than that.
    const auto expected = (*reader)->size(std::chrono::seconds(5));
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < give_up && (!expected || count < *expected)) {
      const std::size_t got = (*reader)->poll(std::chrono::milliseconds(500), [&](const sink::ConsumedMessage& m) {
        if (count++ < show) shown += "  [" + std::string(m.key) + "] " + std::string(m.value) + "\n";
      });
      if (!expected && got == 0) break;  // size unknown: stop once the topic is quiet
    }
    std::printf("== topic %s: %zu messages%s\n%s", topic.c_str(), count,
                count > show && show ? (", first " + std::to_string(show)).c_str() : "", shown.c_str());
  }
  std::fflush(stdout);
}

}  // namespace

int run_command(const Args& args) {
  Options opts(args, "auditship run -c FILE [--once] [--show N]",
               {{"config", 'c', true, "config file"},
                {"once", 0, false, "exit once every file is shipped to its end and acknowledged"},
                {"show", 0, true, "with kafka.brokers=embedded: print the first N shipped messages at exit"}});
  if (opts.exit_code()) return *opts.exit_code();
  if (!opts.has("config")) {
    std::fprintf(stderr, "error: -c FILE is required (see 'auditship run --help')\n");
    return 2;
  }
  auto loaded = config::load(opts.get("config"));
  if (!loaded) {
    std::fprintf(stderr, "%s\n", loaded.error().c_str());
    return 1;
  }
  config::Config& config = *loaded;
  // Memory kept for reuse while shipping. librdkafka allocates a message-set buffer per set
  // (and a zstd context, which sink/zstd_context_pool.h now keeps), and the tailer a read
  // buffer per batch, many times a second. At glibc's default thresholds these were mmapped
  // or trimmed and paged in again each time: about 8,000 page faults and 10 % of the agent's
  // CPU per 200,000 records (BENCHMARKS.md). They stay in the arena now, and the pipeline
  // hands free memory back with malloc_trim once it is idle (Pipeline::run). One arena for
  // all threads: what one thread frees another reuses, so peak RSS follows the memory bound
  // rather than the thread count (librdkafka runs a thread per broker); two arenas cost
  // 1.4-2 MB more for at most 3 % more records/s.
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
  log::set_level(*log::parse_level(config.log.level));
  for (const auto& warning : config::exposed_secrets(opts.get("config"), config))
    log::warn("secret readable by other users", {{"detail", warning}});

  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  struct sigaction hup {};
  hup.sa_handler = on_reload_signal;
  sigemptyset(&hup.sa_mask);
  sigaction(SIGHUP, &hup, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto pipeline = pipeline::Pipeline::make(config);
  if (!pipeline) {
    log::error("cannot start", {{"error", pipeline.error()}});
    return 1;
  }
  const std::string config_file = opts.get("config");
  int code = (*pipeline)->run(g_stop, {.once = opts.has("once"),
                                       .reload = &g_reload,
                                       .load_config = [config_file] { return config::load(config_file); }});
  if (code == 0 && config.kafka.brokers == "embedded" && opts.has("show"))
    show_shipped((*pipeline)->bootstrap(), config.kafka, std::stoul(opts.get("show", "0")));
  return code;
}

}  // namespace auditship::cli
