// SqliteSink throughput: the shared corpus in batches the size the tailer reads (256 KiB),
// into a fresh database file, one transaction per batch with synchronous=FULL (an fsync per
// commit), timed until the last batch is committed and acknowledged. BM_SqliteDuplicates sends
// the same records again: the INSERT OR IGNORE path a restart takes. BM_SqliteCommitPerRecord
// is the seed's pattern (conn.commit() after every INSERT): one record per transaction.
#include <benchmark/benchmark.h>

#include <atomic>
#include <filesystem>

#include "auditship/sink/sqlite_sink.h"
#include "common/audit_corpus.h"

namespace auditship::bench {
namespace {

constexpr std::size_t kRecords = 50000;
constexpr std::size_t kBatchBytes = 256 << 10;

class CountingListener : public sink::DeliveryListener {
 public:
  void delivered(const Batch&, std::size_t) override { acked.fetch_add(1, std::memory_order_relaxed); }
  std::atomic<std::uint64_t> acked{0};
};

// The corpus as batches of about kBatchBytes (or of one record), built once (not timed).
std::vector<BatchPtr> batches(const Corpus& corpus, bool one_per_batch) {
  std::vector<BatchPtr> out;
  BatchPtr b;
  std::uint64_t offset = 0;
  for (const std::string& line : corpus.lines) {
    if (!b || one_per_batch || b->input.size() + line.size() + 1 > kBatchBytes) {
      if (b) out.push_back(std::move(b));
      b = std::make_unique<Batch>();
    }
    Record r;
    r.file_offset = offset;
    r.line_bytes = line.size() + 1;
    r.payload = r.raw = {static_cast<std::uint32_t>(b->input.size()), static_cast<std::uint32_t>(line.size())};
    b->input += line;
    b->input += '\n';
    b->records.push_back(r);
    offset += r.line_bytes;
  }
  if (b) out.push_back(std::move(b));
  return out;
}

BatchPtr copy(const Batch& b) {
  auto c = std::make_unique<Batch>();
  c->input = b.input;
  c->records = b.records;
  return c;
}

void run(benchmark::State& state, bool duplicates, bool one_per_batch = false) {
  // One fsync per record is slow: fewer records keep that run short.
  const Corpus corpus = make_corpus(one_per_batch ? kRecords / 25 : kRecords);
  const std::vector<BatchPtr> input = batches(corpus, one_per_batch);
  const std::string dir = std::filesystem::temp_directory_path() / "auditship-sqlite-bench";
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    CountingListener listener;
    sink::SqliteConfig config;
    config.path = dir + "/audit.db";
    auto sink = sink::SqliteSink::make(config, listener);
    if (!sink) {
      state.SkipWithError(sink.error().c_str());
      return;
    }
    if (duplicates) {  // the rows are already there: every insert is ignored
      for (const BatchPtr& b : input) (*sink)->send(copy(*b));
      (*sink)->flush(std::chrono::minutes(5));
    }
    std::vector<BatchPtr> todo;
    for (const BatchPtr& b : input) todo.push_back(copy(*b));
    listener.acked = 0;
    state.ResumeTiming();
    for (BatchPtr& b : todo) (*sink)->send(std::move(b));
    if (!(*sink)->flush(std::chrono::minutes(5)) || listener.acked.load() != corpus.lines.size()) {
      state.SkipWithError("not every record was acknowledged");
      return;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * corpus.lines.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * corpus.bytes));
  std::filesystem::remove_all(dir);
}

void BM_SqliteInsert(benchmark::State& state) { run(state, false); }
void BM_SqliteDuplicates(benchmark::State& state) { run(state, true); }
void BM_SqliteCommitPerRecord(benchmark::State& state) { run(state, false, true); }
BENCHMARK(BM_SqliteInsert)->Iterations(3)->Repetitions(3)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SqliteDuplicates)->Iterations(3)->Repetitions(3)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SqliteCommitPerRecord)->Iterations(3)->Repetitions(3)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace auditship::bench

BENCHMARK_MAIN();
