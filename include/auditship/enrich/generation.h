#pragma once
// What a generation lookup yields, and the two JSON jobs around it: reading the endpoint's
// answer (leniently) and rewriting an audit record with the result. No network here.
#include <bitset>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace auditship::enrich {

enum class LookupStatus : std::uint8_t {
  kOk,
  kNotFound,         // 404 until the horizon passed
  kUnauthorized,     // 401/403: the key cannot read this generation
  kPaymentRequired,  // 402
  kError,            // other statuses, garbage answers, transient errors until the horizon
  kTimeout,          // the last attempt timed out, the horizon passed before any attempt, or shutdown
  kSkipped,          // no lookup: no generation_id, cost already present, no key
  kPending,          // follow_up mode: the record ships before its lookup resolves
};
std::string_view status_name(LookupStatus status);

// The outcome of one lookup, shared by every record that asked for the id and by the cache.
struct LookupResult {
  LookupStatus status = LookupStatus::kError;
  std::uint32_t attempts = 0;
  int http_status = 0;              // last HTTP status seen; 0 if none
  std::int64_t resolved_at_ms = 0;  // Unix ms
  double total_cost = -1;           // exact cost when ok
  std::string openrouter;           // the rendered `openrouter` object when ok, else empty
};
using LookupResultPtr = std::shared_ptr<const LookupResult>;

// Which generation fields are copied (indices into all_generation_fields()).
using FieldMask = std::bitset<32>;
// Unknown names are ignored here; EnrichConfig::validate() reports them.
FieldMask field_mask(const std::vector<std::string>& names);

struct ParsedGeneration {
  double total_cost = -1;  // -1 when absent or null: the generation is still being processed
  std::string served_id;   // data.id as served (may differ from the id queried; only logged)
  std::string openrouter;  // selected fields as a JSON object
};

// Reads 200 bodies of GET /generation. Unknown keys are ignored, nulls kept as null, every
// number read as double. One per thread (it reuses simdjson's buffers).
class GenerationParser {
 public:
  explicit GenerationParser(FieldMask fields);
  ~GenerationParser();
  GenerationParser(const GenerationParser&) = delete;
  GenerationParser& operator=(const GenerationParser&) = delete;
  // nullopt if the body is not JSON or has no `data` object.
  [[nodiscard]] std::optional<ParsedGeneration> parse(std::string_view body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Rewrites audit records (JSON objects) with enrichment results. One per thread.
class RecordRewriter {
 public:
  RecordRewriter();
  ~RecordRewriter();
  RecordRewriter(const RecordRewriter&) = delete;
  RecordRewriter& operator=(const RecordRewriter&) = delete;

  // The string at a dotted path (e.g. {"metadata":{"app":"x"}} at metadata.app), if any.
  [[nodiscard]] std::optional<std::string> string_at(std::string_view record, const std::vector<std::string>& path);

  // Appends `record` with an `enrichment` object ({status, attempts, resolved_at, ...}) and,
  // when the lookup succeeded, an `openrouter` object and top-level total_cost set to the exact
  // value (replacing the app's own). `reason` explains a skip. Members the agent writes that the
  // record already has (`enrichment`; `openrouter` and `total_cost` when ok) are replaced in
  // place, never duplicated. False if `record` is not an object; `out` is then unchanged.
  bool rewrite(std::string_view record, const LookupResult& result, std::string_view reason, std::string& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Appends the `enrichment` object for `result` (no leading comma).
void append_enrichment_object(std::string& out, const LookupResult& result, std::string_view reason);

}  // namespace auditship::enrich
