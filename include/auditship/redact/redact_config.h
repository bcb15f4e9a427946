#pragma once
// Configuration of the Redact stage (`redact:` in YAML).
#include <map>
#include <string>
#include <vector>

#include "auditship/config/checker.h"
#include "auditship/config/schema.h"

namespace auditship::redact {

struct CustomDetectorConfig {
  std::string name;
  std::string pattern;
  std::string replacement;
  std::string validator = "none";
  template <class V>
  void visit(V& v) {
    v.field("name", name, "Detector name (used in metrics and the replacement default)");
    v.field("pattern", pattern, "Hyperscan regular expression");
    v.field("replacement", replacement, "Text that replaces a match");
    v.field("validator", validator, "Check applied to candidates: none, luhn, mod97, ssn");
  }
};

struct RedactConfig {
  bool enabled = true;
  std::vector<std::string> disable;
  std::vector<CustomDetectorConfig> custom;
  std::map<std::string, std::string> fields;
  bool scan_keys = false;
  std::string hash_key_env;
  std::string hash_key_file;
  bool detector_cache = true;
  template <class V>
  void visit(V& v) {
    v.field("enabled", enabled, "Redact PII and secrets in JSON string values");
    v.field("disable", disable, "Built-in detectors to turn off: openrouter_key, anthropic_key, openai_key, aws_access_key, jwt, bearer_token, email, iban, credit_card, ssn, phone, ipv4");
    v.list("custom", custom, "Extra detectors");
    v.field("fields", fields, "Per-field policy by dotted member path (matches through arrays; covers the subtree unless a longer path overrides): redact, keep, drop, hash. Setting it replaces the default, so keep `user_id: hash` in it");
    v.field("scan_keys", scan_keys, "Also scan and rewrite object keys");
    v.field("hash_key_env", hash_key_env, "Env var holding the HMAC key (>= 16 bytes) for `hash` fields; wins over hash_key_file. Neither set: a key generated once into `<state_dir>/hash.key` (same pseudonyms across hosts need one shared key)");
    v.field("hash_key_file", hash_key_file, "File holding the HMAC key for `hash` fields");
    v.field("detector_cache", detector_cache, "Keep the compiled detectors in `<state_dir>/detectors.hsdb` and load them from there at start and reload instead of compiling (~90 ms CPU and ~4 MB RSS less); a stale or damaged file is ignored and rewritten");
  }
  void validate(config::Checker& check) const;
};

}  // namespace auditship::redact
