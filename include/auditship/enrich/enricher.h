#pragma once
// The Enrich stage: adds exact cost and provider data from OpenRouter's generation endpoint.
// A batch enters with process() and leaves through `next` (perhaps later, from another
// thread) with batches of one source in the order they entered.
//
// Threads: process()/drain()/stop() from the pipeline thread. `next` is never called by two
// threads at once: in hold mode only the stage's emitter thread calls it; in follow_up mode
// record batches go out from process() itself and enrichment-event batches from the emitter,
// serialized by a lock.
//
// What leaves (enabled):
// - Every kShip record with a generation_id gets an `enrichment` object {status, attempts,
//   resolved_at[, http_status][, reason]}; when status is ok also an `openrouter` object with
//   the selected generation fields and top-level total_cost set to the exact value. Records
//   without a lookup get status skipped with a reason (no_generation_id, cost_present,
//   no_api_key). kDeadLetter/kDrop records pass untouched.
// - A record whose generation_id was already seen within dedup_window becomes kDrop
//   (auditship_enrich_deduplicated_total).
// - hold mode: a batch leaves once all its lookups resolved (or hit their horizon);
//   process() blocks while hold_max_records / hold_max_bytes are exceeded.
// - follow_up mode: batches leave at once with status pending; each resolution then leaves as
//   one record of an *event batch*: `source == nullptr`, no file offsets, records kShip with
//   payload_in_output, generation_id and key set to the id, payload
//   {"type":"enrichment","generation_id":..,"total_cost":..,"openrouter":{..},"enrichment":{..}}
//   (total_cost/openrouter only when ok). Such a batch has nothing to checkpoint: ship it and
//   drop it. process() blocks while max_pending lookups are outstanding.
#include <chrono>
#include <functional>
#include <memory>

#include "auditship/common/result.h"
#include "auditship/enrich/enrich_config.h"
#include "auditship/pipeline/batch.h"

namespace auditship::enrich {

class Enricher;
using EnricherPtr = std::unique_ptr<Enricher>;

class Enricher {
 public:
  using NextFn = std::function<void(BatchPtr)>;
  // With enrich.enabled=false this is a pass-through. Errors: invalid config, missing API
  // key (the message names the variable or file, never the key), unreadable ca_file.
  [[nodiscard]] static Result<EnricherPtr> make(const EnrichConfig& config, NextFn next);
  virtual ~Enricher() = default;
  virtual void process(BatchPtr batch) = 0;
  // From `at` on, the stage stops waiting for lookups: those still waiting resolve as timeout
  // and later records get status timeout without one. Shutdown sets it first, because a full
  // hold buffer blocks process() (and, through the queue, the tailer) until lookups resolve,
  // which may take enrich.horizon; this bounds that wait. Any thread; an earlier time wins.
  virtual void give_up_at(std::chrono::steady_clock::time_point at) = 0;
  // Releases every held batch to `next` (resolving pending lookups as timed out after
  // `timeout`). In follow_up mode also waits for outstanding lookups and ships their events.
  // Call once process() is no longer called.
  virtual void drain(std::chrono::milliseconds timeout) = 0;
  // Nothing held, no lookup outstanding, nothing being handed to `next` (follow_up: every
  // event shipped). --once waits for this as well as for acknowledgements. Any thread.
  [[nodiscard]] virtual bool idle() const = 0;
  // Stops the fetcher and emitter. Batches still held are destroyed unshipped (their offsets
  // were never committed, so a restart reads them again).
  virtual void stop() noexcept = 0;
};

}  // namespace auditship::enrich
