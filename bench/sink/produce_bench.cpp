// Produce stage: KafkaSink producing every record of the corpus (zstd, acks=all, idempotent)
// to an in-process mock cluster and waiting for every acknowledgement. The mock broker runs in
// this process, so CPU time includes the broker's share: compare runs, not absolute values.
//   build/bench/produce_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <atomic>

#include "auditship/sink/embedded_broker.h"
#include "auditship/sink/kafka_sink.h"
#include "common/batches.h"

namespace {

using namespace auditship;

class CountingListener : public sink::DeliveryListener {
 public:
  void delivered(const Batch&, std::size_t) override { acked.fetch_add(1, std::memory_order_relaxed); }
  std::atomic<std::uint64_t> acked{0};
};

void BM_KafkaSinkProduce(benchmark::State& state) {
  static const auto batches = bench::corpus_batches(bench::make_corpus(20000));
  auto broker = sink::EmbeddedBroker::start(1, 16, {"openrouter-audit", "openrouter-audit-dlq"});
  config::KafkaConfig cfg;
  cfg.topic = "openrouter-audit";
  cfg.dead_letter_topic = "openrouter-audit-dlq";
  cfg.properties["compression.level"] = std::to_string(state.range(0));
  CountingListener listener;
  auto kafka = sink::KafkaSink::make(cfg, (*broker)->bootstrap(), 64 << 20, "bench-host", listener);
  if (!kafka) return state.SkipWithError(kafka.error().c_str());
  std::size_t bytes = 0, records = 0;
  for (auto _ : state) {
    for (const auto& b : batches) {
      auto copy = std::make_unique<Batch>(bench::copy_batch(b));
      for (auto& r : copy->records) r.payload = r.raw;
      bytes += copy->input.size();
      records += copy->records.size();
      (*kafka)->send(std::move(copy));
    }
    if (!(*kafka)->flush(std::chrono::seconds(60))) state.SkipWithError("not all records acknowledged");
  }
  if (listener.acked.load() != records) state.SkipWithError("acknowledged count differs from produced");
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(records));
}
BENCHMARK(BM_KafkaSinkProduce)->Arg(1)->Arg(3)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
