#pragma once
// The HMAC key for `hash` field policies when the config names none.
//
// The agent's default pseudonymises user_id (`redact.fields: {user_id: hash}`): per-user cost
// needs one stable value per user, and an email-shaped user_id redacted to `[EMAIL]` would
// merge every user into one. A keyed hash needs a key; rather than refuse to start, a host
// without a configured key gets its own, generated once into <state_dir>/hash.key (32 random
// bytes as hex, mode 0600) and reused on every start, so pseudonyms are stable on that host.
// Across hosts they only match when every host is given the same key (hash_key_file or
// hash_key_env): the warning at creation says so.
#include <string>

#include "auditship/common/result.h"
#include "auditship/redact/redact_config.h"

namespace auditship::redact {

// If `config` hashes a field and has neither hash_key_env nor hash_key_file, points
// hash_key_file at <state_dir>/hash.key, creating the key there when `create` and it does not
// exist yet. Errors name the file.
[[nodiscard]] Status use_host_hash_key(RedactConfig& config, const std::string& state_dir, bool create);

}  // namespace auditship::redact
