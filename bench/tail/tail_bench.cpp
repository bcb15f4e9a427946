// Tail+split stage: cutting file bytes into line records (the tailer's hot loop), and the
// whole FileTailer reading a real file to its end.
//   build/bench/tail_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "auditship/checkpoint/checkpoint_lookup.h"
#include "auditship/tail/file_tailer.h"
#include "auditship/tail/line_splitter.h"
#include "common/batches.h"

namespace {

using namespace auditship;

const std::string& text() {
  static const std::string t = bench::corpus_text(bench::make_corpus(20000));
  return t;
}

void BM_LineSplitter(benchmark::State& state) {
  const std::string& t = text();
  const std::size_t chunk = 256 << 10;
  std::vector<Record> records;
  std::string input;
  std::size_t lines = 0;
  for (auto _ : state) {
    tail::LineSplitter splitter(1 << 20, 1024);
    for (std::size_t at = 0; at < t.size(); at += chunk) {
      records.clear();
      splitter.begin(input);
      input.append(t, at, chunk);
      splitter.split(input, records);
      lines += records.size();
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * t.size()));
  state.SetItemsProcessed(static_cast<int64_t>(lines));
}
BENCHMARK(BM_LineSplitter)->Unit(benchmark::kMillisecond);

class NoCheckpoints : public checkpoint::CheckpointLookup {
 public:
  std::optional<checkpoint::Checkpoint> find(std::uint64_t, std::uint64_t) const override { return std::nullopt; }
};

// The FileTailer reading one file from 0 to its end: read(2), split, batch, emit.
void BM_FileTailerReadsFile(benchmark::State& state) {
  const std::string dir = std::filesystem::temp_directory_path() / "auditship-tail-bench";
  std::filesystem::create_directories(dir);
  const std::string file = dir + "/bench.jsonl";
  std::ofstream(file, std::ios::trunc | std::ios::binary) << text();
  std::size_t lines = 0;
  for (auto _ : state) {
    NoCheckpoints none;
    MemoryBudget budget(64 << 20);
    std::atomic<std::uint64_t> done{0};
    tail::TailerOptions options;
    options.sources = {config::SourceConfig{dir + "/*.jsonl", {}, "beginning"}};
    auto tailer = tail::FileTailer::make(options, none, budget, [&](BatchPtr b) {
      done.fetch_add(b->records.size());
      lines += b->records.size();
    });
    (*tailer)->start();
    while (done.load() < 20000) std::this_thread::yield();
    (*tailer)->stop();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text().size()));
  state.SetItemsProcessed(static_cast<int64_t>(lines));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_FileTailerReadsFile)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
