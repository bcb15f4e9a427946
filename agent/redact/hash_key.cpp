#include "auditship/redact/hash_key.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "auditship/common/hash.h"
#include "auditship/common/log.h"

namespace auditship::redact {
namespace {

bool needs_host_key(const RedactConfig& config) {
  return config.hash_key_env.empty() && config.hash_key_file.empty() &&
         std::any_of(config.fields.begin(), config.fields.end(), [](const auto& f) { return f.second == "hash"; });
}

Status create_key(const std::string& path) {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Error{"cannot generate an HMAC key: no randomness from OpenSSL"};
  std::string hex;
  append_hex(bytes, sizeof bytes, hex);
  hex += '\n';
  // O_EXCL: two agents starting on one state_dir never overwrite each other's key; the loser
  // reads the winner's. Written to a temp name first so a crash never leaves a short key.
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error{"cannot create " + tmp + ": " + std::strerror(errno)};
  const bool written = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::link(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    if (written && err == EEXIST) return {};
    return Error{"cannot write " + path + ": " + std::strerror(err)};
  }
  ::unlink(tmp.c_str());
  log::warn("generated an HMAC key for `hash` fields (user_id is pseudonymised by default); pseudonyms are "
            "stable on this host but match other hosts only if all use the same key: set redact.hash_key_file "
            "or redact.hash_key_env",
            {{"key_file", path}});
  return {};
}

}  // namespace

Status use_host_hash_key(RedactConfig& config, const std::string& state_dir, bool create) {
  if (!needs_host_key(config)) return {};
  const std::string path = state_dir + "/hash.key";
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return Error{"redact: cannot use " + path + ": " + std::strerror(errno)};
    if (!create)
      return Error{"redact.fields uses `hash` and no key is configured; the agent's generated key " + path +
                   " does not exist yet (run the agent once, or set redact.hash_key_file)"};
    if (Status s = create_key(path); !s) return Error{"redact: " + s.error()};
  }
  config.hash_key_file = path;
  return {};
}

}  // namespace auditship::redact
