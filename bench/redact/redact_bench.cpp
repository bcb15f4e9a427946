// Redaction throughput on a generated corpus of realistic audit lines (issue #3/#6).
//
//   ninja -C build redact_bench && build/bench/redact_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Corpus (deterministic, seed 42): ~650 B/line on average; 20 % of lines carry 1-3 PII
// values in free text; 5 % carry a multi-KB prompt preview with JSON escapes. Baselines in
// the same binary: the seed's five regexes applied one after another on the raw line with
// PCRE2-JIT (and std::regex on a small slice), and a plain line copy (the floor).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "auditship/parse/parser.h"

#include "auditship/redact/detectors.h"
#include "auditship/redact/redactor.h"
#include "common/audit_corpus.h"

#ifdef AUDITSHIP_HAVE_PCRE2
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif

namespace {

using auditship::redact::DetectorSpec;
using auditship::redact::PatternSpec;
using auditship::redact::Redactor;
using auditship::redact::RedactorPtr;

using auditship::bench::Corpus;

const Corpus& corpus() {
  static const Corpus c = auditship::bench::make_corpus(20000);
  return c;
}

void report(benchmark::State& state, std::size_t passes_bytes, std::size_t lines) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * passes_bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lines));
  state.counters["avg_line_bytes"] = static_cast<double>(corpus().bytes) / static_cast<double>(corpus().lines.size());
}

// Runs the redactor over the corpus once and checks every planted value is gone.
bool verify(Redactor& r, benchmark::State& state, bool check_pii) {
  const Corpus& c = corpus();
  std::string out;
  for (std::size_t i = 0; i < c.lines.size(); ++i) {
    out.clear();
    if (!r.redact_json(c.lines[i], out)) {
      state.SkipWithError("a corpus line was rejected");
      return false;
    }
    for (const auto& v : c.pii[i])
      if (check_pii && out.find(v) != std::string::npos) {
        state.SkipWithError(("planted PII survived: " + v).c_str());
        return false;
      }
  }
  return true;
}

// The corpus as the pipeline hands it to a worker: batches of 500 consecutive lines (its
// unit), each record a slice of the batch's input.
constexpr std::size_t kBatchLines = 500;
const std::vector<auditship::Batch>& pristine_batches() {
  static const std::vector<auditship::Batch> batches = [] {
    const Corpus& c = corpus();
    std::vector<auditship::Batch> out;
    for (std::size_t i = 0; i < c.lines.size(); ++i) {
      if (i % kBatchLines == 0) out.emplace_back();
      auditship::Batch& b = out.back();
      auditship::Record r;
      r.file_offset = b.input.size();
      r.line_bytes = c.lines[i].size() + 1;
      r.raw = r.payload = {static_cast<std::uint32_t>(b.input.size()), static_cast<std::uint32_t>(c.lines[i].size())};
      b.input += c.lines[i];
      b.input += '\n';
      b.records.push_back(r);
    }
    return out;
  }();
  return batches;
}

// A working copy of a pristine batch (its input), and the reset before each reuse: the
// records and buffers as the tailer made them (a few memcpy, part of the measured work).
auditship::Batch working_copy(const auditship::Batch& pristine) {
  auditship::Batch b;
  b.input = pristine.input;
  return b;
}
void reset(auditship::Batch& b, const auditship::Batch& pristine) {
  b.output.clear();
  b.fields.clear();
  b.records.assign(pristine.records.begin(), pristine.records.end());
}

// Redaction the way a worker runs it: Redactor::process over each batch.
void run_redactor(benchmark::State& state, Redactor& r) {
  const Corpus& c = corpus();
  const auto& pristine = pristine_batches();
  std::vector<auditship::Batch> batches;
  for (const auto& p : pristine) batches.push_back(working_copy(p));
  for (auto _ : state) {
    for (std::size_t i = 0; i < batches.size(); ++i) {
      reset(batches[i], pristine[i]);
      r.process(batches[i]);
      benchmark::DoNotOptimize(batches[i].output.data());
    }
  }
  report(state, c.bytes, c.lines.size());
}

void BM_Redactor_Default(benchmark::State& state) {
  auto r = Redactor::make(auditship::redact::RedactConfig{});
  if (!r) return state.SkipWithError(r.error().c_str());
  if (!verify(**r, state, true)) return;
  run_redactor(state, **r);
}
BENCHMARK(BM_Redactor_Default)->Unit(benchmark::kMillisecond);

// The same one line at a time (Redactor::rewrite), as `auditship redact` and earlier figures.
void BM_Redactor_DefaultPerLine(benchmark::State& state) {
  auto r = Redactor::make(auditship::redact::RedactConfig{});
  if (!r) return state.SkipWithError(r.error().c_str());
  const Corpus& c = corpus();
  std::string out;
  out.reserve(c.bytes * 2);
  for (auto _ : state) {
    out.clear();
    for (const auto& l : c.lines) {
      if ((*r)->rewrite(l, out) == Redactor::Outcome::kUnchanged) {}  // zero copy: nothing appended
    }
    benchmark::DoNotOptimize(out.data());
  }
  report(state, c.bytes, c.lines.size());
}
BENCHMARK(BM_Redactor_DefaultPerLine)->Unit(benchmark::kMillisecond);

// The seed's five kinds (email, phone, SSN, OpenRouter key, card) as built-in detectors.
std::vector<DetectorSpec> five_detectors() {
  std::vector<DetectorSpec> d;
  for (const auto& b : auditship::redact::builtin_detectors())
    if (b.name == "email" || b.name == "phone" || b.name == "ssn" || b.name == "openrouter_key" || b.name == "credit_card")
      d.push_back(b);
  return d;
}

// Synthetic extra detectors: half start with a literal (cheap for Hyperscan), half are
// class-based (digits and letters, the expensive kind).
std::vector<DetectorSpec> scaled_detectors(std::size_t n) {
  auto d = five_detectors();
  for (std::size_t i = 0; d.size() < n; ++i) {
    std::string name = "synthetic_" + std::to_string(i);
    std::string expr;
    if (i % 2 == 0)
      expr = "\\btok" + std::to_string(i) + "_[A-Za-z0-9]{12,}";
    else
      expr = "\\b[A-Z]{" + std::to_string(2 + i % 3) + "}[0-9]{" + std::to_string(5 + (i / 2) % 7) + "}-[A-Z0-9]{" +
             std::to_string(3 + (i / 14) % 5) + "}\\b";
    d.push_back({name, "[" + name + "]", {PatternSpec{expr, 0, {}, false, {}}}});
  }
  return d;
}

void BM_Redactor_Detectors(benchmark::State& state) {
  auto set = state.range(0) == 5 ? five_detectors() : scaled_detectors(static_cast<std::size_t>(state.range(0)));
  auto r = Redactor::make(std::move(set));
  if (!r) return state.SkipWithError(r.error().c_str());
  if (!verify(**r, state, false)) return;
  run_redactor(state, **r);
}
BENCHMARK(BM_Redactor_Detectors)->Arg(5)->Arg(25)->Arg(100)->Arg(200)->Unit(benchmark::kMillisecond);

// G5: the parse+redact stage with 1 and 2 worker threads, each owning a Parser and a Redactor
// clone, on batches of 500 lines (the pipeline's unit). Wall time (UseRealTime): records/s of
// the stage as a whole. Each batch is reset from a pristine copy before it is processed (the
// reset, a few memcpy, is part of the measured work). Second argument: 1 parses in the
// redactor's walk as the workers do (Redactor::process(batch, &parser)), 0 parses with
// simdjson's DOM first (Parser::process, then Redactor::process), as before session 10.
void BM_ParseRedact(benchmark::State& state) {
  const Corpus& c = corpus();
  const auto& pristine = pristine_batches();
  const auto threads = static_cast<std::size_t>(state.range(0));
  const bool in_walk = state.range(1) != 0;
  auto first = Redactor::make(auditship::redact::RedactConfig{});
  if (!first) return state.SkipWithError(first.error().c_str());
  struct Worker {
    auditship::parse::Parser parser{auditship::parse::ParserOptions{}};
    RedactorPtr redactor;
    std::vector<auditship::Batch> batches;  // working copies of this worker's share
  };
  std::vector<Worker> workers(threads);
  for (std::size_t w = 0; w < threads; ++w) {
    workers[w].redactor = w == 0 ? std::move(*first) : workers[0].redactor->clone();
    for (std::size_t b = w; b < pristine.size(); b += threads) workers[w].batches.push_back(working_copy(pristine[b]));
  }
  auto run = [&](Worker& wk, std::size_t w) {
    std::size_t k = 0;
    for (std::size_t b = w; b < pristine.size(); b += threads, ++k) {
      auditship::Batch& batch = wk.batches[k];
      reset(batch, pristine[b]);
      if (in_walk) {
        wk.redactor->process(batch, &wk.parser);
      } else {
        wk.parser.process(batch);
        wk.redactor->process(batch);
      }
      benchmark::DoNotOptimize(batch.output.data());
    }
  };
  for (auto _ : state) {
    std::vector<std::thread> pool;
    for (std::size_t w = 1; w < threads; ++w) pool.emplace_back(run, std::ref(workers[w]), w);
    run(workers[0], 0);
    for (auto& t : pool) t.join();
  }
  report(state, c.bytes, c.lines.size());
}
BENCHMARK(BM_ParseRedact)
    ->ArgsProduct({{1, 2}, {1, 0}})
    ->ArgNames({"threads", "in_walk"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The floor: find each line and copy it.
void BM_CopyLines(benchmark::State& state) {
  const Corpus& c = corpus();
  std::string out;
  out.reserve(c.bytes * 2);
  for (auto _ : state) {
    out.clear();
    for (const auto& l : c.lines) out.append(l);
    benchmark::DoNotOptimize(out.data());
  }
  report(state, c.bytes, c.lines.size());
}
BENCHMARK(BM_CopyLines)->Unit(benchmark::kMillisecond);

// The seed's patterns, verbatim (including their flaws), in the seed's order.
const std::vector<std::pair<std::string, std::string>>& seed_patterns() {
  static const std::vector<std::pair<std::string, std::string>> p = {
      {R"(\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Z|a-z]{2,}\b)", "[EMAIL]"},
      {R"(\b\d{3}[-.]?\d{3}[-.]?\d{4}\b)", "[PHONE]"},
      {R"(\b\d{3}-\d{2}-\d{4}\b)", "[SSN]"},
      {R"(\bsk-or-v1-[a-zA-Z0-9]+\b)", "[API_KEY]"},
      {R"(\b(?:\d{4}[- ]?){3}\d{4}\b)", "[CARD]"},
  };
  return p;
}

#ifdef AUDITSHIP_HAVE_PCRE2
void BM_Seed_Pcre2Jit(benchmark::State& state) {
  struct Compiled {
    pcre2_code* code;
    std::string replacement;
  };
  std::vector<Compiled> pats;
  for (const auto& [expr, repl] : seed_patterns()) {
    int err;
    PCRE2_SIZE off;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(expr.c_str()), PCRE2_ZERO_TERMINATED, 0, &err, &off, nullptr);
    if (!code || pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) != 0) return state.SkipWithError("pcre2 compile failed");
    pats.push_back({code, repl});
  }
  pcre2_match_data* md = pcre2_match_data_create(32, nullptr);
  const Corpus& c = corpus();
  std::string a, b, out;
  out.reserve(c.bytes * 2);
  auto apply = [&](const std::string& line) {
    a = line;
    for (const auto& p : pats) {
      PCRE2_SIZE len = b.capacity() > a.size() * 2 + 64 ? b.capacity() : a.size() * 2 + 64;
      b.resize(len);
      int rc = pcre2_substitute(p.code, reinterpret_cast<PCRE2_SPTR>(a.data()), a.size(), 0,
                                PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH, md, nullptr,
                                reinterpret_cast<PCRE2_SPTR>(p.replacement.data()), p.replacement.size(),
                                reinterpret_cast<PCRE2_UCHAR*>(b.data()), &len);
      if (rc == PCRE2_ERROR_NOMEMORY) {
        b.resize(len);
        rc = pcre2_substitute(p.code, reinterpret_cast<PCRE2_SPTR>(a.data()), a.size(), 0, PCRE2_SUBSTITUTE_GLOBAL, md,
                              nullptr, reinterpret_cast<PCRE2_SPTR>(p.replacement.data()), p.replacement.size(),
                              reinterpret_cast<PCRE2_UCHAR*>(b.data()), &len);
      }
      if (rc < 0) return false;
      b.resize(len);
      std::swap(a, b);
    }
    out += a;
    return true;
  };
  for (const auto& l : c.lines)
    if (!apply(l)) return state.SkipWithError("pcre2_substitute failed");
  for (auto _ : state) {
    out.clear();
    for (const auto& l : c.lines) apply(l);
    benchmark::DoNotOptimize(out.data());
  }
  report(state, c.bytes, c.lines.size());
  pcre2_match_data_free(md);
  for (auto& p : pats) pcre2_code_free(p.code);
}
BENCHMARK(BM_Seed_Pcre2Jit)->Unit(benchmark::kMillisecond);
#endif

// std::regex is ~100x slower: a 500-line slice keeps the run short (MB/s stays comparable).
void BM_Seed_StdRegex(benchmark::State& state) {
  std::vector<std::pair<std::regex, std::string>> pats;
  for (const auto& [expr, repl] : seed_patterns()) pats.emplace_back(std::regex(expr), repl);
  const Corpus& c = corpus();
  std::size_t n = 500, bytes = 0;
  for (std::size_t i = 0; i < n; ++i) bytes += c.lines[i].size();
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (std::size_t i = 0; i < n; ++i) {
      std::string s = c.lines[i];
      for (const auto& [re, repl] : pats) s = std::regex_replace(s, re, repl);
      out += s;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_Seed_StdRegex)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
