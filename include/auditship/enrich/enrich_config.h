#pragma once
// Configuration of the Enrich stage (`enrich:` in YAML). One visit() table drives parsing,
// `auditship check` output and the option reference; validate() adds the cross-field rules.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "auditship/config/checker.h"
#include "auditship/config/schema.h"

namespace auditship::enrich {

// Every `openrouter.*` field the stage can copy from a generation, in output order.
const std::vector<std::string>& all_generation_fields();

struct EnrichConfig {
  bool enabled = false;
  std::string endpoint = "https://openrouter.ai/api/v1/generation";
  std::string api_key_env = "OPENROUTER_API_KEY";
  std::string api_key_file;
  // Named keys for apps that call OpenRouter with different keys: name -> "env:VAR" or
  // "file:/path" (never the key itself, so a config file can be shared and printed).
  std::map<std::string, std::string> api_keys;
  std::string key_field;  // dotted path in the record naming the key, e.g. metadata.app
  std::string ca_file;
  bool tls_verify = true;
  std::string proxy;  // "" = HTTPS_PROXY / NO_PROXY from the environment, "none", or a URL
  config::Duration initial_delay{1000};
  config::Duration horizon{120000};
  double max_rps = 50;
  std::uint32_t max_in_flight = 64;
  // Lookups in flight are capped at min(max_in_flight, pool_size), one per HTTP/1.1 connection:
  // at 50 ms per answer 16 connections cap lookups at 320/s, 64 at 1,280/s (213/s at 300 ms).
  // Connections open only as concurrency needs them, so a large pool costs nothing when idle.
  std::uint32_t pool_size = 64;
  config::Duration request_timeout{10000};
  std::string mode = "hold";
  std::string when = "missing_cost";
  std::vector<std::string> fields = all_generation_fields();
  std::uint32_t cache_size = 100000;
  config::Duration cache_ttl{600000};
  config::Duration dedup_window{600000};
  std::uint32_t hold_max_records = 100000;
  config::Bytes hold_max_bytes = 64u << 20;
  std::uint32_t max_pending = 1000000;

  template <class V>
  void visit(V& v) {
    v.field("enabled", enabled, "Look up each record's generation for exact cost");
    v.field("endpoint", endpoint, "OpenRouter generation endpoint (https://, or http:// for tests)");
    v.field("api_key_env", api_key_env, "Env var holding the API key used for lookups");
    v.field("api_key_file", api_key_file, "File holding the API key (instead of api_key_env)");
    v.field("api_keys", api_keys, "Named keys chosen per record by key_field: name -> env:VAR or file:/path");
    v.field("key_field", key_field, "Dotted record path naming the key in api_keys (e.g. metadata.app)");
    v.field("ca_file", ca_file, "PEM bundle of a private CA for the endpoint");
    v.field("tls_verify", tls_verify, "Verify the endpoint's certificate and host name (false is logged)");
    v.field("proxy", proxy,
            "HTTP proxy for lookups (CONNECT tunnel): http://[user:password@]host:port, none, or empty for "
            "HTTPS_PROXY/NO_PROXY");
    v.field("initial_delay", initial_delay, "First lookup no earlier than the record's timestamp plus this");
    v.field("horizon", horizon, "How long a lookup is retried, from when it is due (timestamp + initial_delay)");
    v.field("max_rps", max_rps, "Lookups per second at most (token bucket; lowered on 429)");
    v.field("max_in_flight", max_in_flight, "Requests outstanding at once at most");
    v.field("pool_size", pool_size, "Keep-alive connections to the endpoint at most");
    v.field("request_timeout", request_timeout, "Deadline for each network step of a lookup");
    v.field("mode", mode, "hold: records wait for their lookup; follow_up: ship now, enrichment events later");
    v.field("when", when, "missing_cost: look up only records without a positive total_cost; always");
    v.field("fields", fields, "Generation fields copied into the record's `openrouter` object");
    v.field("cache_size", cache_size, "Resolved generations kept to answer repeats");
    v.field("cache_ttl", cache_ttl, "How long a cached generation answers repeats");
    v.field("dedup_window", dedup_window, "A generation_id seen again within this is dropped (0: off)");
    v.field("hold_max_records", hold_max_records, "hold mode: records held at most; reading pauses above");
    v.field("hold_max_bytes", hold_max_bytes, "hold mode: bytes of held batches at most; reading pauses above");
    v.field("max_pending", max_pending, "follow_up mode: lookups outstanding at most; reading pauses above");
  }
  void validate(config::Checker& check) const;
};

}  // namespace auditship::enrich
