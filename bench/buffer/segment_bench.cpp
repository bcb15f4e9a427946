// Disk buffer format: what spilling costs per batch (encode + zstd level 1 + checksums) and
// what replay costs (scan + checksums + zstd decompress + rebuild), on the audit corpus cut
// into tailer-sized batches. Bytes are the records' payload bytes, as the pipeline counts them.
//   build/bench/segment_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include "auditship/buffer/segment.h"
#include "common/batches.h"

namespace {

using namespace auditship;

const std::vector<Batch>& batches() {
  static const auto b = bench::corpus_batches(bench::make_corpus(20000));
  return b;
}

std::size_t payload_bytes() {
  std::size_t n = 0;
  for (const Batch& b : batches())
    for (const Record& r : b.records) n += b.payload(r).size();
  return n;
}

void BM_SpillEncode(benchmark::State& state) {
  std::size_t frames = 0, compressed = 0;
  for (auto _ : state) {
    for (const Batch& b : batches()) {
      std::string f = buffer::encode_frame(b);
      compressed += f.size();
      benchmark::DoNotOptimize(f.data());
      ++frames;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(payload_bytes() * state.iterations()));
  state.SetItemsProcessed(static_cast<int64_t>(frames));
  state.counters["ratio"] = static_cast<double>(payload_bytes() * state.iterations()) / static_cast<double>(compressed);
}
BENCHMARK(BM_SpillEncode)->Unit(benchmark::kMillisecond);

void BM_ReplayDecode(benchmark::State& state) {
  std::string seg = buffer::segment_header();
  for (const Batch& b : batches()) seg += buffer::encode_frame(b);
  // Check once before timing: every frame comes back with all its records.
  std::size_t records = 0;
  for (std::size_t pos = buffer::kSegmentHeaderBytes; pos < seg.size();) {
    auto s = buffer::scan_frame(seg, pos);
    auto batch = s.kind == buffer::FrameScan::kFrame ? buffer::decode_frame(s) : Result<BatchPtr>(Error{"bad frame"});
    if (!batch) return state.SkipWithError("a frame did not decode");
    records += (*batch)->records.size();
    pos = s.end;
  }
  std::size_t expect = 0;
  for (const Batch& b : batches()) expect += b.records.size();
  if (records != expect) return state.SkipWithError("records lost in the round trip");
  for (auto _ : state) {
    for (std::size_t pos = buffer::kSegmentHeaderBytes; pos < seg.size();) {
      auto s = buffer::scan_frame(seg, pos);
      auto batch = buffer::decode_frame(s);
      benchmark::DoNotOptimize(batch);
      pos = s.end;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(payload_bytes() * state.iterations()));
  state.SetItemsProcessed(static_cast<int64_t>(expect * state.iterations()));
}
BENCHMARK(BM_ReplayDecode)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
