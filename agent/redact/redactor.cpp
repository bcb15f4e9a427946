#include "auditship/redact/redactor.h"

#include "auditship/parse/dead_letter.h"
#include "auditship/parse/parser.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "auditship/common/hash.h"
#include "auditship/common/metrics.h"
#include "auditship/redact/hmac.h"
#include "auditship/redact/trigger.h"

namespace auditship::redact {
namespace {

enum class Policy : std::uint8_t { kRedact, kKeep, kDrop, kHash };
constexpr std::uint32_t kNoNode = UINT32_MAX;
// simdjson's default depth limit: deeper documents are rejected by both, so the parser
// stage and the redactor agree, and the recursion below stays far from the stack limit.
constexpr int kMaxDepth = 1024;
// Beyond this many prefilter hits in one line, every string is scanned exactly.
constexpr std::size_t kMaxLineEnds = 256;
// A replacement changes its neighbours' context (a candidate once glued to a longer token
// may stand alone afterwards), so a string is rescanned until nothing changes: that is what
// makes redacting twice equal to redacting once. Real text converges in one or two passes.
constexpr int kMaxPasses = 4;

struct PathNode {
  std::vector<std::pair<std::string, std::uint32_t>> children;
  Policy policy = Policy::kRedact;
  bool has_policy = false;
};

bool parse_policy(std::string_view s, Policy& p) {
  if (s == "redact") p = Policy::kRedact;
  else if (s == "keep") p = Policy::kKeep;
  else if (s == "drop") p = Policy::kDrop;
  else if (s == "hash") p = Policy::kHash;
  else return false;
  return true;
}

unsigned hex4(const char* p) {
  return static_cast<unsigned>(hex_value(p[0]) << 12 | hex_value(p[1]) << 8 | hex_value(p[2]) << 4 | hex_value(p[3]));
}

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | cp >> 6);
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | cp >> 12);
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | cp >> 18);
    out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes the inside of a well-formed JSON string. raw_at (if given) maps each decoded byte
// to the offset of the raw character or escape it came from, plus one entry for the end, so
// a span of decoded text maps back to raw bytes and untouched escapes survive verbatim.
// A lone surrogate decodes to U+FFFD (it is kept as written in the output).
void decode(std::string_view raw, std::string& out, std::vector<std::uint32_t>* raw_at) {
  out.clear();
  if (raw_at) raw_at->clear();
  std::size_t i = 0;
  while (i < raw.size()) {
    // Runs without escapes (most of a prompt) are copied whole.
    std::size_t run = std::min(raw.find('\\', i), raw.size());
    if (run > i) {
      out.append(raw.data() + i, run - i);
      if (raw_at)
        for (std::size_t k = i; k < run; ++k) raw_at->push_back(static_cast<std::uint32_t>(k));
      i = run;
      continue;
    }
    std::size_t at = i;
    std::size_t before = out.size();
    char e = raw[i + 1];
    i += 2;
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        unsigned cp = hex4(raw.data() + i);
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= raw.size() && raw[i] == '\\' && raw[i + 1] == 'u') {
          unsigned lo = hex4(raw.data() + i + 2);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
        append_utf8(out, cp);
        break;
      }
      default: out += e; break;  // \" \\ \/
    }
    if (raw_at)
      for (std::size_t k = before; k < out.size(); ++k) raw_at->push_back(static_cast<std::uint32_t>(at));
  }
  if (raw_at) raw_at->push_back(static_cast<std::uint32_t>(raw.size()));
}

// Where a number token's first significant digit sits: 10^magnitude <= |value| < 10^(magnitude+1).
long decimal_magnitude(std::string_view t) {
  std::size_t exp_at = std::min(t.find_first_of("eE"), t.size());
  long exponent = 0;
  if (exp_at < t.size()) {
    std::size_t d = exp_at + 1 + (t[exp_at + 1] == '+' || t[exp_at + 1] == '-');
    for (; d < t.size() && exponent < 1'000'000'000L; ++d) exponent = exponent * 10 + (t[d] - '0');
    if (t[exp_at + 1] == '-') exponent = -exponent;
  }
  long position = 0;  // of the first nonzero digit, counted from the decimal point
  bool seen_point = false, leading = true;
  for (std::size_t k = t[0] == '-'; k < exp_at; ++k) {
    if (t[k] == '.') {
      seen_point = true;
    } else if (leading && t[k] == '0') {
      if (seen_point) --position;
    } else if (leading) {
      leading = false;
      if (seen_point) --position;
    } else if (!seen_point) {
      ++position;
    }
  }
  return position + exponent;
}

// What simdjson (so the Parse stage) takes as a number beyond the JSON grammar: an integer
// must fit 64 bits (signed if negative) and any other number must be finite as a double.
// `integer`: no fraction or exponent; `exp_digits`: the exponent's digits (0 without one).
bool number_fits(std::string_view t, bool integer, std::size_t exp_digits) {
  const bool negative = t[0] == '-';
  bool fits = true;
  if (integer && t.size() - negative > 18) {
    std::int64_t i;
    std::uint64_t u;
    fits = negative ? std::from_chars(t.data(), t.data() + t.size(), i).ec == std::errc()
                    : std::from_chars(t.data(), t.data() + t.size(), u).ec == std::errc();
  } else if (!integer) {
    // Below 10^24 * 10^99 nothing overflows: only long tokens are worth a conversion.
    if (t.size() > 24 || exp_digits > 2) {
      double d;
      if (std::from_chars(t.data(), t.data() + t.size(), d).ec == std::errc::result_out_of_range)
        fits = decimal_magnitude(t) < 0;  // an underflow (to 0) is fine; an overflow is not
    }
  }
  return fits;
}

Result<std::string> load_hmac_key(const RedactConfig& config) {
  std::string key;
  if (!config.hash_key_env.empty())
    if (const char* v = std::getenv(config.hash_key_env.c_str()); v) key = v;
  if (key.empty() && !config.hash_key_file.empty()) {
    std::ifstream in(config.hash_key_file, std::ios::binary);
    if (!in) return Error{"redact.hash_key_file: cannot read '" + config.hash_key_file + "'"};
    std::ostringstream s;
    s << in.rdbuf();
    key = s.str();
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  }
  if (key.empty()) {
    std::string where;
    if (!config.hash_key_env.empty()) where += "environment variable " + config.hash_key_env + " is unset or empty";
    if (!config.hash_key_file.empty()) where += std::string(where.empty() ? "" : " and ") + "hash_key_file is empty";
    if (where.empty()) where = "neither redact.hash_key_env nor redact.hash_key_file is set";
    return Error{"redact.fields uses `hash` but there is no HMAC key (" + where +
                 "); refusing to fall back to a plain hash"};
  }
  // A short key can be brute-forced together with the (often guessable) values.
  if (key.size() < 16) return Error{"redact: the HMAC key for `hash` fields must be at least 16 bytes"};
  return key;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  std::string out;
  HmacSha256(key).append_hex(data, out);
  return out;
}

struct Redactor::Shared {
  EnginePtr engine;
  std::vector<PathNode> paths;  // [0] is the document root
  bool scan_keys = false;
  bool reference = false;  // make_reference_for_test(): no prefilter at all
  std::string hmac_key;
  std::vector<metrics::Counter*> redactions;  // by detector
  metrics::Counter* hashed = nullptr;
  metrics::Counter* dropped = nullptr;
  metrics::Counter* rejected = nullptr;
};

struct Redactor::State {
  explicit State(const EnginePtr& engine)
      : scanner(engine), pending(engine->detector_count()), total(engine->detector_count()) {}
  Scanner scanner;
  std::vector<std::uint64_t> pending, total;  // by detector
  std::uint64_t pending_hashed = 0, pending_dropped = 0, pending_rejected = 0;
  std::vector<std::uint32_t> line_hits;  // detectors hit in the current line, committed if it is valid
  std::uint64_t line_hashed = 0, line_dropped = 0;
  std::vector<std::uint32_t> line_ends;  // prefilter match ends in the line being rewritten
  bool line_ends_complete = false;
  std::vector<std::uint32_t> buffer_ends;  // the same in a whole batch's input (process)
  std::vector<Span> spans;
  std::vector<Window> windows;
  LineIndex index;       // of the line being rewritten
  LineIndex text_index;  // of a decoded string
  bool windows_valid = false;  // windows index the text the exact scan will see
  std::string decoded, key, pass[2], copy;
  std::string member_key, member_value;  // a parsing walk's top-level member
  std::vector<std::uint32_t> raw_at;
  std::unique_ptr<HmacSha256> hmac;  // made on the first `hash` value (keyed once per clone)
};

struct Redactor::Fields {
  parse::Parser* parser;
  Batch* batch;
  Record* record;
};

namespace {

// One pass over one JSON text: validates it and rewrites it into `out`, copying untouched
// bytes lazily (out receives nothing until the first change). With `fields` it parses for
// the Parse stage too: it takes only what simdjson takes (an object at the root, numbers in
// range, paired surrogate escapes) and hands the parser each top-level member.
class Walker {
 public:
  Walker(const Redactor::Shared& shared, Redactor::State& st, std::string_view in, std::string& out,
         const Redactor::Fields* fields)
      : sh_(shared), st_(st), b_(in.data()), n_(in.size()), out_(out), fields_(fields) {}

  bool run() {
    skip_ws();
    if (fields_ && (i_ >= n_ || b_[i_] != '{')) return false;
    if (!parse_value(Policy::kRedact, sh_.paths.empty() ? kNoNode : 0)) return false;
    skip_ws();
    return i_ == n_;
  }
  [[nodiscard]] bool changed() const { return changed_; }
  void finish() { out_.append(b_ + copied_, n_ - copied_); }

 private:
  void skip_ws() {
    while (i_ < n_ && (b_[i_] == ' ' || b_[i_] == '\n' || b_[i_] == '\r' || b_[i_] == '\t')) ++i_;
  }
  // Replaces input bytes [from, to) by whatever the caller appends next.
  void cut(std::size_t from, std::size_t to) {
    out_.append(b_ + copied_, from - copied_);
    copied_ = to;
    changed_ = true;
  }

  bool parse_value(Policy policy, std::uint32_t node) {
    if (i_ >= n_) return false;
    switch (b_[i_]) {
      case '{': return nest([&] { return parse_object(policy, node); });
      case '[': return nest([&] { return parse_array(policy, node); });
      case '"': return parse_string_value(policy);
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return parse_number(policy);
    }
  }

  template <class F>
  bool nest(F&& f) {
    if (++depth_ > kMaxDepth) return false;
    bool ok = f();
    --depth_;
    return ok;
  }

  bool literal(std::string_view word) {
    if (n_ - i_ < word.size() || std::string_view(b_ + i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  bool digits() {
    std::size_t s = i_;
    while (i_ < n_ && b_[i_] >= '0' && b_[i_] <= '9') ++i_;
    return i_ > s;
  }

  bool parse_number(Policy policy) {
    std::size_t s = i_;
    if (b_[i_] == '-') ++i_;
    if (i_ >= n_) return false;
    if (b_[i_] == '0') {
      ++i_;
    } else if (!digits()) {
      return false;
    }
    number_integer_ = true;
    if (i_ < n_ && b_[i_] == '.') {
      ++i_;
      if (!digits()) return false;
      number_integer_ = false;
    }
    std::size_t exp_digits = 0;
    if (i_ < n_ && (b_[i_] == 'e' || b_[i_] == 'E')) {
      ++i_;
      if (i_ < n_ && (b_[i_] == '+' || b_[i_] == '-')) ++i_;
      std::size_t at = i_;
      if (!digits()) return false;
      exp_digits = i_ - at;
      number_integer_ = false;
    }
    if (fields_ && !number_fits(std::string_view(b_ + s, i_ - s), number_integer_, exp_digits)) return false;
    if (policy == Policy::kHash) write_hash(s, i_, std::string_view(b_ + s, i_ - s), true);
    return true;
  }

  // Scans a string token starting at its opening quote; leaves i_ after the closing quote.
  // `has_escape`: some backslash escape; `has_u`: a \u escape among them.
  bool scan_string(bool& has_escape, bool& has_u) {
    has_escape = has_u = false;
    ++i_;
    for (;;) {
      i_ = st_.index.next_stop(i_);
      if (i_ >= n_) return false;
      char c = b_[i_];
      if (c == '"') {
        ++i_;
        last_escaped_ = has_escape;
        return true;
      }
      if (c != '\\' || i_ + 1 >= n_) return false;  // a raw control character
      has_escape = true;
      char e = b_[i_ + 1];
      if (e == 'u') {
        if (n_ - i_ < 6) return false;
        for (int k = 2; k < 6; ++k)
          if (hex_value(b_[i_ + k]) < 0) return false;
        has_u = true;
        if (fields_ && !surrogates_paired()) return false;
        i_ += 6;
      } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
        i_ += 2;
      } else {
        return false;
      }
    }
  }

  // At the \u escape at i_: simdjson takes a surrogate only as a high half with its low half
  // escaped right after it (and then moves i_ to that second escape).
  [[gnu::noinline]] bool surrogates_paired() {
    unsigned cp = hex4(b_ + i_ + 2);
    if (cp < 0xD800 || cp > 0xDFFF) return true;
    if (cp >= 0xDC00 || n_ - i_ < 12 || b_[i_ + 6] != '\\' || b_[i_ + 7] != 'u') return false;
    for (int k = 8; k < 12; ++k)
      if (hex_value(b_[i_ + k]) < 0) return false;
    unsigned low = hex4(b_ + i_ + 8);
    if (low < 0xDC00 || low > 0xDFFF) return false;
    i_ += 6;
    return true;
  }

  // Hands the parser a top-level member: key [ks, ke) and value [vs, ve) as tokens.
  void pick(std::size_t ks, std::size_t ke, bool kesc, std::size_t vs, std::size_t ve) {
    std::string_view key(b_ + ks + 1, ke - ks - 2);
    if (kesc) {
      decode(key, st_.member_key, nullptr);
      key = st_.member_key;
    }
    parse::Parser& parser = *fields_->parser;
    const parse::Parser::Wanted wanted = parser.wants(key);
    if (!wanted) return;
    parse::Scalar v;
    std::string_view token(b_ + vs, ve - vs);
    if (token[0] == '"') {
      v.kind = parse::Scalar::Kind::kString;
      v.text = token.substr(1, token.size() - 2);
      if (last_escaped_) {  // the value is the string scanned last
        decode(v.text, st_.member_value, nullptr);
        v.text = st_.member_value;
      }
    } else if (token[0] == '-' || (token[0] >= '0' && token[0] <= '9')) {  // the number just parsed
      v.kind = number_integer_ ? parse::Scalar::Kind::kInteger : parse::Scalar::Kind::kFloat;
      if (number_integer_) v.text = token == "-0" ? std::string_view("0") : token;  // as simdjson prints it
      if (std::from_chars(token.data(), token.data() + token.size(), v.number).ec == std::errc::result_out_of_range)
        v.number = token[0] == '-' ? -0.0 : 0.0;  // an underflow: number_fits() rejected overflows
    }
    parser.member(*fields_->batch, *fields_->record, wanted, v);
  }

  bool parse_string_value(Policy policy) {
    std::size_t s = i_;
    bool esc, u_esc;
    if (!scan_string(esc, u_esc)) return false;
    if (policy == Policy::kRedact) {
      redact_string(s + 1, i_ - 1, esc, u_esc);
    } else if (policy == Policy::kHash) {
      std::string_view text(b_ + s + 1, i_ - 1 - (s + 1));
      if (esc) {
        decode(text, st_.decoded, nullptr);
        text = st_.decoded;
      }
      if (!HmacSha256::is_digest_hex(text)) write_hash(s + 1, i_ - 1, text, false);  // our own output
    }
    return true;
  }

  void write_hash(std::size_t from, std::size_t to, std::string_view value, bool quote) {
    if (!st_.hmac) st_.hmac = std::make_unique<HmacSha256>(sh_.hmac_key);
    cut(from, to);  // `value` is input text or st_.decoded, never out_
    if (quote) out_ += '"';
    st_.hmac->append_hex(value, out_);
    if (quote) out_ += '"';
    ++st_.line_hashed;
  }

  // Does a prefilter match end inside [s, e)? Strings come in line order, so one cursor
  // walks the sorted ends once per line.
  bool line_flagged(std::size_t s, std::size_t e) {
    const auto& ends = st_.line_ends;
    while (end_cursor_ < ends.size() && ends[end_cursor_] <= s) ++end_cursor_;
    return end_cursor_ < ends.size() && ends[end_cursor_] <= e;
  }

  // The exact groups (engine.h) that could match in the raw string contents `raw`; 0 if none.
  // `line_at` is the offset of `raw` in the line on the first pass (the line-level prefilter
  // ends and the line index apply to it), else npos.
  std::uint32_t groups_to_scan(std::string_view raw, bool esc, bool u_esc, std::size_t line_at) {
    if (sh_.reference) return kAllGroups;
    const Engine& engine = st_.scanner.engine();
    bool decoded = false;
    std::uint32_t groups = 0;
    st_.windows_valid = false;
    if (std::uint32_t t = engine.triggers()) {
      std::string_view text = raw;
      if (u_esc) {  // other escapes leave the triggers' answer unchanged (trigger.h)
        decode(raw, st_.decoded, nullptr);
        text = st_.decoded;
        decoded = true;
      }
      // Windows are offsets in `text`: usable when the exact scan sees the same bytes.
      st_.windows_valid = !esc || u_esc;
      std::vector<Window>* windows = st_.windows_valid ? &st_.windows : nullptr;
      // On the first pass a string without \u escapes is a span of the line, which the
      // line index has already looked at.
      if (line_at != std::string_view::npos && !u_esc) {
        groups = st_.index.triggers_fired(line_at, line_at + raw.size(), t, windows);
      } else {
        // A \u-escaped string, or a later pass over a changed one (often a long prompt):
        // an index of the text, as for the line (trigger.h: the same answer as the walk).
        st_.text_index.build(text);
        groups = st_.text_index.triggers_fired(0, text.size(), t, windows);
      }
    }
    if (!engine.has_prefilter()) return groups;
    bool flagged;
    if (!esc && line_at != std::string_view::npos && st_.line_ends_complete) {
      flagged = line_flagged(line_at, line_at + raw.size());
    } else {
      if (esc && !decoded) decode(raw, st_.decoded, nullptr);
      flagged = st_.scanner.prefilter_may_match(esc ? std::string_view(st_.decoded) : raw);
    }
    return flagged ? groups | kGroupPrefilter : groups;
  }

  // Redacts the inside [s, e) of a string token, rescanning the result until it is stable.
  void redact_string(std::size_t s, std::size_t e, bool esc, bool u_esc) {
    std::string_view cur(b_ + s, e - s);
    bool changed = false;
    for (int pass = 0; pass < kMaxPasses; ++pass) {
      std::uint32_t groups = groups_to_scan(cur, esc, u_esc, pass == 0 ? s : std::string_view::npos);
      if (!groups) break;
      std::string& dst = st_.pass[pass & 1];
      dst.clear();
      if (!redact_text(cur, esc, groups, dst)) break;
      changed = true;
      cur = dst;
      esc = cur.find('\\') != std::string_view::npos;
      u_esc = esc && cur.find("\\u") != std::string_view::npos;  // may over-report: only costs a decode
    }
    if (!changed) return;
    cut(s, e);
    out_.append(cur);
  }

  // One pass: appends the redacted form of raw string contents `raw` to dst; false if none.
  bool redact_text(std::string_view raw, bool esc, std::uint32_t groups, std::string& dst) {
    std::string_view text = raw;
    if (esc) {
      decode(raw, st_.decoded, nullptr);
      text = st_.decoded;
    }
    if (esc && !st_.windows_valid && groups != kAllGroups && (groups & kWindowedTriggers)) {
      // The windows found on the raw bytes do not index the decoded text; find them on the
      // decoded text instead of scanning all of it (escaped strings are the long prompts).
      st_.text_index.build(text);
      (void)st_.text_index.triggers_fired(0, text.size(), groups & kWindowedTriggers, &st_.windows);
      st_.windows_valid = true;
    }
    st_.scanner.find(text, st_.spans, groups, st_.windows_valid ? &st_.windows : nullptr);
    if (st_.spans.empty()) return false;
    // Only now is the decoded->raw offset map worth building (most escaped strings are clean).
    if (esc) decode(raw, st_.decoded, &st_.raw_at);
    const Engine& engine = st_.scanner.engine();
    std::size_t pos = 0;
    for (const Span& sp : st_.spans) {
      std::size_t rb = esc ? st_.raw_at[sp.begin] : sp.begin;
      std::size_t re = esc ? st_.raw_at[sp.end] : sp.end;
      dst.append(raw.substr(pos, rb - pos));
      dst.append(engine.json_replacement(sp.detector));
      pos = re;
      st_.line_hits.push_back(sp.detector);
    }
    dst.append(raw.substr(pos));
    return true;
  }

  std::uint32_t lookup(std::uint32_t node, std::size_t s, std::size_t e, bool esc) {
    std::string_view key(b_ + s, e - s);
    if (esc) {
      decode(key, st_.key, nullptr);
      key = st_.key;
    }
    for (const auto& [name, child] : sh_.paths[node].children)
      if (name == key) return child;
    return kNoNode;
  }

  bool parse_object(Policy policy, std::uint32_t node) {
    ++i_;
    skip_ws();
    if (i_ < n_ && b_[i_] == '}') {
      ++i_;
      return true;
    }
    bool emitted = false;  // a member before this one survives
    std::size_t comma = std::string_view::npos;
    for (;;) {
      if (i_ >= n_ || b_[i_] != '"') return false;
      std::size_t ks = i_;
      bool kesc, ku_esc;
      if (!scan_string(kesc, ku_esc)) return false;
      std::size_t ke = i_;
      Policy mp = policy;
      std::uint32_t child = node == kNoNode ? kNoNode : lookup(node, ks + 1, ke - 1, kesc);
      if (child != kNoNode && sh_.paths[child].has_policy) mp = sh_.paths[child].policy;
      skip_ws();
      if (i_ >= n_ || b_[i_] != ':') return false;
      ++i_;
      skip_ws();
      const std::size_t vs = i_;
      if (mp == Policy::kDrop) {
        if (!parse_value(Policy::kKeep, kNoNode)) return false;
        // Remove the member with the comma before it; the first member has none, so its
        // following comma goes with the next surviving member (below).
        cut(comma != std::string_view::npos ? comma : ks, i_);
        ++st_.line_dropped;
      } else {
        if (!emitted && comma != std::string_view::npos) cut(comma, comma + 1);
        if (sh_.scan_keys && mp != Policy::kKeep) redact_string(ks + 1, ke - 1, kesc, ku_esc);
        if (!parse_value(mp, child)) return false;
        emitted = true;
      }
      if (fields_ && depth_ == 1) pick(ks, ke, kesc, vs, i_);
      skip_ws();
      if (i_ >= n_) return false;
      if (b_[i_] == ',') {
        comma = i_++;
        skip_ws();
        continue;
      }
      if (b_[i_] != '}') return false;
      ++i_;
      return true;
    }
  }

  bool parse_array(Policy policy, std::uint32_t node) {
    ++i_;
    skip_ws();
    if (i_ < n_ && b_[i_] == ']') {
      ++i_;
      return true;
    }
    for (;;) {
      if (!parse_value(policy, node)) return false;  // paths match through arrays
      skip_ws();
      if (i_ >= n_) return false;
      if (b_[i_] == ',') {
        ++i_;
        skip_ws();
        continue;
      }
      if (b_[i_] != ']') return false;
      ++i_;
      return true;
    }
  }

  const Redactor::Shared& sh_;
  Redactor::State& st_;
  const char* b_;
  std::size_t n_;
  std::size_t i_ = 0;
  std::string& out_;
  std::size_t copied_ = 0;
  std::size_t end_cursor_ = 0;
  int depth_ = 0;
  bool changed_ = false;
  bool number_integer_ = false;  // the last number parsed had no fraction or exponent
  bool last_escaped_ = false;   // the last string scanned had an escape
  const Redactor::Fields* fields_;
};

Result<std::shared_ptr<Redactor::Shared>> make_shared_state(EnginePtr engine, const RedactConfig& config) {
  auto sh = std::make_shared<Redactor::Shared>();
  sh->engine = std::move(engine);
  sh->scan_keys = config.scan_keys;
  bool any_hash = false;
  if (!config.fields.empty()) sh->paths.emplace_back();
  for (const auto& [path, policy_name] : config.fields) {
    Policy policy;
    if (!parse_policy(policy_name, policy)) return Error{"redact.fields." + path + ": unknown policy '" + policy_name + "'"};
    any_hash |= policy == Policy::kHash;
    std::uint32_t node = 0;
    std::size_t start = 0;
    for (;;) {
      std::size_t dot = path.find('.', start);
      std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      std::uint32_t next = kNoNode;
      for (const auto& [name, child] : sh->paths[node].children)
        if (name == part) next = child;
      if (next == kNoNode) {
        next = static_cast<std::uint32_t>(sh->paths.size());
        sh->paths[node].children.emplace_back(part, next);
        sh->paths.emplace_back();
      }
      node = next;
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    sh->paths[node].policy = policy;
    sh->paths[node].has_policy = true;
  }
  if (any_hash) {
    auto key = load_hmac_key(config);
    if (!key) return Error{key.error()};
    sh->hmac_key = std::move(*key);
  }
  auto& reg = metrics::Registry::global();
  for (std::size_t d = 0; d < sh->engine->detector_count(); ++d)
    sh->redactions.push_back(&reg.counter("auditship_redactions_total", "Values redacted, by detector",
                                          {{"detector", sh->engine->name(d)}}));
  const char* policy_help = "String values rewritten or removed by a field policy";
  sh->hashed = &reg.counter("auditship_redact_fields_total", policy_help, {{"policy", "hash"}});
  sh->dropped = &reg.counter("auditship_redact_fields_total", policy_help, {{"policy", "drop"}});
  sh->rejected = &reg.counter("auditship_redact_rejected_total",
                              "Records the redactor could not parse (dropped, never shipped unredacted)");
  return sh;
}

}  // namespace

Result<RedactorPtr> Redactor::make(const RedactConfig& config, const std::string& detector_cache_file) {
  auto engine = Engine::compile(config, detector_cache_file);
  if (!engine) return Error{"redact: " + engine.error()};
  auto shared = make_shared_state(std::move(*engine), config);
  if (!shared) return Error{shared.error()};
  return RedactorPtr(new Redactor(std::move(*shared)));
}

Result<RedactorPtr> Redactor::make_reference_for_test(const RedactConfig& config) {
  auto fast = make(config);
  if (!fast) return Error{fast.error()};
  auto shared = std::make_shared<Shared>(*(*fast)->shared_);
  shared->reference = true;
  return RedactorPtr(new Redactor(std::move(shared)));
}

Result<RedactorPtr> Redactor::make(std::vector<DetectorSpec> detectors) {
  auto engine = Engine::compile(std::move(detectors));
  if (!engine) return Error{"redact: " + engine.error()};
  auto shared = make_shared_state(std::move(*engine), RedactConfig{});
  if (!shared) return Error{shared.error()};
  return RedactorPtr(new Redactor(std::move(*shared)));
}

Redactor::Redactor(std::shared_ptr<const Shared> shared)
    : shared_(std::move(shared)), state_(std::make_unique<State>(shared_->engine)) {}

Redactor::~Redactor() { flush_counters(); }

RedactorPtr Redactor::clone() const { return RedactorPtr(new Redactor(shared_)); }

bool Redactor::buffer_prefilter_usable() const {
  return !shared_->reference && shared_->engine->has_prefilter() && shared_->engine->line_prefilter_sound();
}

void Redactor::prefilter_line(std::string_view json) {
  State& st = *state_;
  st.line_ends_complete = buffer_prefilter_usable() && st.scanner.match_ends(json, st.line_ends, kMaxLineEnds);
}

Redactor::Outcome Redactor::rewrite(std::string_view json, std::string& out) {
  prefilter_line(json);
  return rewrite_scanned(json, out);
}

Redactor::Outcome Redactor::rewrite_scanned(std::string_view json, std::string& out, const Fields* fields) {
  State& st = *state_;
  st.index.build(json);
  // A parsing walk's rejection is the parser's to count (process()).
  if (!st.index.ascii() && !simdjson::validate_utf8(json.data(), json.size())) {
    if (!fields) ++st.pending_rejected;
    return Outcome::kInvalid;
  }
  st.line_hits.clear();
  st.line_hashed = st.line_dropped = 0;
  std::size_t start = out.size();
  Walker w(*shared_, st, json, out, fields);
  if (!w.run()) {
    out.resize(start);
    if (!fields) ++st.pending_rejected;
    return Outcome::kInvalid;
  }
  for (std::uint32_t d : st.line_hits) ++st.pending[d];
  st.pending_hashed += st.line_hashed;
  st.pending_dropped += st.line_dropped;
  if (!w.changed()) return Outcome::kUnchanged;
  w.finish();
  return Outcome::kChanged;
}

bool Redactor::redact_json(std::string_view json, std::string& out) {
  switch (rewrite(json, out)) {
    case Outcome::kInvalid: return false;
    case Outcome::kUnchanged: out.append(json); return true;
    case Outcome::kChanged: return true;
  }
  return false;
}

namespace {
bool is_word_byte(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
}  // namespace

void Redactor::process(Batch& batch, parse::Parser* parser) {
  State& st = *state_;
  // Room for every line rewritten once, plus an eighth for replacements longer than what they
  // replace (a 64-digit pseudonym for an 11-byte user id): `output` then grows without copies
  // and Batch::compact can keep it as it is.
  batch.output.reserve(batch.output.size() + batch.input.size() + batch.input.size() / 8);
  // The custom detectors' prefilter runs once over the whole read buffer instead of once per
  // line: an hs_scan call costs ~0.2 us before it reads a byte, a fifth of the scan of a
  // 700-byte line with 200 detectors. Sound for a line whose neighbours in the buffer are
  // non-word bytes (its newline, a CR, a space): a pattern without anchors (the engine says
  // when there are some) then matches inside the line exactly where it matches in the line
  // alone, \b and \B included, so every end the line's own scan reports is among the buffer's.
  // A match reaching across a newline only adds an end: a string scanned for nothing.
  // (Scanning only the strings' contents was tried: Hyperscan's time hardly fell with the bytes
  // left out, and finding the strings cost as much; BENCHMARKS.md, "Session 4".)
  const bool whole_buffer = buffer_prefilter_usable() &&
                            st.scanner.match_ends(batch.input, st.buffer_ends, kMaxLineEnds * batch.records.size());
  for (Record& r : batch.records) {
    Fields fields{parser, &batch, &r};
    const bool parsing = parser && parser->begin(batch, r);
    // Dead-letter envelopes carry the raw line as a JSON string: it is redacted too, so a
    // malformed record cannot carry PII past the agent.
    if (r.disposition != Disposition::kShip && r.disposition != Disposition::kDeadLetter) continue;
    Outcome outcome = redact_record(batch, r, whole_buffer, parsing ? &fields : nullptr);
    if (parsing) {
      if (outcome != Outcome::kInvalid) parser->accept();
      // The walk rejected the line: the parser says why, and its envelope is redacted instead.
      else if (parser->reject(batch, r)) outcome = redact_record(batch, r, whole_buffer, nullptr);
      else ++st.pending_rejected;  // simdjson takes what the walk did not
    }
    if (outcome != Outcome::kInvalid) continue;
    // The parser accepted it but the redactor cannot rewrite it (the fuzzer says this does
    // not happen). Never ship it unredacted: dead-letter where it was, without its bytes.
    const std::size_t start = batch.output.size();
    parse::append_dead_letter(batch.output, {DeadLetterReason::kUnredactable,
                                             "the redactor could not rewrite this record; raw omitted",
                                             batch.source ? std::string_view(batch.source->path) : "",
                                             r.file_offset, r.line_bytes, "", ""});
    batch.set_output_payload(r, start);
    r.disposition = Disposition::kDeadLetter;
    r.reason = DeadLetterReason::kUnredactable;
  }
  if (parser) parser->end_batch();
  flush_counters();
}

Redactor::Outcome Redactor::redact_record(Batch& batch, Record& r, bool whole_buffer, const Fields* fields) {
  State& st = *state_;
  std::string_view payload = batch.payload(r);
  if (r.payload_in_output) {
    // Appending to batch.output may move it; work from a copy.
    st.copy.assign(payload);
    payload = st.copy;
  }
  const std::size_t at = r.payload.offset, end = at + r.payload.length;
  const bool from_buffer = whole_buffer && !r.payload_in_output && (at == 0 || !is_word_byte(batch.input[at - 1])) &&
                           (end == batch.input.size() || !is_word_byte(batch.input[end]));
  if (from_buffer) {
    // The ends inside (at, end], as offsets in the line (an end at `at` closes a match before it).
    auto lo = std::upper_bound(st.buffer_ends.begin(), st.buffer_ends.end(), static_cast<std::uint32_t>(at));
    auto hi = std::upper_bound(lo, st.buffer_ends.end(), static_cast<std::uint32_t>(end));
    st.line_ends.clear();
    for (auto it = lo; it != hi; ++it) st.line_ends.push_back(static_cast<std::uint32_t>(*it - at));
    st.line_ends_complete = true;
  } else {
    prefilter_line(payload);
  }
  const std::size_t start = batch.output.size();
  const Outcome outcome = rewrite_scanned(payload, batch.output, fields);
  if (outcome == Outcome::kChanged) batch.set_output_payload(r, start);
  return outcome;
}

void Redactor::flush_counters() {
  State& st = *state_;
  for (std::size_t d = 0; d < st.pending.size(); ++d) {
    if (!st.pending[d]) continue;
    shared_->redactions[d]->inc(st.pending[d]);
    st.total[d] += st.pending[d];
    st.pending[d] = 0;
  }
  if (st.pending_hashed) shared_->hashed->inc(std::exchange(st.pending_hashed, 0));
  if (st.pending_dropped) shared_->dropped->inc(std::exchange(st.pending_dropped, 0));
  if (st.pending_rejected) shared_->rejected->inc(std::exchange(st.pending_rejected, 0));
}

std::uint64_t Redactor::count_for_test(std::string_view detector) const {
  const Engine& e = *shared_->engine;
  for (std::size_t d = 0; d < e.detector_count(); ++d)
    if (e.name(d) == detector) return state_->total[d] + state_->pending[d];
  return 0;
}

}  // namespace auditship::redact
