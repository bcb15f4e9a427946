#include "auditship/enrich/enricher.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "auditship/common/iso8601.h"
#include "auditship/common/json_writer.h"
#include "auditship/common/log.h"
#include "auditship/common/metrics.h"
#include "auditship/common/thread_name.h"
#include "auditship/enrich/api_keys.h"
#include "auditship/enrich/generation.h"
#include "auditship/enrich/generation_fetcher.h"
#include "auditship/enrich/id_cache.h"

namespace auditship::enrich {
namespace {

// Dedup memory bound: ids beyond it are forgotten oldest-first (see RecentIds).
constexpr std::size_t kDedupCapacity = 1'000'000;
// follow_up: lookups resolve one by one (1,000 records/s is one a millisecond); each shipped on
// its own was a wake-up, a batch and a Kafka message set per event. The first event waits this
// long for others, like the tailer's batch_wait default. Events come a second or more after
// their record anyway (initial_delay plus the lookup).
constexpr auto kEventWait = std::chrono::milliseconds(50);

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

LookupResultPtr fixed_result(LookupStatus status) {
  auto r = std::make_shared<LookupResult>();
  r->status = status;
  return r;
}

std::vector<std::string> split_path(const std::string& dotted) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= dotted.size()) {
    auto dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    parts.push_back(dotted.substr(start, dot - start));
    start = dot + 1;
  }
  return parts;
}

std::uint64_t batch_bytes(const Batch& b) { return b.input.size() + b.output.size() + b.fields.size(); }

// Enrichment off: batches go straight on.
class PassThroughEnricher final : public Enricher {
 public:
  explicit PassThroughEnricher(NextFn next) : next_(std::move(next)) {}
  void process(BatchPtr batch) override { next_(std::move(batch)); }
  void give_up_at(std::chrono::steady_clock::time_point) override {}
  void drain(std::chrono::milliseconds) override {}
  bool idle() const override { return true; }
  void stop() noexcept override {}

 private:
  NextFn next_;
};

// A batch waiting for its lookups (hold mode), or only being annotated (follow_up mode).
struct Held {
  BatchPtr batch;
  std::vector<LookupResultPtr> results;  // per record; null = leave the record as it is
  std::vector<std::string_view> reasons;
  std::size_t unresolved = 0;
  std::uint64_t bytes = 0;
};
using HeldPtr = std::shared_ptr<Held>;

struct Waiter {
  HeldPtr held;  // null in follow_up mode: the record already left
  std::size_t record = 0;
};

class FetchingEnricher final : public Enricher {
 public:
  FetchingEnricher(const EnrichConfig& config, NextFn next)
      : config_(config),
        next_(std::move(next)),
        hold_(config.mode == "hold"),
        key_path_(config.key_field.empty() ? std::vector<std::string>{} : split_path(config.key_field)),
        recent_(config.dedup_window, kDedupCapacity),
        deduplicated_(metrics::Registry::global().counter(
            "auditship_enrich_deduplicated_total", "Records dropped because their generation_id was already shipped")),
        held_gauge_(metrics::Registry::global().gauge("auditship_enrich_held_records",
                                                      "Records waiting for their lookup (hold mode)")),
        skipped_(fixed_result(LookupStatus::kSkipped)),
        pending_(fixed_result(LookupStatus::kPending)) {}

  ~FetchingEnricher() override { stop(); }

  Status start(ApiKeys keys) {
    keys_ = keys;
    auto fetcher = GenerationFetcher::make(config_, std::move(keys),
                                           [this](const std::string& id, LookupResultPtr r) { on_result(id, std::move(r)); });
    if (!fetcher) return Error{fetcher.error()};
    fetcher_ = std::move(fetcher.value());
    emitter_ = std::thread([this] {
      name_this_thread("as-enrich-emit");
      emit_loop();
    });
    return {};
  }

  void process(BatchPtr batch) override {
    auto held = std::make_shared<Held>();
    const std::size_t n = batch->records.size();
    held->results.assign(n, nullptr);
    held->reasons.assign(n, {});
    std::vector<LookupRequest> lookups;
    std::vector<std::size_t> lookup_records;
    plan(*batch, *held, lookups, lookup_records);
    held->bytes = batch_bytes(*batch);
    held->batch = std::move(batch);
    if (hold_) return hold(std::move(held), std::move(lookups), lookup_records);
    follow_up(std::move(held), std::move(lookups), lookup_records);
  }

  void give_up_at(std::chrono::steady_clock::time_point at) override {
    {
      std::lock_guard lk(mu_);
      give_up_at_ = std::min(give_up_at_, at);
    }
    cv_.notify_all();  // the emitter waits until give_up_at_
  }

  void drain(std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lk(mu_);
    if (!cv_.wait_until(lk, deadline, [this] { return idle_locked(); })) {
      // Out of time: everything still waiting resolves as timeout and leaves now.
      give_up_locked();
      cv_.notify_all();
      cv_.wait(lk, [this] { return idle_locked() || stopping_; });
    }
  }

  bool idle() const override {
    std::lock_guard lk(mu_);
    return idle_locked();
  }

  void stop() noexcept override {
    if (fetcher_) fetcher_->stop();
    {
      std::lock_guard lk(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (emitter_.joinable()) emitter_.join();
  }

 private:
  // Decides per record: drop as duplicate, skip (with reason), or look up.
  void plan(Batch& batch, Held& held, std::vector<LookupRequest>& lookups, std::vector<std::size_t>& lookup_records) {
    const auto steady_now = SteadyClock::now();
    const std::int64_t unix_now = unix_ms_now();
    LookupResultPtr gave_up;
    if (gave_up_.load()) {
      auto r = std::make_shared<LookupResult>();
      r->status = LookupStatus::kTimeout;
      r->resolved_at_ms = unix_now;
      gave_up = std::move(r);
    }
    for (std::size_t i = 0; i < batch.records.size(); ++i) {
      Record& r = batch.records[i];
      if (r.disposition != Disposition::kShip) continue;
      const std::string_view id = batch.field(r.generation_id);
      if (id.empty()) {
        skip(held, i, "no_generation_id");
        continue;
      }
      if (config_.dedup_window.count() > 0 && recent_.seen(id, steady_now)) {
        r.disposition = Disposition::kDrop;
        deduplicated_.inc();
        continue;
      }
      if (config_.when == "missing_cost" && r.total_cost > 0) {
        skip(held, i, "cost_present");
        continue;
      }
      std::optional<std::string> key_name;
      if (!key_path_.empty()) key_name = rewriter_.string_at(batch.payload(r), key_path_);
      const auto key = keys_.choose(key_name);
      if (!key) {
        skip(held, i, "no_api_key");
        continue;
      }
      if (gave_up) {  // shutting down: no new lookups
        held.results[i] = gave_up;
        continue;
      }
      // Not before the generation can exist: the call's timestamp plus initial_delay. The call
      // ended before its record was read, so a timestamp ahead of the clock (skew, or a local
      // time read as UTC) counts as now, as does a record without a zoned timestamp.
      std::int64_t ended_ms = unix_now;
      if (auto ts = iso8601::parse_ms(batch.field(r.timestamp))) ended_ms = std::min(*ts, unix_now);
      const auto wait =
          std::chrono::milliseconds(std::max<std::int64_t>(0, ended_ms + config_.initial_delay.count() - unix_now));
      lookups.push_back(LookupRequest{std::string(id), *key, steady_now + wait});
      lookup_records.push_back(i);
    }
  }

  void skip(Held& held, std::size_t i, std::string_view reason) {
    held.results[i] = skipped_;
    held.reasons[i] = reason;
  }

  // Registers waiters; returns the lookups that are not already pending.
  std::vector<LookupRequest> register_locked(const HeldPtr& held, std::vector<LookupRequest>& lookups,
                                             const std::vector<std::size_t>& records) {
    std::vector<LookupRequest> fresh;
    for (std::size_t k = 0; k < lookups.size(); ++k) {
      if (gave_up_result_) {
        // Planned before the stage gave up, arriving after: nothing would resolve it.
        if (held) {
          held->results[records[k]] = gave_up_result_;
          --held->unresolved;
        } else {
          queue_event_locked(lookups[k].id, gave_up_result_);
        }
        continue;
      }
      auto& waiters = waiting_[lookups[k].id];
      waiters.push_back(Waiter{held, records[k]});
      if (waiters.size() == 1) fresh.push_back(std::move(lookups[k]));
    }
    return fresh;
  }

  void hold(HeldPtr held, std::vector<LookupRequest> lookups, const std::vector<std::size_t>& records) {
    const std::size_t n = held->batch->records.size();
    std::vector<LookupRequest> fresh;
    {
      std::unique_lock lk(mu_);
      // Backpressure: the tailer's thread waits here. A batch alone is always admitted, so
      // one batch larger than the bounds cannot wedge the agent.
      cv_.wait(lk, [&] {
        return stopping_ || queued_batches_ == 0 ||
               (held_records_ + n <= config_.hold_max_records && held_bytes_ + held->bytes <= config_.hold_max_bytes);
      });
      if (stopping_) return;
      held->unresolved = lookups.size();
      fresh = register_locked(held, lookups, records);
      const std::uint64_t source = held->batch->source ? held->batch->source->id : 0;
      held_records_ += n;
      held_bytes_ += held->bytes;
      ++queued_batches_;
      held_gauge_.set(static_cast<double>(held_records_));
      queues_[source].push_back(std::move(held));
    }
    cv_.notify_all();
    fetcher_->submit(std::move(fresh));
  }

  void follow_up(HeldPtr held, std::vector<LookupRequest> lookups, const std::vector<std::size_t>& records) {
    for (std::size_t i : records) held->results[i] = pending_;
    rewrite(*held);
    std::vector<LookupRequest> fresh;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || waiting_.empty() || waiting_.size() + lookups.size() <= config_.max_pending; });
      if (stopping_) return;
      // The record has left; only its id waits, for the event.
      std::vector<std::size_t> none(records.size(), 0);
      fresh = register_locked(nullptr, lookups, none);
    }
    cv_.notify_all();  // register_locked may have queued events
    {
      std::lock_guard emit(emit_mu_);
      next_(std::move(held->batch));
    }
    fetcher_->submit(std::move(fresh));
  }

  // Fetcher thread.
  void on_result(const std::string& id, LookupResultPtr result) {
    bool progress = false;
    {
      std::lock_guard lk(mu_);
      progress = resolve_locked(id, result);
    }
    // Waking the emitter (and everyone on cv_) per result cost more CPU than the lookup
    // itself at 1,000 records/s: wake only when a batch became complete or the first event
    // is queued. Nobody waits on a partly resolved batch.
    if (progress) cv_.notify_all();
  }

  // True if a held batch became complete, or events_ stopped being empty.
  bool resolve_locked(const std::string& id, const LookupResultPtr& result) {
    auto it = waiting_.find(id);
    if (it == waiting_.end()) return false;  // drain already gave up on it
    bool progress = false;
    for (Waiter& w : it->second) {
      if (!w.held) continue;
      w.held->results[w.record] = result;
      progress |= --w.held->unresolved == 0;
    }
    if (!hold_) progress |= queue_event_locked(id, result);
    waiting_.erase(it);
    return progress;
  }

  // Everything still waiting resolves as timeout, and later records look nothing up.
  void give_up_locked() {
    if (gave_up_.exchange(true)) return;
    auto timeout_result = std::make_shared<LookupResult>();
    timeout_result->status = LookupStatus::kTimeout;
    timeout_result->resolved_at_ms = unix_ms_now();
    gave_up_result_ = timeout_result;
    std::vector<std::string> ids;
    for (const auto& [id, waiters] : waiting_) ids.push_back(id);
    for (const auto& id : ids) resolve_locked(id, timeout_result);
    if (!ids.empty())
      log::warn("enrich: gave up waiting for lookups at shutdown; their records ship with status timeout",
                {{"generation_ids", ids.size()}});
  }

  bool idle_locked() const {
    return queued_batches_ == 0 && events_.empty() && emitting_ == 0 && (hold_ || waiting_.empty());
  }

  // follow_up: true if this is the first event waiting (the emitter then sleeps until
  // kEventWait after it, or until a held batch completes).
  bool queue_event_locked(const std::string& id, const LookupResultPtr& result) {
    const bool first = events_.empty();
    if (first) events_since_ = SteadyClock::now();
    events_.emplace_back(id, result);
    return first;
  }

  bool events_due_locked(SteadyClock::time_point now) const {
    return !events_.empty() && (gave_up_.load() || now >= events_since_ + kEventWait);
  }

  bool ready_locked(SteadyClock::time_point now) const {
    if (events_due_locked(now)) return true;
    for (const auto& [source, q] : queues_)
      if (!q.empty() && q.front()->unresolved == 0) return true;
    return false;
  }

  void emit_loop() {
    std::unique_lock lk(mu_);
    for (;;) {
      const auto woken = [this] {
        const auto now = SteadyClock::now();
        return stopping_ || ready_locked(now) || (!gave_up_.load() && now >= give_up_at_);
      };
      // give_up_at() may move the deadline while we wait: re-read it on every wake-up.
      while (!woken()) {
        auto until = gave_up_.load() ? SteadyClock::time_point::max() : give_up_at_;
        if (!events_.empty()) until = std::min(until, events_since_ + kEventWait);
        if (until == SteadyClock::time_point::max()) cv_.wait(lk);
        else cv_.wait_until(lk, until);
      }
      if (stopping_) return;
      if (!gave_up_.load() && SteadyClock::now() >= give_up_at_) {
        give_up_locked();
        continue;
      }
      std::vector<HeldPtr> out;
      for (auto& [source, q] : queues_) {
        while (!q.empty() && q.front()->unresolved == 0) {
          held_records_ -= q.front()->batch->records.size();
          held_bytes_ -= q.front()->bytes;
          --queued_batches_;
          out.push_back(std::move(q.front()));
          q.pop_front();
        }
      }
      std::vector<std::pair<std::string, LookupResultPtr>> events;
      events.swap(events_);
      held_gauge_.set(static_cast<double>(held_records_));
      ++emitting_;
      lk.unlock();
      cv_.notify_all();  // room in the hold buffer
      for (auto& h : out) {
        rewrite(*h);
        std::lock_guard emit(emit_mu_);
        next_(std::move(h->batch));
      }
      if (!events.empty()) {
        auto batch = event_batch(events);
        std::lock_guard emit(emit_mu_);
        next_(std::move(batch));
      }
      lk.lock();
      --emitting_;
      cv_.notify_all();  // drain() may be waiting for idle
    }
  }

  // Emitter thread, or pipeline thread in follow_up mode (they never share a Held).
  void rewrite(Held& held) {
    std::lock_guard lk(rewrite_mu_);
    Batch& b = *held.batch;
    for (std::size_t i = 0; i < b.records.size(); ++i) {
      if (!held.results[i]) continue;
      Record& r = b.records[i];
      if (r.disposition != Disposition::kShip) continue;
      // Into scratch first: the payload may itself live in b.output, which appending would move.
      scratch_.clear();
      if (!rewrite_rewriter_.rewrite(b.payload(r), *held.results[i], held.reasons[i], scratch_)) continue;
      const std::size_t start = b.output.size();
      b.output += scratch_;
      b.set_output_payload(r, start);
    }
  }

  BatchPtr event_batch(const std::vector<std::pair<std::string, LookupResultPtr>>& events) {
    auto b = std::make_unique<Batch>();
    for (const auto& [id, result] : events) {
      Record r;
      r.generation_id = b->add_field(id);
      r.key = r.generation_id;
      const std::size_t start = b->output.size();
      b->output += "{\"type\":\"enrichment\",\"generation_id\":";
      json::append_string(b->output, id);
      if (result->status == LookupStatus::kOk) {
        b->output += ",\"total_cost\":";
        json::append_number(b->output, result->total_cost);
        b->output += ",\"openrouter\":";
        b->output += result->openrouter;
      }
      b->output += ",\"enrichment\":";
      append_enrichment_object(b->output, *result, {});
      b->output += '}';
      b->set_output_payload(r, start);
      if (result->total_cost >= 0) r.total_cost = result->total_cost;
      b->records.push_back(r);
    }
    return b;
  }

  const EnrichConfig config_;
  const NextFn next_;
  const bool hold_;
  const std::vector<std::string> key_path_;
  ApiKeys keys_;
  RecentIds recent_;          // pipeline thread only
  RecordRewriter rewriter_;   // pipeline thread only (key_field)
  std::mutex rewrite_mu_;     // rewrite() runs on the emitter, or the pipeline thread in follow_up
  RecordRewriter rewrite_rewriter_;
  std::string scratch_;
  metrics::Counter& deduplicated_;
  metrics::Gauge& held_gauge_;
  const LookupResultPtr skipped_;
  const LookupResultPtr pending_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::uint64_t, std::deque<HeldPtr>> queues_;  // hold mode, per source id
  std::unordered_map<std::string, std::vector<Waiter>> waiting_;
  std::vector<std::pair<std::string, LookupResultPtr>> events_;  // follow_up mode
  SteadyClock::time_point events_since_;                         // when events_ stopped being empty
  std::uint64_t held_records_ = 0, held_bytes_ = 0, queued_batches_ = 0;
  int emitting_ = 0;
  bool stopping_ = false;
  SteadyClock::time_point give_up_at_ = SteadyClock::time_point::max();
  std::atomic<bool> gave_up_{false};  // written under mu_; plan() reads it without
  LookupResultPtr gave_up_result_;    // set with gave_up_
  std::mutex emit_mu_;  // one caller of next_ at a time

  GenerationFetcherPtr fetcher_;  // after the state its callback touches: destroyed (stopped) first
  std::thread emitter_;
};

}  // namespace

Result<EnricherPtr> Enricher::make(const EnrichConfig& config, NextFn next) {
  if (!config.enabled) return EnricherPtr(new PassThroughEnricher(std::move(next)));
  std::vector<config::Problem> problems;
  std::map<std::string, int> lines;
  config::Checker check(problems, lines, "enrich");
  config.validate(check);
  if (!problems.empty()) return Error{problems.front().path + ": " + problems.front().message};
  auto keys = ApiKeys::load(config);
  if (!keys) return Error{keys.error()};
  auto enricher = std::make_unique<FetchingEnricher>(config, std::move(next));
  if (auto st = enricher->start(std::move(keys.value())); !st) return Error{st.error()};
  return EnricherPtr(std::move(enricher));
}

}  // namespace auditship::enrich
