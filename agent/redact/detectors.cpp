#include "auditship/redact/detectors.h"

#include <hs/hs.h>

#include <algorithm>
#include <cctype>

namespace auditship::redact {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// A candidate glued to a neighbour by '-' or '.' is a piece of a longer token (a version, a
// dotted/dashed id such as `gen-2125551234-x` or `1.2.3.4.5`), not a value of its own.
bool stands_alone(std::string_view text, std::size_t begin, std::size_t end) {
  if (begin >= 2 && (text[begin - 1] == '-' || text[begin - 1] == '.') && is_alnum(text[begin - 2])) return false;
  if (end + 1 < text.size() && (text[end] == '-' || text[end] == '.') && is_alnum(text[end + 1])) return false;
  return true;
}

// Splits a candidate into its digit groups (separators: space or dash). False if the
// separators are mixed, since real card numbers use one kind.
bool digit_groups(std::string_view s, std::vector<std::size_t>& groups, std::string& digits) {
  char sep = 0;
  std::size_t run = 0;
  for (char c : s) {
    if (is_digit(c)) {
      digits += c;
      ++run;
      continue;
    }
    if (sep && c != sep) return false;
    sep = c;
    groups.push_back(run);
    run = 0;
  }
  groups.push_back(run);
  return true;
}

bool luhn_ok(std::string_view s) {
  std::vector<std::size_t> groups;
  std::string digits;
  if (!digit_groups(s, groups, digits)) return false;
  if (digits.size() < 13 || digits.size() > 19) return false;
  // Grouped numbers come in groups of 3-8 digits (4-4-4-4, 4-6-5, 4-4-4-4-3): a list of small
  // numbers such as "1 2 3 4 ..." is not a card even if it happens to pass Luhn.
  if (groups.size() > 1) {
    if (groups.size() > 5) return false;
    for (std::size_t g : groups)
      if (g < 3 || g > 8) return false;
  }
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool mod97_ok(std::string_view s) {
  std::string compact;
  std::size_t run = 0;
  bool spaced = s.find(' ') != std::string_view::npos;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ' ') {
      if (run != 4) return false;  // spaced IBANs come in groups of four
      run = 0;
      continue;
    }
    compact += s[i];
    ++run;
  }
  if (spaced && (run == 0 || run > 4)) return false;
  if (compact.size() < 15 || compact.size() > 34) return false;
  std::rotate(compact.begin(), compact.begin() + 4, compact.end());
  int rem = 0;
  for (char c : compact) {
    if (is_digit(c)) {
      rem = (rem * 10 + (c - '0')) % 97;
    } else if (c >= 'A' && c <= 'Z') {
      rem = (rem * 100 + (c - 'A' + 10)) % 97;
    } else {
      return false;
    }
  }
  return rem == 1;
}

bool ssn_ok(std::string_view s) {
  // ddd-dd-dddd (the pattern guarantees the shape); SSA never issues these numbers.
  std::string_view area = s.substr(0, 3), group = s.substr(4, 2), serial = s.substr(7, 4);
  if (area == "000" || area == "666" || area[0] == '9') return false;
  return group != "00" && serial != "0000";
}

bool ipv4_ok(std::string_view s) {
  int octet = 0, digits = 0;
  for (char c : s) {
    if (c == '.') {
      octet = digits = 0;
      continue;
    }
    octet = octet * 10 + (c - '0');
    if (++digits > 3 || octet > 255) return false;
  }
  return true;
}

bool e164_ok(std::string_view s) {
  auto n = std::count_if(s.begin(), s.end(), is_digit);
  return n >= 8 && n <= 15;
}

PatternSpec pat(std::string expression, std::uint32_t trigger, Validator v = Validator::kNone, unsigned flags = 0,
                Shape shape = Shape::kNone) {
  return PatternSpec{std::move(expression), flags, v, false, trigger, shape};
}
// A pattern with a direct matcher for its trigger windows.
PatternSpec direct(std::string expression, std::uint32_t trigger, Shape shape, Validator v = Validator::kNone) {
  return pat(std::move(expression), trigger, v, 0, shape);
}

std::vector<DetectorSpec> make_builtins() {
  // Digit classes are spelled [0-9]: Hyperscan's \d is ASCII-only anyway, and this says so.
  // Every digit pattern is fenced by \b so a candidate is a whole digit run; the validators
  // then reject runs glued to longer tokens. Each pattern names the trigger (trigger.h) that
  // fires wherever it can match: change both together. The windowed patterns (keys, email,
  // digits) also name their direct matcher (direct_match.h): edit the expression and its matcher
  // together too; direct_match_test compares every named matcher with Hyperscan on the expression.
  std::vector<DetectorSpec> d;
  d.push_back({"openrouter_key", "[OPENROUTER_KEY]", {direct(R"(\bsk-or-v1-[A-Za-z0-9]+)", kTriggerSkDash, Shape::kOpenRouterKey)}});
  d.push_back({"anthropic_key", "[ANTHROPIC_KEY]", {direct(R"(\bsk-ant-[A-Za-z0-9_-]+)", kTriggerSkDash, Shape::kAnthropicKey)}});
  d.push_back({"openai_key", "[OPENAI_KEY]",
               {direct(R"(\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,})", kTriggerSkDash, Shape::kOpenAiKey,
                      Validator::kOpenAi)}});
  d.push_back({"aws_access_key", "[AWS_ACCESS_KEY]", {pat(R"(\b(?:AKIA|ASIA)[A-Z0-9]{16}\b)", kTriggerAws)}});
  d.push_back({"jwt", "[JWT]", {pat(R"(\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)", kTriggerJwt)}});
  {
    PatternSpec header = pat(R"(authorization["']?\s*[:=]\s*["']?bearer\s+[A-Za-z0-9._~+/-]+=*)", kTriggerBear,
                             Validator::kNone, HS_FLAG_CASELESS);
    PatternSpec bare = pat(R"(\bBearer\s+[A-Za-z0-9._~+/-]{20,}=*)", kTriggerBear);
    header.secret_after_space = bare.secret_after_space = true;
    d.push_back({"bearer_token", "[BEARER_TOKEN]", {header, bare}});
  }
  // [A-Za-z] where the seed had [A-Z|a-z] (which also accepted '|').
  d.push_back({"email", "[EMAIL]", {direct(R"(\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b)", kTriggerAt,
                                        Shape::kEmail)}});
  d.push_back({"iban", "[IBAN]", {pat(R"(\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b)", kTriggerIban, Validator::kMod97)}});
  // The digit detectors' shapes are what the digit triggers' cluster rules are derived from:
  // card >= 13 digits; SSN, formatted phones >= 9 digits with separators (at most two of
  // ` -.()` between digits); +1 / E.164 '+' then >= 7 digits; bare NANP a run of exactly 10;
  // IPv4 three dots and >= 4 digits. Each names the trigger of its shape (trigger.cpp).
  d.push_back({"credit_card", "[CARD]", {direct(R"(\b[0-9](?:[ -]?[0-9]){12,18}\b)", kTriggerLongDigits, Shape::kCard, Validator::kLuhn)}});
  d.push_back({"ssn", "[SSN]", {direct(R"(\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b)", kTriggerGroupOf4, Shape::kSsn, Validator::kSsn)}});
  d.push_back({"phone", "[PHONE]",
               {
                   direct(R"(\b[0-9]{3}[-. ][0-9]{3}[-. ][0-9]{4}\b)", kTriggerGroupOf4, Shape::kPhone, Validator::kPhone),
                   direct(R"(\([0-9]{3}\) ?[0-9]{3}[-. ][0-9]{4}\b)", kTriggerGroupOf4, Shape::kPhoneParen, Validator::kPhone),
                   direct(R"(\+1[-. ]?(?:\([0-9]{3}\)|[0-9]{3})[-. ]?[0-9]{3}[-. ]?[0-9]{4}\b)", kTriggerPlus,
                          Shape::kPhonePlusOne, Validator::kPhone),
                   direct(R"(\b1[-. ](?:\([0-9]{3}\)|[0-9]{3})[-. ]?[0-9]{3}[-. ][0-9]{4}\b)", kTriggerGroupOf4,
                          Shape::kPhoneOne, Validator::kPhone),
                   // Bare digits only when they are a valid NANP number, so epoch seconds
                   // (1.7e9: area code 1xx) and most ids survive.
                   direct(R"(\b[2-9][0-9]{2}[2-9][0-9]{6}\b)", kTriggerTenDigits, Shape::kNanp, Validator::kNanp),
                   direct(R"(\+[2-9][0-9]{0,2}(?:[ .-]?[0-9]){6,14}\b)", kTriggerPlus, Shape::kE164, Validator::kE164),
               }});
  d.push_back({"ipv4", "[IPV4]", {direct(R"(\b[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\b)", kTriggerDottedQuad, Shape::kIpv4,
                                      Validator::kIpv4)}});
  return d;
}

}  // namespace

const std::vector<DetectorSpec>& builtin_detectors() {
  static const std::vector<DetectorSpec> detectors = make_builtins();
  return detectors;
}

bool is_builtin_detector(std::string_view name) {
  const auto& all = builtin_detectors();
  return std::any_of(all.begin(), all.end(), [&](const DetectorSpec& d) { return d.name == name; });
}

bool parse_validator(std::string_view name, Validator& out) {
  if (name.empty() || name == "none") out = Validator::kNone;
  else if (name == "luhn") out = Validator::kLuhn;
  else if (name == "mod97") out = Validator::kMod97;
  else if (name == "ssn") out = Validator::kSsn;
  else return false;
  return true;
}

bool validate_candidate(Validator v, std::string_view text, std::size_t begin, std::size_t end) {
  std::string_view s = text.substr(begin, end - begin);
  switch (v) {
    case Validator::kNone: return true;
    case Validator::kLuhn: return stands_alone(text, begin, end) && luhn_ok(s);
    case Validator::kMod97: return mod97_ok(s);
    case Validator::kSsn: return s.size() == 11 && s[3] == '-' && s[6] == '-' && stands_alone(text, begin, end) && ssn_ok(s);
    case Validator::kNanp:
    case Validator::kPhone: return stands_alone(text, begin, end);
    case Validator::kE164: return stands_alone(text, begin, end) && e164_ok(s);
    case Validator::kIpv4: return stands_alone(text, begin, end) && ipv4_ok(s);
    case Validator::kOpenAi: return !s.starts_with("sk-or-") && !s.starts_with("sk-ant-");
  }
  return false;
}

Status check_pattern(const std::string& expression, unsigned flags) {
  for (unsigned som : {0u, static_cast<unsigned>(HS_FLAG_SOM_LEFTMOST)}) {
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    if (hs_compile(expression.c_str(), flags | som, HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
      std::string message = err && err->message ? err->message : "unknown Hyperscan error";
      hs_free_compile_error(err);
      return Error{message};
    }
    hs_free_database(db);
  }
  return {};
}

}  // namespace auditship::redact
