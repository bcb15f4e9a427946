#pragma once
// The API keys lookups are made with. Key material stays inside this class and the fetcher's
// Authorization header; everything else (logs, metrics, records, errors) sees key names.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auditship/common/result.h"
#include "auditship/enrich/enrich_config.h"

namespace auditship::enrich {

class ApiKeys {
 public:
  using Index = std::uint16_t;
  static constexpr std::string_view kDefaultName = "default";

  // Reads api_key_file, else api_key_env, as the key named "default", plus every api_keys
  // entry (env:VAR or file:/path). Errors name the variable or file, never a value.
  [[nodiscard]] static Result<ApiKeys> load(const EnrichConfig& config);
  // For tests and tools: keys given directly, (name, secret) pairs.
  [[nodiscard]] static ApiKeys from_pairs(std::vector<std::pair<std::string, std::string>> keys);

  // The key for a record whose key_field holds `name` (nullopt: the field is absent); falls
  // back to "default". nullopt when neither exists.
  [[nodiscard]] std::optional<Index> choose(std::optional<std::string_view> name) const;
  [[nodiscard]] const std::string& name(Index i) const { return keys_[i].name; }
  // Only for building the Authorization header.
  [[nodiscard]] const std::string& secret(Index i) const { return keys_[i].secret; }
  [[nodiscard]] std::size_t size() const { return keys_.size(); }

 private:
  struct Key {
    std::string name;
    std::string secret;
  };
  std::vector<Key> keys_;
};

}  // namespace auditship::enrich
