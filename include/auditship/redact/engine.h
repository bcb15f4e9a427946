#pragma once
// The compiled detectors (shared, immutable) and the per-thread scanner that runs them over
// one decoded text. The JSON walk lives in Redactor; this layer knows nothing about JSON.
//
// Deciding whether a string needs work is split from finding the exact spans:
//  - built-in patterns carry a hand-written trigger (trigger.h): a SIMD pass over the string's
//    bytes, several GB/s, that fires wherever the pattern could match;
//  - the other (custom) patterns form the `prefilter` database: no start-of-match, so it
//    runs at full speed; it only says *where* a match ends;
//  - the exact databases (HS_FLAG_SOM_LEFTMOST) run only on the few strings a trigger or the
//    prefilter flagged, and only for the patterns that were flagged: one database per
//    trigger, one for the prefiltered patterns (so a digit-only string never pays for the
//    email pattern's start-of-match), and one with everything (the reference path).
//  - in the trigger windows (digits, keys, emails), direct matchers (direct_match.h) stand in
//    for the exact databases when every pattern of the trigger is a built-in they reproduce
//    exactly: an hs_scan of a short window is mostly fixed per-call and start-of-match cost.
// (performance-anchors.md: SOM is what makes Hyperscan slow on this data.)
#include <hs/hs.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auditship/common/result.h"
#include "auditship/redact/detectors.h"
#include "auditship/redact/direct_match.h"
#include "auditship/redact/redact_config.h"

namespace auditship::redact {

// Which exact databases Scanner::find runs: trigger bits (trigger.h), kGroupPrefilter for the
// patterns without a trigger, or kAllGroups (the database with every pattern).
constexpr std::uint32_t kGroupPrefilter = 1u << 31;
constexpr std::uint32_t kAllGroups = ~0u;

// A confirmed match: bytes [begin, end) of the scanned text belong to `detector`.
struct Span {
  std::uint32_t begin = 0, end = 0;
  std::uint32_t detector = 0;
};

// The expression the prefilter database compiles for a custom pattern. The prefilter only has
// to report every end of every match (an extra end costs an exact scan of the string it falls
// in), so a trailing \b, which is zero-width, is dropped: the rest matches wherever the pattern
// does and ends at the same byte. Hyperscan ran 195 `...\b` patterns 17 % faster without it
// (BENCHMARKS.md, session 6; dropping a leading \b gave nothing). Compile errors keep their
// offsets: only the end changes. The exact databases keep the pattern as written.
[[nodiscard]] std::string prefilter_expression(const std::string& expression);

class Engine {
 public:
  // Built-ins minus `config.disable`, then `config.custom`. Errors name the detector.
  // With `cache_file`, the databases come from that cache when it holds them and are written
  // there after compiling (detector_cache.h); empty: always compiled, nothing written.
  [[nodiscard]] static Result<std::shared_ptr<const Engine>> compile(const RedactConfig& config,
                                                                     const std::string& cache_file = {});
  // Compiles arbitrary detectors (benchmarks and tests use synthetic sets).
  [[nodiscard]] static Result<std::shared_ptr<const Engine>> compile(std::vector<DetectorSpec> detectors,
                                                                     const std::string& cache_file = {});
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
  // Triggers of the built-in patterns (trigger.h), OR-ed.
  [[nodiscard]] std::uint32_t triggers() const { return triggers_; }
  // Whether some pattern has no trigger and goes through the Hyperscan prefilter.
  [[nodiscard]] bool has_prefilter() const { return prefilter_ != nullptr; }

 private:
  friend class Scanner;
  struct PatternMeta {
    std::uint32_t detector;
    Validator validator;
    bool secret_after_space;
    // Whether a match is confirmed regardless of where it ends (no validator looks at the
    // end): then of several matches with one start only the longest can survive.
    bool longest_suffices;
  };
  Engine() = default;
  std::vector<DetectorSpec> detectors_;
  std::vector<std::string> json_replacements_;
  std::vector<PatternMeta> patterns_;  // indexed by Hyperscan id
  hs_database_t* prefilter_ = nullptr;
  hs_database_t* exact_ = nullptr;                            // every pattern
  std::array<hs_database_t*, kTriggerCount> trigger_exact_{};  // the patterns of one trigger
  hs_database_t* prefilter_exact_ = nullptr;                  // the patterns without a trigger
  std::uint32_t triggers_ = kTriggerNone;
  bool line_prefilter_sound_ = true;
};
using EnginePtr = std::shared_ptr<const Engine>;

// After detectors were compiled or validated: hands back what compiling leaves behind in this
// process. The compile's temporaries (~7 MB, freed but kept by glibc: malloc_trim) and the
// resident code pages of Hyperscan's compiler (~4 MB of libhs's text, paged in by the compile
// and not run again until a reload). Code pages are a clean, read-only file mapping: dropping
// them is safe while other threads scan, and the few scan routines come back from the page
// cache on their next use. Returns the bytes of libhs text that were resident.
std::size_t release_compile_memory();

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
  // True if a pattern without a trigger may match in `text` (stops at the first prefilter match).
  bool prefilter_may_match(std::string_view text);
  // Confirmed, non-overlapping spans in ascending order (validators applied, overlaps
  // resolved leftmost-longest, ties to the earlier detector), from the patterns of `groups`.
  // Equal to kAllGroups whenever `groups` holds every group that can match in `text`: each
  // database reports each of its patterns' matches independently.
  // With `windows` (from triggers_fired on this same text), the patterns of kWindowedTriggers
  // are scanned in those windows only.
  void find(std::string_view text, std::vector<Span>& spans, std::uint32_t groups = kAllGroups,
            const std::vector<Window>* windows = nullptr);
  // The triggers whose windows are matched by direct matchers (direct_match.h) instead of
  // Hyperscan: those whose every pattern is a built-in expression reproduced exactly.
  [[nodiscard]] std::uint32_t direct_triggers_for_test() const { return direct_triggers_; }

 private:
  struct Candidate {
    std::uint32_t id;
    std::uint64_t from, to;
  };
  struct MatchContext {
    std::vector<Candidate>* candidates;
    std::uint64_t offset;  // of the scanned window in the text
    const Engine* engine;
  };
  struct DirectPattern {
    std::uint32_t id;  // Hyperscan id of the pattern it replaces
    Shape shape;
  };
  void confirm(std::string_view text, const Candidate& c, std::vector<Span>& spans) const;
  // The candidates hs_scan of trigger t's database over text[from, to) would report.
  void match_direct(std::string_view text, int t, std::size_t from, std::size_t to);

  EnginePtr engine_;
  hs_scratch_t* scratch_ = nullptr;
  std::vector<Candidate> candidates_;
  std::array<std::vector<DirectPattern>, kTriggerCount> direct_;  // by trigger; empty: Hyperscan
  std::uint32_t direct_triggers_ = 0;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> direct_matches_, direct_scratch_;
};

}  // namespace auditship::redact
