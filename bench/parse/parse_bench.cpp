// Parse stage: full validation and field extraction of each record (simdjson DOM), per batch.
//   build/bench/parse_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include "auditship/parse/parser.h"
#include "common/batches.h"

namespace {

using namespace auditship;

const std::vector<Batch>& batches() {
  static const auto b = bench::corpus_batches(bench::make_corpus(20000));
  return b;
}

void BM_Parser(benchmark::State& state) {
  parse::Parser parser({"generation_id", "bench-host"});
  std::vector<Batch> work;
  for (const auto& b : batches()) work.push_back(bench::copy_batch(b));
  // Check once before timing: every corpus line is a valid record.
  for (auto& b : work) {
    parser.process(b);
    for (const auto& r : b.records)
      if (r.disposition != Disposition::kShip) state.SkipWithError("corpus line failed to parse");
  }
  std::size_t bytes = 0, records = 0;
  for (auto _ : state) {
    for (auto& b : work) {
      b.fields.clear();
      b.output.clear();
      parser.process(b);
      bytes += b.input.size();
      records += b.records.size();
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(records));
}
BENCHMARK(BM_Parser)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
