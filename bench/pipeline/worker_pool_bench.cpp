// The parse+redact stage as the agent runs it (WorkerPool: N workers, batches back in order),
// with 1, 2 and 4 workers, default detectors, on the shared corpus cut into tailer batches.
// Issue #6 G5 compares the records/s of 2 workers with 1 (wall time: the point is cores).
//   build/bench/worker_pool_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <time.h>

#include <chrono>

#include "auditship/pipeline/worker_pool.h"
#include "common/batches.h"

namespace {

using namespace auditship;

double process_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

const std::vector<Batch>& batches() {
  static const auto b = bench::corpus_batches(bench::make_corpus(20000), 64 << 10);
  return b;
}

void BM_WorkerPool(benchmark::State& state) {
  auto redactor = redact::Redactor::make(redact::RedactConfig{});
  if (!redactor) return state.SkipWithError(redactor.error().c_str());
  const auto workers = static_cast<std::size_t>(state.range(0));
  std::size_t records = 0, bytes = 0, out_of_order = 0;
  double cpu = 0, wall = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<BatchPtr> work;
    for (const auto& b : batches()) work.push_back(std::make_unique<Batch>(bench::copy_batch(b)));
    std::uint64_t expected_begin = 0;
    pipeline::WorkerPool pool({workers, 16, {"generation_id", "bench-host"}}, (*redactor)->clone(),
                              [&](BatchPtr b) {
                                if (b->begin_offset != expected_begin) ++out_of_order;
                                expected_begin = b->end_offset;
                                records += b->records.size();
                                bytes += b->input.size();
                              });
    state.ResumeTiming();
    const double cpu0 = process_cpu_seconds();
    const auto wall0 = std::chrono::steady_clock::now();
    for (auto& b : work) pool.push(std::move(b));
    pool.close_and_join();
    cpu += process_cpu_seconds() - cpu0;
    wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  }
  if (out_of_order != 0) state.SkipWithError("batches left the pool out of order");
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  // Cores the stage actually got (CPU seconds per wall second): on a loaded host the second
  // worker may find no free core, and this says so next to the records/s.
  state.counters["cores_used"] = wall > 0 ? cpu / wall : 0;
  state.counters["cpu_us_per_record"] = records > 0 ? cpu * 1e6 / static_cast<double>(records) : 0;
}
BENCHMARK(BM_WorkerPool)->Arg(1)->Arg(2)->Arg(4)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
