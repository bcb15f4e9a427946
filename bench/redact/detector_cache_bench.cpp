// What building the Redactor of the default detectors costs, compiled vs loaded from the
// detector cache (redact/detector_cache.h): the work the agent does at every start and reload.
//
//   ninja -C build detector_cache_bench && build/bench/detector_cache_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "auditship/common/log.h"
#include "auditship/redact/detector_cache.h"
#include "auditship/redact/redactor.h"

namespace {

using auditship::redact::Redactor;
using auditship::redact::RedactConfig;

void BM_MakeRedactor_Compiled(benchmark::State& state) {
  for (auto _ : state) {
    auto r = Redactor::make(RedactConfig{});
    if (!r) state.SkipWithError(r.error().c_str());
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_MakeRedactor_Compiled)->Unit(benchmark::kMillisecond);

void BM_MakeRedactor_FromCache(benchmark::State& state) {
  auditship::log::set_level(auditship::log::Level::kWarn);  // one info line per load otherwise
  const std::string dir = std::filesystem::temp_directory_path() / ("auditship-cache-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = auditship::redact::detector_cache_file(dir);
  if (!Redactor::make(RedactConfig{}, file)) state.SkipWithError("cannot write the cache");  // the first start
  for (auto _ : state) {
    auto r = Redactor::make(RedactConfig{}, file);
    if (!r) state.SkipWithError(r.error().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.counters["cache_bytes"] = static_cast<double>(std::filesystem::file_size(file));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_MakeRedactor_FromCache)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
