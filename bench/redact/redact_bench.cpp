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
#include <vector>

#include "auditship/redact/detectors.h"
#include "auditship/redact/redactor.h"

#ifdef AUDITSHIP_HAVE_PCRE2
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif

namespace {

using auditship::redact::DetectorSpec;
using auditship::redact::PatternSpec;
using auditship::redact::Redactor;
using auditship::redact::RedactorPtr;

struct Corpus {
  std::vector<std::string> lines;
  std::vector<std::vector<std::string>> pii;  // by line: the PII values planted (none may survive)
  std::size_t bytes = 0;
};

class Generator {
 public:
  Corpus make(std::size_t n) {
    Corpus c;
    for (std::size_t i = 0; i < n; ++i) {
      c.pii.emplace_back();
      c.lines.push_back(line(c.pii.back()));
      c.bytes += c.lines.back().size();
    }
    return c;
  }

 private:
  std::mt19937_64 rng_{42};
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  int num(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::string chars(const char* alphabet, std::size_t n) {
    std::string s, a(alphabet);
    for (std::size_t i = 0; i < n; ++i) s += a[pick(a.size())];
    return s;
  }
  std::string digits(std::size_t n) { return chars("0123456789", n); }

  std::string words(std::size_t n) {
    static const char* kWords[] = {"the", "customer", "asked", "about", "refund", "policy", "for", "order",
                                   "please", "summarize", "this", "document", "and", "list", "key", "points",
                                   "translate", "into", "French", "error", "when", "calling", "function",
                                   "with", "version", "2.4.1", "on", "May", "3rd", "at", "14:05", "total",
                                   "was", "$42.50", "items", "shipped", "to", "warehouse", "7", "in", "Q3",
                                   "results", "look", "good", "but", "latency", "increased", "by", "12%",
                                   "ticket", "#48213", "escalated", "agent", "replied", "within", "SLA"};
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
      if (i) s += ' ';
      s += kWords[pick(std::size(kWords))];
    }
    return s;
  }

  std::string luhn_card() {
    std::string d = (pick(2) ? "4" : "5") + digits(14);
    int sum = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {  // check digit appended at the end
      int v = d[d.size() - 1 - i] - '0';
      if (i % 2 == 0) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
      sum += v;
    }
    d += static_cast<char>('0' + (10 - sum % 10) % 10);
    if (pick(2)) return d;
    return d.substr(0, 4) + " " + d.substr(4, 4) + " " + d.substr(8, 4) + " " + d.substr(12, 4);
  }

  std::string pii_value() {
    switch (pick(6)) {
      case 0: return chars("abcdefghijklmnopqrstuvwxyz", 6) + "." + chars("abcdefghijklmnopqrstuvwxyz", 7) + "@example.com";
      case 1: return pick(2) ? "(415) 555-" + digits(4) : "212-555-" + digits(4);
      case 2: return luhn_card();
      case 3: return std::to_string(num(100, 665)) + "-" + std::to_string(num(10, 99)) + "-" + std::to_string(num(1000, 9999));
      case 4: return "10." + std::to_string(num(0, 255)) + "." + std::to_string(num(0, 255)) + "." + std::to_string(num(1, 254));
      default: return "sk-or-v1-" + chars("0123456789abcdef", 64);
    }
  }

  std::string line(std::vector<std::string>& pii) {
    std::string preview = words(4 + pick(8));
    if (pick(100) < 20) {  // 1-3 PII values in the free text
      std::size_t k = 1 + pick(3);
      for (std::size_t i = 0; i < k; ++i) {
        std::string v = pii_value();
        pii.push_back(v);
        preview += " " + v + " " + words(2 + pick(4));
      }
    }
    if (pick(100) < 5) {  // a multi-KB prompt preview, with escapes
      std::size_t paras = 4 + pick(8);
      for (std::size_t i = 0; i < paras; ++i) preview += "\\n\\n" + words(40 + pick(30)) + " \\\"quoted\\\"";
    }
    long long epoch = 1714500000 + static_cast<long long>(pick(1000000));
    std::string l = "{\"timestamp\":\"2024-05-" + std::to_string(10 + pick(18)) + "T" + std::to_string(10 + pick(13)) +
                    ":" + std::to_string(10 + pick(49)) + ":" + std::to_string(10 + pick(49)) + "." + digits(3) + "Z\"";
    l += ",\"generation_id\":\"gen-" + std::to_string(epoch) + "-" + chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 20) + "\"";
    l += ",\"model_requested\":\"openrouter/auto\",\"model_used\":\"anthropic/claude-3.5-sonnet\"";
    l += ",\"prompt_tokens\":" + std::to_string(num(10, 9000)) + ",\"completion_tokens\":" + std::to_string(num(5, 2000));
    l += ",\"total_cost\":0.00" + digits(4) + ",\"latency_ms\":" + std::to_string(num(200, 9000));
    l += ",\"created\":" + std::to_string(epoch);
    l += ",\"status\":\"success\",\"user_id\":\"user_" + digits(6) + "\",\"prompt_hash\":\"" + chars("0123456789abcdef", 16) + "\"";
    l += ",\"error_code\":null,\"metadata\":{\"app\":\"support-bot\",\"region\":\"us-east-1\",\"request_id\":\"" +
         chars("0123456789abcdef", 8) + "-" + chars("0123456789abcdef", 4) + "-4" + chars("0123456789abcdef", 3) + "-a" +
         chars("0123456789abcdef", 3) + "-" + chars("0123456789abcdef", 12) + "\",\"sdk\":\"openai-python/1.30.1\"}";
    l += ",\"prompt_preview\":\"" + preview + "\"}";
    return l;
  }
};

const Corpus& corpus() {
  static const Corpus c = Generator().make(20000);
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

void run_redactor(benchmark::State& state, Redactor& r) {
  const Corpus& c = corpus();
  std::string out;
  out.reserve(c.bytes * 2);
  for (auto _ : state) {
    out.clear();
    for (const auto& l : c.lines) {
      if (r.rewrite(l, out) == Redactor::Outcome::kUnchanged) {}  // zero copy: nothing appended
    }
    benchmark::DoNotOptimize(out.data());
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
