// Format stage cost per record: Formatter::process() on a batch of 1,000 seed-shaped records
// (~400 bytes each), for every output format. raw is the zero-copy baseline.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <stdexcept>

#include "auditship/format/formatter.h"

namespace {

using namespace auditship;

constexpr int kRecords = 1000;

std::string record(int i) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                R"({"timestamp":"2026-12-04T10:%02d:%02dZ","generation_id":"gen-1764806400-%08d","model_requested":"openai/gpt-4o-mini","model_used":"openai/gpt-4o-mini","prompt_tokens":2277,"completion_tokens":434,"total_cost":0.00062,"latency_ms":5176.0,"status":"%s","user_id":"u_%d","prompt_hash":"a09f76b5a170b338","error_code":null,"prompt_preview":"Summarize the quarterly report for the finance team."})",
                i / 60 % 60, i % 60, i, i % 10 ? "success" : "error", i % 50);
  return buf;
}

Batch make_batch() {
  Batch b;
  auto source = std::make_shared<SourceFile>();
  source->path = "/var/log/app/openrouter-audit.jsonl";
  b.source = source;
  for (int i = 0; i < kRecords; ++i) {
    Record r;
    r.file_offset = b.input.size();
    std::string line = record(i);
    r.payload = {static_cast<std::uint32_t>(b.input.size()), static_cast<std::uint32_t>(line.size())};
    b.input += line + "\n";
    b.records.push_back(r);
  }
  return b;
}

void BM_Format(benchmark::State& state, const char* format) {
  format::OutputConfig config;
  config.format = format;
  auto formatter = format::Formatter::make(config, "host-1");
  if (!formatter) throw std::runtime_error(formatter.error());
  const Batch original = make_batch();
  Batch b;
  // Checked once before timing: every record became an envelope (or stayed as is for raw).
  {
    b.source = original.source;
    b.input = original.input;
    b.records = original.records;
    (*formatter)->process(b);
    if (std::string_view(format) != "raw" && !b.records.back().payload_in_output) throw std::runtime_error("not formatted");
  }
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    b.output.clear();  // keeps its capacity, as a pipeline batch would not; the stage reserves per batch
    b.records = original.records;
    state.ResumeTiming();
    (*formatter)->process(b);
    benchmark::DoNotOptimize(b.output.data());
    bytes += original.input.size();
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

BENCHMARK_CAPTURE(BM_Format, raw, "raw");
BENCHMARK_CAPTURE(BM_Format, ecs, "ecs");
BENCHMARK_CAPTURE(BM_Format, splunk_hec, "splunk_hec");
BENCHMARK_CAPTURE(BM_Format, datadog, "datadog");

}  // namespace

BENCHMARK_MAIN();
