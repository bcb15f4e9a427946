#include "auditship/enrich/api_keys.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "auditship/common/text.h"

namespace auditship::enrich {
namespace {

Result<std::string> read_env(const std::string& var) {
  const char* value = std::getenv(var.c_str());
  if (value == nullptr || trim(value).empty()) return Error{"environment variable " + var + " is not set or empty"};
  return std::string(trim(value));
}

Result<std::string> read_key_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{"cannot read key file " + path};
  std::stringstream ss;
  ss << in.rdbuf();
  std::string key(trim(ss.str()));
  if (key.empty()) return Error{"key file " + path + " is empty"};
  return key;
}

}  // namespace

Result<ApiKeys> ApiKeys::load(const EnrichConfig& config) {
  ApiKeys keys;
  if (!config.api_key_file.empty()) {
    auto key = read_key_file(config.api_key_file);
    if (!key) return Error{"enrich.api_key_file: " + key.error()};
    keys.keys_.push_back({std::string(kDefaultName), std::move(key.value())});
  } else if (!config.api_key_env.empty()) {
    auto key = read_env(config.api_key_env);
    // Named keys alone are enough; the default key is then optional.
    if (key) keys.keys_.push_back({std::string(kDefaultName), std::move(key.value())});
    else if (config.api_keys.empty()) return Error{"enrich.api_key_env: " + key.error()};
  }
  for (const auto& [name, ref] : config.api_keys) {
    Result<std::string> key = ref.rfind("env:", 0) == 0    ? read_env(ref.substr(4))
                              : ref.rfind("file:", 0) == 0 ? read_key_file(ref.substr(5))
                                                           : Result<std::string>(Error{"must be env:VAR or file:/path"});
    if (!key) return Error{"enrich.api_keys." + name + ": " + key.error()};
    keys.keys_.push_back({name, std::move(key.value())});
  }
  if (keys.keys_.empty()) return Error{"enrich: no API key configured"};
  return keys;
}

ApiKeys ApiKeys::from_pairs(std::vector<std::pair<std::string, std::string>> pairs) {
  ApiKeys keys;
  for (auto& [name, secret] : pairs) keys.keys_.push_back({std::move(name), std::move(secret)});
  return keys;
}

std::optional<ApiKeys::Index> ApiKeys::choose(std::optional<std::string_view> name) const {
  std::optional<Index> fallback;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (name && keys_[i].name == *name) return static_cast<Index>(i);
    if (keys_[i].name == kDefaultName) fallback = static_cast<Index>(i);
  }
  return fallback;
}

}  // namespace auditship::enrich
