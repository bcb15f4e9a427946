#include "auditship/config/secrets.h"

#include <sys/stat.h>

#include <cstdio>

namespace auditship::config {
namespace {

// "0644" for a mode, or an empty string when the file cannot be stat()ed (reported elsewhere).
std::string mode_if_shared(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !(st.st_mode & (S_IRGRP | S_IROTH))) return {};
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return buf;
}

}  // namespace

bool is_secret_property(const std::string& key) {
  return key.find("password") != std::string::npos || key.find("secret") != std::string::npos ||
         key == "ssl.key.pem" || key == "sasl.oauthbearer.config" || key == "ssl_engine_callback_data";
}

std::vector<std::string> exposed_secrets(const std::string& config_file, const Config& config) {
  std::vector<std::string> out;
  std::string inline_keys;
  for (const auto& [key, value] : config.kafka.properties)
    if (is_secret_property(key) && !value.empty()) inline_keys += (inline_keys.empty() ? "kafka.properties." : ", kafka.properties.") + key;
  if (config.enrich.proxy.find('@') != std::string::npos)
    inline_keys += inline_keys.empty() ? "enrich.proxy's password" : ", enrich.proxy's password";
  if (!inline_keys.empty())
    if (auto mode = mode_if_shared(config_file); !mode.empty())
      out.push_back("config file '" + config_file + "' (mode " + mode + ") is readable by other users and holds a secret (" +
                    inline_keys + "): chmod 600 it, or chown it to the agent's user");
  std::vector<std::pair<std::string, std::string>> key_files;  // option, path
  if (!config.enrich.api_key_file.empty()) key_files.emplace_back("enrich.api_key_file", config.enrich.api_key_file);
  for (const auto& [name, ref] : config.enrich.api_keys)
    if (ref.rfind("file:", 0) == 0) key_files.emplace_back("enrich.api_keys." + name, ref.substr(5));
  if (!config.redact.hash_key_file.empty()) key_files.emplace_back("redact.hash_key_file", config.redact.hash_key_file);
  for (const auto& [option, path] : key_files)
    if (auto mode = mode_if_shared(path); !mode.empty())
      out.push_back("key file '" + path + "' (" + option + ", mode " + mode +
                    ") is readable by other users: chmod 600 it, or chown it to the agent's user");
  return out;
}

}  // namespace auditship::config
