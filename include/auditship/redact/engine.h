#pragma once
// The compiled detectors (shared, immutable) and the per-thread scanner that runs them over
// one decoded text. The JSON walk lives in Redactor; this layer knows nothing about JSON.
//
// Two Hyperscan databases hold the same detectors:
//  - `prefilter`: no start-of-match, so it runs at full speed; it only says *where* a match
//    ends, which is enough to skip every string value that holds no candidate;
//  - `exact`: HS_FLAG_SOM_LEFTMOST, run only on the few strings the prefilter flagged.
// (performance-anchors.md: SOM is what makes Hyperscan slow on this data.)
#include <hs/hs.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auditship/common/result.h"
#include "auditship/redact/detectors.h"
#include "auditship/redact/redact_config.h"

namespace auditship::redact {

// A confirmed match: bytes [begin, end) of the scanned text belong to `detector`.
struct Span {
  std::uint32_t begin = 0, end = 0;
  std::uint32_t detector = 0;
};

class Engine {
 public:
  // Built-ins minus `config.disable`, then `config.custom`. Errors name the detector.
  [[nodiscard]] static Result<std::shared_ptr<const Engine>> compile(const RedactConfig& config);
  // Compiles arbitrary detectors (benchmarks and tests use synthetic sets).
  [[nodiscard]] static Result<std::shared_ptr<const Engine>> compile(std::vector<DetectorSpec> detectors);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  [[nodiscard]] std::size_t detector_count() const { return detectors_.size(); }
  [[nodiscard]] const std::string& name(std::size_t d) const { return detectors_[d].name; }
  // The replacement, already escaped for the inside of a JSON string.
  [[nodiscard]] const std::string& json_replacement(std::size_t d) const { return json_replacements_[d]; }
  // False when a custom pattern is anchored (^, $, \A, \z): its matches inside a string
  // differ from its matches in the whole line, so line-level prefiltering would miss them.
  [[nodiscard]] bool line_prefilter_sound() const { return line_prefilter_sound_; }

 private:
  friend class Scanner;
  struct PatternMeta {
    std::uint32_t detector;
    Validator validator;
    bool secret_after_space;
  };
  Engine() = default;
  std::vector<DetectorSpec> detectors_;
  std::vector<std::string> json_replacements_;
  std::vector<PatternMeta> patterns_;  // indexed by Hyperscan id
  hs_database_t* prefilter_ = nullptr;
  hs_database_t* exact_ = nullptr;
  bool line_prefilter_sound_ = true;
};
using EnginePtr = std::shared_ptr<const Engine>;

// One per thread: owns a Hyperscan scratch and reusable buffers. Not thread-safe.
class Scanner {
 public:
  explicit Scanner(EnginePtr engine);
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  [[nodiscard]] const Engine& engine() const { return *engine_; }
  [[nodiscard]] const EnginePtr& engine_ptr() const { return engine_; }
  // End offsets of prefilter matches in `text`, ascending. False if there were more than
  // `limit` (the caller then treats everything as flagged).
  bool match_ends(std::string_view text, std::vector<std::uint32_t>& ends, std::size_t limit);
  // True if any detector may match in `text` (stops at the first prefilter match).
  bool may_match(std::string_view text);
  // Confirmed, non-overlapping spans in ascending order (validators applied, overlaps
  // resolved leftmost-longest, ties to the earlier detector).
  void find(std::string_view text, std::vector<Span>& spans);

 private:
  struct Candidate {
    std::uint32_t id;
    std::uint64_t from, to;
  };
  void confirm(std::string_view text, const Candidate& c, std::vector<Span>& spans) const;

  EnginePtr engine_;
  hs_scratch_t* scratch_ = nullptr;
  std::vector<Candidate> candidates_;
};

}  // namespace auditship::redact
