// Lookups/s and client CPU per lookup of GenerationFetcher against the fake endpoint as a
// separate process (so getrusage counts only the client) on loopback, TLS on, 50 ms added
// latency, at pool sizes 8/64/256 (and 512: 256 x 50 ms caps a pool at 5,120/s). The server binary: $AUDITSHIP_FAKE_SERVER, else
// ../tests/auditship-fake-generation-server next to this binary.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>

#include "auditship/enrich/generation_fetcher.h"

extern char** environ;

namespace {

using namespace auditship::enrich;
using namespace std::chrono_literals;

class ServerProcess {
 public:
  explicit ServerProcess(int latency_ms) {
    std::string exe = std::getenv("AUDITSHIP_FAKE_SERVER") ? std::getenv("AUDITSHIP_FAKE_SERVER") : "";
    if (exe.empty())
      exe = (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "../tests/auditship-fake-generation-server")
                .string();
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    const std::string latency = std::to_string(latency_ms);
    char* argv[] = {exe.data(), const_cast<char*>("--latency-ms"), const_cast<char*>(latency.c_str()), nullptr};
    if (posix_spawn(&pid_, exe.c_str(), &fa, nullptr, argv, environ) != 0) throw std::runtime_error("spawn " + exe);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    FILE* f = ::fdopen(out[0], "r");
    char line[512];
    while ((url_.empty() || ca_.empty()) && std::fgets(line, sizeof line, f)) {
      std::string s(line);
      while (!s.empty() && s.back() == '\n') s.pop_back();
      if (s.rfind("url=", 0) == 0) url_ = s.substr(4);
      if (s.rfind("ca_file=", 0) == 0) ca_ = s.substr(8);
    }
    std::fclose(f);
    if (url_.empty()) throw std::runtime_error("fake server printed no url");
  }
  ~ServerProcess() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  const std::string& url() const { return url_; }
  const std::string& ca() const { return ca_; }

 private:
  pid_t pid_ = 0;
  std::string url_, ca_;
};

double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void BM_FetcherLoopbackTls(benchmark::State& state) {
  const auto pool = static_cast<std::uint32_t>(state.range(0));
  static ServerProcess server(50);
  EnrichConfig c;
  c.enabled = true;
  c.endpoint = server.url();
  c.ca_file = server.ca();
  c.pool_size = pool;
  c.max_in_flight = pool;
  c.max_rps = 1e6;
  c.initial_delay = 0ms;
  c.cache_size = 0;  // every lookup goes to the wire
  std::mutex mu;
  std::condition_variable cv;
  std::size_t done = 0, ok = 0, expected = 0;
  auto fetcher = GenerationFetcher::make(c, ApiKeys::from_pairs({{"default", "sk-or-v1-bench"}}),
                                         [&](const std::string&, LookupResultPtr r) {
                                           std::lock_guard lk(mu);
                                           ++done;
                                           ok += r->status == LookupStatus::kOk;
                                           // Once per run, as the Enricher wakes its emitter
                                           // per completed batch: a wake-up per result would
                                           // be the harness's CPU, counted as the fetcher's.
                                           if (done == expected) cv.notify_one();
                                         });
  if (!fetcher) {
    state.SkipWithError(fetcher.error().c_str());
    return;
  }
  static std::atomic<std::uint64_t> next_id{0};
  auto run = [&](std::size_t n) {
    std::vector<LookupRequest> reqs;
    for (std::size_t i = 0; i < n; ++i)
      reqs.push_back({"gen-bench-" + std::to_string(next_id++), 0, std::chrono::steady_clock::now()});
    {
      std::lock_guard lk(mu);
      done = ok = 0;
      expected = n;
    }
    (*fetcher)->submit(std::move(reqs));
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return done == n; });
    if (ok != n) state.SkipWithError("a lookup did not resolve ok");
  };
  run(pool);  // open and warm the pool: TLS handshakes are not what is measured
  // About one second of work at the ideal pool/latency rate.
  const std::size_t n = static_cast<std::size_t>(pool) * 20;
  double cpu = 0, wall = 0;
  for (auto _ : state) {
    const double c0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    run(n);
    wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu += cpu_seconds() - c0;
  }
  const double lookups = static_cast<double>(n) * static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(lookups));
  state.counters["lookups_per_s"] = lookups / wall;
  state.counters["cpu_us_per_lookup"] = cpu / lookups * 1e6;
  state.counters["cpu_cores"] = cpu / wall;
}
BENCHMARK(BM_FetcherLoopbackTls)->Arg(8)->Arg(64)->Arg(256)->Arg(512)->Iterations(3)->Repetitions(3)->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The Enrich stage's per-record work once a lookup resolved: splice the exact cost and append
// the `openrouter` and `enrichment` objects to a realistic audit line.
void BM_RewriteRecord(benchmark::State& state) {
  const std::string line =
      R"({"timestamp":"2026-08-21T18:40:11.200Z","generation_id":"gen-1755808812-Qm3x9Lr2Tz8VbN4cKp1W",)"
      R"("model_requested":"openrouter/auto","model_used":"anthropic/claude-sonnet-4","prompt_tokens":1234,)"
      R"("completion_tokens":321,"total_cost":0,"latency_ms":2311.5,"status":"success","user_id":"[EMAIL]",)"
      R"("prompt_hash":"9f2c1a0b7d3e4f56","error_code":null,"metadata":{"app":"billing","env":"prod"}})";
  GenerationParser parser(field_mask(all_generation_fields()));
  const std::string body =
      R"({"data":{"id":"gen-1755808812-Qm3x9Lr2Tz8VbN4cKp1W","total_cost":0.004206,"usage":0.004206,)"
      R"("cache_discount":null,"upstream_inference_cost":0,"created_at":"2026-08-21T18:40:12.481Z",)"
      R"("model":"anthropic/claude-sonnet-4","provider_name":"Amazon Bedrock","router":null,"streamed":true,)"
      R"("cancelled":false,"is_byok":false,"latency":2203,"generation_time":2011,"moderation_latency":null,)"
      R"("finish_reason":"stop","native_finish_reason":"end_turn","tokens_prompt":1234,"tokens_completion":321,)"
      R"("native_tokens_prompt":1301,"native_tokens_completion":330,"native_tokens_reasoning":0,)"
      R"("native_tokens_cached":0,"data_region":"global"}})";
  auto g = parser.parse(body);
  LookupResult result;
  result.status = LookupStatus::kOk;
  result.attempts = 1;
  result.resolved_at_ms = 1755808813000;
  result.total_cost = g->total_cost;
  result.openrouter = g->openrouter;
  RecordRewriter rewriter;
  std::string out;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(rewriter.rewrite(line, result, {}, out));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * line.size()));
}
BENCHMARK(BM_RewriteRecord);

}  // namespace

BENCHMARK_MAIN();
