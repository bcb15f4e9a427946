#include "auditship/enrich/enrich_config.h"

#include <algorithm>

#include "auditship/enrich/proxy.h"

namespace auditship::enrich {

const std::vector<std::string>& all_generation_fields() {
  static const std::vector<std::string> kFields = {
      "total_cost", "cache_discount", "upstream_inference_cost", "usage", "provider_name", "model",
      "router", "tokens_prompt", "tokens_completion", "native_tokens_prompt", "native_tokens_completion",
      "native_tokens_reasoning", "native_tokens_cached", "latency", "generation_time",
      "moderation_latency", "finish_reason", "native_finish_reason", "streamed", "cancelled", "is_byok",
      "created_at", "data_region"};
  return kFields;
}

void EnrichConfig::validate(config::Checker& check) const {
  if (!enabled) return;
  if (endpoint.rfind("https://", 0) != 0 && endpoint.rfind("http://", 0) != 0)
    check.fail("endpoint", "must be an http:// or https:// URL");
  if (api_key_env.empty() && api_key_file.empty() && api_keys.empty())
    check.fail("api_key_env", "a key source is needed: api_key_env, api_key_file or api_keys");
  for (const auto& [name, ref] : api_keys)
    if (ref.rfind("env:", 0) != 0 && ref.rfind("file:", 0) != 0)
      // Deliberately not echoing `ref`: someone may have pasted the key itself here.
      check.fail("api_keys." + name, "must be env:VAR or file:/path (the key itself does not belong in config)");
  if (!api_keys.empty() && key_field.empty()) check.fail("key_field", "api_keys needs key_field to choose a key");
  if (!proxy.empty() && proxy != "none")
    if (auto p = parse_proxy_url(proxy); !p) check.fail("proxy", p.error());
  if (max_rps <= 0) check.fail("max_rps", "must be positive");
  if (max_in_flight == 0) check.fail("max_in_flight", "must be at least 1");
  if (pool_size == 0) check.fail("pool_size", "must be at least 1");
  if (request_timeout.count() <= 0) check.fail("request_timeout", "must be positive");
  if (horizon.count() <= 0) check.fail("horizon", "must be positive");
  if (initial_delay.count() < 0) check.fail("initial_delay", "must not be negative");
  if (mode != "hold" && mode != "follow_up") check.fail("mode", "must be hold or follow_up, got '" + mode + "'");
  if (when != "missing_cost" && when != "always")
    check.fail("when", "must be missing_cost or always, got '" + when + "'");
  const auto& known = all_generation_fields();
  for (const auto& f : fields)
    if (std::find(known.begin(), known.end(), f) == known.end())
      check.fail("fields", "unknown generation field '" + f + "'" + config::did_you_mean(f, known));
  if (hold_max_records == 0) check.fail("hold_max_records", "must be at least 1");
  if (hold_max_bytes.value == 0) check.fail("hold_max_bytes", "must be positive");
  if (max_pending == 0) check.fail("max_pending", "must be at least 1");
}

}  // namespace auditship::enrich
