#include "auditship/redact/engine.h"

#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "auditship/common/json_writer.h"
#include "auditship/redact/detector_cache.h"

namespace auditship::redact {
namespace {

// Whether `expression` can only match at the start or end of its input. Such a pattern
// behaves differently on a whole line than on one string value of it. `[^` is a negated
// class, not an anchor; a false positive here only costs speed.
bool anchored(const std::string& e) {
  for (std::size_t i = 0; i < e.size(); ++i) {
    char c = e[i];
    if (c == '\\' && i + 1 < e.size()) {
      char n = e[++i];
      if (n == 'A' || n == 'z' || n == 'Z') return true;
      continue;
    }
    if (c == '$' || (c == '^' && (i == 0 || e[i - 1] != '['))) return true;
  }
  return false;
}

}  // namespace

std::string prefilter_expression(const std::string& expression) {
  const std::size_t n = expression.size();
  if (n <= 2 || expression.compare(n - 2, 2, "\\b") != 0) return expression;
  if (expression.find("\\Q") != std::string::npos) return expression;  // \b may be quoted text there
  // The backslash before the final b starts an escape only after an even run of backslashes
  // (`\\b` is a literal backslash and a b).
  std::size_t backslashes = 0;
  for (std::size_t i = n - 1; i-- > 0 && expression[i] == '\\';) ++backslashes;
  if (backslashes % 2 == 0) return expression;
  return expression.substr(0, n - 2);
}

namespace {

// How many earlier candidates a new match is compared with to merge it (Scanner::find).
constexpr std::size_t kDedupLookback = 4;

bool is_utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The databases an Engine holds, in compile order (a bad pattern's error comes from the
// prefilter first, as `auditship check` reports it): the prefilter, the exact database with
// every pattern, one per trigger, and the exact database of the prefiltered patterns.
constexpr std::size_t kPrefilterDb = 0, kExactDb = 1, kFirstTriggerDb = 2;
constexpr std::size_t kPrefilterExactDb = kFirstTriggerDb + kTriggerCount;
constexpr std::size_t kDatabaseCount = kPrefilterExactDb + 1;

}  // namespace

Result<EnginePtr> Engine::compile(const RedactConfig& config, const std::string& cache_file) {
  std::vector<DetectorSpec> detectors;
  for (const auto& d : builtin_detectors())
    if (std::find(config.disable.begin(), config.disable.end(), d.name) == config.disable.end())
      detectors.push_back(d);
  for (const auto& c : config.custom) {
    Validator v;
    if (!parse_validator(c.validator, v))
      return Error{"detector '" + c.name + "': unknown validator '" + c.validator + "'"};
    std::string replacement = c.replacement;
    if (replacement.empty()) {
      replacement = "[" + c.name + "]";
      std::transform(replacement.begin(), replacement.end(), replacement.begin(), ::toupper);
    }
    detectors.push_back({c.name, replacement, {PatternSpec{c.pattern, 0, v, false, kTriggerNone}}});
  }
  return compile(std::move(detectors), cache_file);
}

Result<EnginePtr> Engine::compile(std::vector<DetectorSpec> detectors, const std::string& cache_file) {
  std::shared_ptr<Engine> e(new Engine());
  std::vector<DatabaseSpec> specs(kDatabaseCount);
  for (std::uint32_t d = 0; d < detectors.size(); ++d) {
    std::string escaped;
    json::append_string(escaped, detectors[d].replacement);
    e->json_replacements_.push_back(escaped.substr(1, escaped.size() - 2));
    for (const auto& p : detectors[d].patterns) {
      const auto id = static_cast<unsigned>(e->patterns_.size());
      bool longest_suffices = (p.validator == Validator::kNone || p.validator == Validator::kOpenAi) &&
                              !p.secret_after_space;
      e->patterns_.push_back({d, p.validator, p.secret_after_space, longest_suffices});
      const unsigned som = p.flags | HS_FLAG_SOM_LEFTMOST;
      specs[kExactDb].add(p.expression, som, id, detectors[d].name);
      if (p.trigger != kTriggerNone) {
        e->triggers_ |= p.trigger;
        for (int t = 0; t < kTriggerCount; ++t)
          if (p.trigger & (1u << t)) specs[kFirstTriggerDb + t].add(p.expression, som, id, detectors[d].name);
        continue;
      }
      specs[kPrefilterExactDb].add(p.expression, som, id, detectors[d].name);
      specs[kPrefilterDb].add(prefilter_expression(p.expression), p.flags, id, detectors[d].name);
      if (anchored(p.expression)) e->line_prefilter_sound_ = false;
    }
  }
  if (specs[kExactDb].expressions.empty()) return EnginePtr(std::move(e));  // every detector disabled: nothing to scan
  auto dbs = load_or_compile_databases(specs, cache_file);
  if (!dbs) return Error{dbs.error()};
  e->prefilter_ = (*dbs)[kPrefilterDb].release();
  e->exact_ = (*dbs)[kExactDb].release();
  for (int t = 0; t < kTriggerCount; ++t) e->trigger_exact_[t] = (*dbs)[kFirstTriggerDb + t].release();
  e->prefilter_exact_ = (*dbs)[kPrefilterExactDb].release();
  e->detectors_ = std::move(detectors);
  return EnginePtr(std::move(e));
}

Engine::~Engine() {
  hs_free_database(prefilter_);
  hs_free_database(exact_);
  for (hs_database_t* db : trigger_exact_) hs_free_database(db);
  hs_free_database(prefilter_exact_);
}

Scanner::Scanner(EnginePtr engine) : engine_(std::move(engine)) {
  // Allocation failure here is out of memory at startup; Hyperscan leaves scratch null and
  // every scan below then reports nothing, so treat it as fatal instead.
  std::vector<hs_database_t*> all{engine_->prefilter_, engine_->exact_, engine_->prefilter_exact_};
  all.insert(all.end(), engine_->trigger_exact_.begin(), engine_->trigger_exact_.end());
  for (hs_database_t* db : all)
    if (db && hs_alloc_scratch(db, &scratch_) != HS_SUCCESS) std::abort();
  candidates_.reserve(64);
  // Which trigger databases direct matchers can stand in for: every pattern of the trigger must
  // name its matcher (PatternSpec::shape, direct_match.h), and the key and email shapes only
  // where a match's shorter versions could never survive (longest_suffices). Ids follow
  // compile's numbering: one per pattern, in detector order.
  std::array<bool, kTriggerCount> direct_ok;
  direct_ok.fill(true);
  std::uint32_t id = 0;
  const auto& meta = engine_->patterns_;
  for (const DetectorSpec& d : engine_->detectors_)
    for (const PatternSpec& p : d.patterns) {
      Shape shape = p.shape;
      if (shape >= kFirstLongestShape && !(id < meta.size() && meta[id].longest_suffices)) shape = Shape::kNone;
      for (int t = 0; t < kTriggerCount; ++t) {
        if (!(p.trigger & (1u << t))) continue;
        if (shape == Shape::kNone) direct_ok[t] = false;
        else direct_[t].push_back({id, shape});
      }
      ++id;
    }
  const bool ids_agree = id == engine_->patterns_.size();
  for (int t = 0; t < kTriggerCount; ++t) {
    if (!direct_ok[t] || !ids_agree || !((1u << t) & kWindowedTriggers)) direct_[t].clear();
    if (!direct_[t].empty()) direct_triggers_ |= 1u << t;
  }
}

Scanner::~Scanner() { hs_free_scratch(scratch_); }

namespace {
struct EndsContext {
  std::vector<std::uint32_t>* ends;
  std::size_t limit;
  bool overflow = false;
};
}  // namespace

bool Scanner::match_ends(std::string_view text, std::vector<std::uint32_t>& ends, std::size_t limit) {
  ends.clear();
  if (!engine_->prefilter_) return true;
  EndsContext ctx{&ends, limit};
  auto on_match = [](unsigned, unsigned long long, unsigned long long to, unsigned, void* p) -> int {
    auto* c = static_cast<EndsContext*>(p);
    if (c->ends->size() >= c->limit) {
      c->overflow = true;
      return 1;
    }
    // Several patterns often end at the same byte; keep one entry per end.
    if (c->ends->empty() || c->ends->back() != to) c->ends->push_back(static_cast<std::uint32_t>(to));
    return 0;
  };
  hs_scan(engine_->prefilter_, text.data(), static_cast<unsigned>(text.size()), 0, scratch_, on_match, &ctx);
  if (ctx.overflow) return false;
  std::sort(ends.begin(), ends.end());
  return true;
}

bool Scanner::prefilter_may_match(std::string_view text) {
  if (!engine_->prefilter_) return false;
  auto stop = [](unsigned, unsigned long long, unsigned long long, unsigned, void*) -> int { return 1; };
  return hs_scan(engine_->prefilter_, text.data(), static_cast<unsigned>(text.size()), 0, scratch_, stop,
                 nullptr) == HS_SCAN_TERMINATED;
}

void Scanner::confirm(std::string_view text, const Candidate& c, std::vector<Span>& spans) const {
  const Engine::PatternMeta& meta = engine_->patterns_[c.id];
  std::size_t begin = c.from, end = c.to;
  if (meta.secret_after_space) {
    std::size_t sp = text.substr(begin, end - begin).find_last_of(" \t\r\n\f\v");
    if (sp != std::string_view::npos) begin += sp + 1;
  }
  if (begin >= end) return;
  bool ok = validate_candidate(meta.validator, text, begin, end);
  if (!ok && meta.validator == Validator::kLuhn) {
    // SOM reports only the leftmost start for each end, so "ref 12 4111 1111 1111 1111"
    // arrives as one run; a card may start at any later group.
    for (std::size_t b = begin + 1; b < end && !ok; ++b)
      if (text[b - 1] == ' ' || text[b - 1] == '-') {
        ok = validate_candidate(meta.validator, text, b, end);
        if (ok) begin = b;
      }
  }
  if (!ok) return;
  // A custom pattern may cut a multi-byte character; widen to whole characters so the
  // output stays valid UTF-8.
  while (begin > 0 && is_utf8_continuation(text[begin])) --begin;
  while (end < text.size() && is_utf8_continuation(text[end])) ++end;
  spans.push_back({static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(end), meta.detector});
}

void Scanner::match_direct(std::string_view text, int t, std::size_t from, std::size_t to) {
  const std::string_view window = text.substr(from, to - from);
  for (const DirectPattern& p : direct_[t]) {
    direct_matches_.clear();
    match_shape(p.shape, window, direct_matches_, direct_scratch_);
    // find()'s callback merges same-start candidates only to save work: the key and email
    // matchers already report the longest per start, and the digit patterns' validators look
    // at the end, so for them it would not apply anyway.
    for (const auto& [b, e] : direct_matches_) candidates_.push_back({p.id, from + b, from + e});
  }
}

void Scanner::find(std::string_view text, std::vector<Span>& spans, std::uint32_t groups,
                   const std::vector<Window>* windows) {
  spans.clear();
  candidates_.clear();
  if (!engine_->exact_) return;
  auto on_match = [](unsigned id, unsigned long long from, unsigned long long to, unsigned, void* p) -> int {
    auto* c = static_cast<MatchContext*>(p);
    from += c->offset;
    to += c->offset;
    // Start-of-match reports a key once per end offset (`[A-Za-z0-9]+`: once per character).
    // A longer match with the same pattern and start replaces the shorter one, which could
    // never survive leftmost-longest (see below). Patterns of one database report at the same
    // ends (openrouter_key and openai_key, alternately, along one key), so look a few back.
    auto& v = *c->candidates;
    if (c->engine->patterns_[id].longest_suffices) {
      for (std::size_t k = v.size(), seen = 0; k > 0 && seen < kDedupLookback; --k, ++seen) {
        Candidate& prev = v[k - 1];
        if (prev.id == id && prev.from == from) {
          prev.to = std::max<std::uint64_t>(prev.to, to);
          return 0;
        }
      }
    }
    v.push_back({id, from, to});
    return 0;
  };
  auto scan = [&](const hs_database_t* db, std::size_t from, std::size_t to) {
    MatchContext ctx{&candidates_, from, engine_.get()};
    if (db) hs_scan(db, text.data() + from, static_cast<unsigned>(to - from), 0, scratch_, on_match, &ctx);
  };
  if (groups == kAllGroups) {
    scan(engine_->exact_, 0, text.size());
  } else {
    // A pattern with several triggers sits in several databases, and windows may overlap:
    // duplicate candidates are harmless (equal spans collapse in the overlap resolution below).
    for (int t = 0; t < kTriggerCount; ++t) {
      if (!(groups & (1u << t))) continue;
      if (((1u << t) & kWindowedTriggers) && windows) {
        for (const Window& w : *windows) {
          if (w.trigger != (1u << t)) continue;
          if (direct_triggers_ & w.trigger) match_direct(text, t, w.begin, w.end);
          else scan(engine_->trigger_exact_[t], w.begin, w.end);
        }
      } else {
        scan(engine_->trigger_exact_[t], 0, text.size());
      }
    }
    if (groups & kGroupPrefilter) scan(engine_->prefilter_exact_, 0, text.size());
  }
  for (const Candidate& c : candidates_) confirm(text, c, spans);
  if (spans.empty()) return;
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end > b.end;
    return a.detector < b.detector;
  });
  // Leftmost-longest: keep the first span at each start, drop anything overlapping it.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < spans.size(); ++i)
    if (kept == 0 || spans[i].begin >= spans[kept - 1].end) spans[kept++] = spans[i];
  spans.resize(kept);
}

std::size_t release_compile_memory() {
  ::malloc_trim(0);
  // Only libhs's executable mappings: its read-only data segments include relocated data
  // (RELRO) that must not be thrown back to the file's bytes.
  std::size_t resident = 0;
  std::ifstream smaps("/proc/self/smaps");
  std::uintptr_t begin = 0, end = 0;
  bool text = false;
  for (std::string line; std::getline(smaps, line);) {
    unsigned long long b = 0, e = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%llx-%llx %4s", &b, &e, perms) == 3 && line.find('-') < line.find(' ')) {
      begin = static_cast<std::uintptr_t>(b);
      end = static_cast<std::uintptr_t>(e);
      text = std::string_view(perms) == "r-xp" && line.find("/libhs.so") != std::string::npos;
      continue;
    }
    if (!text || line.rfind("Rss:", 0) != 0) continue;
    std::size_t kib = 0;
    std::istringstream(line.substr(4)) >> kib;
    resident += kib * 1024;
    ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
    text = false;
  }
  return resident;
}

}  // namespace auditship::redact
