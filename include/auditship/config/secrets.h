#pragma once
// Secrets a config exposes through file permissions. The config keeps key material out of the
// YAML where it can (env:/file: references), but kafka.properties may carry a SASL password or
// a private key inline, and the key files it names must stay private too. Checked at startup
// (`auditship run`) and by `auditship check`; each finding is a warning, not an error, since
// the agent can still run — but anyone on the host can read the secret.
#include <string>
#include <vector>

#include "auditship/config/config.h"

namespace auditship::config {

// kafka.properties keys whose value is a secret (passwords, client secrets, private keys).
[[nodiscard]] bool is_secret_property(const std::string& key);

// One message per exposure: the config file `config_file` readable by group or others while it
// holds an inline secret, and every key file it names (enrich.api_key_file, enrich.api_keys
// "file:", redact.hash_key_file) readable by group or others. Messages name files, modes and
// option keys, never a secret value.
[[nodiscard]] std::vector<std::string> exposed_secrets(const std::string& config_file, const Config& config);

}  // namespace auditship::config
