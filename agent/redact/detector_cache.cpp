#include "auditship/redact/detector_cache.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

#include "auditship/common/file_io.h"
#include "auditship/common/log.h"
#include "auditship/common/metrics.h"

namespace auditship::redact {
namespace {

// File layout (host byte order: the key pins the file to this host's platform anyway):
//   magic[8] | format version u32 | key[32] | database count u32 | count x size u64 |
//   the serialized databases, in order (size 0: none) | SHA-256 of every byte before it.
// Bump kFormatVersion whenever the layout or the meaning of a spec changes.
constexpr std::string_view kMagic{"ASHSDB\r\n", 8};
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::size_t kDigestSize = 32;
constexpr std::size_t kFixedHeader = kMagic.size() + 4 + kDigestSize + 4;
// Far above any real set (the defaults serialize to well under 1 MB); a larger file is not ours.
constexpr off_t kMaxFileBytes = 256 << 20;

using Digest = std::array<unsigned char, kDigestSize>;

Digest sha256(std::string_view bytes) {
  Digest d{};
  unsigned int n = 0;
  // Cannot fail with a built-in digest short of an OpenSSL installation with no SHA-256, where
  // the all-zero digest simply never matches a written file.
  EVP_Digest(bytes.data(), bytes.size(), d.data(), &n, EVP_sha256(), nullptr);
  return d;
}

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <class T>
bool get(std::string_view& in, T& v) {
  if (in.size() < sizeof v) return false;
  std::memcpy(&v, in.data(), sizeof v);
  in.remove_prefix(sizeof v);
  return true;
}

// Everything that decides the bytes hs_compile_multi produces for `specs` on this host.
Digest cache_key(const std::vector<DatabaseSpec>& specs) {
  std::string k;
  put(k, kFormatVersion);
  const std::string_view version = hs_version();
  put(k, version.size());
  k += version;
  hs_platform_info_t platform{};
  if (hs_populate_platform(&platform) == HS_SUCCESS) {
    put(k, platform.tune);
    put(k, platform.cpu_features);
  }
  put(k, static_cast<unsigned>(HS_MODE_BLOCK));
  put(k, specs.size());
  for (const DatabaseSpec& s : specs) {
    put(k, s.expressions.size());
    for (std::size_t i = 0; i < s.expressions.size(); ++i) {
      put(k, s.expressions[i].size());
      k += s.expressions[i];
      put(k, s.flags[i]);
      put(k, s.ids[i]);
    }
  }
  return sha256(k);
}

struct CacheStats {
  metrics::Registry& r = metrics::Registry::global();
  static constexpr const char* kHelp = "Detector database cache lookups at start and reload, by result";
  metrics::Counter& hit = r.counter("auditship_redact_detector_cache_total", kHelp, {{"result", "hit"}});
  metrics::Counter& miss = r.counter("auditship_redact_detector_cache_total", kHelp, {{"result", "miss"}});
  metrics::Counter& invalid = r.counter("auditship_redact_detector_cache_total", kHelp, {{"result", "invalid"}});
  metrics::Counter& write_errors = r.counter("auditship_redact_detector_cache_write_errors_total",
                                             "Detector database cache files that could not be written");
};

CacheStats& stats() {
  static CacheStats s;
  return s;
}

// kAbsent and kStale count as misses; only kAbsent (a first start) is not worth a warning.
enum class Outcome { kHit, kAbsent, kStale, kInvalid };

struct Loaded {
  Outcome outcome = Outcome::kAbsent;
  std::string reason;  // why it was not a hit
  std::vector<DatabasePtr> databases;
};

Loaded fail(Outcome outcome, std::string reason) { return Loaded{outcome, std::move(reason), {}}; }

// Reads the whole file into `bytes`, refusing one that the agent's user does not own or others
// may write; nothing when it was read, else why not (kAbsent or kInvalid).
std::optional<Loaded> read_cache_file(const std::string& path, std::string& bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return fail(Outcome::kAbsent, "no cache file yet");
    return fail(Outcome::kInvalid, std::string("cannot open it: ") + std::strerror(errno));
  }
  struct stat st{};
  std::string problem;
  if (::fstat(fd, &st) != 0) problem = std::string("cannot stat it: ") + std::strerror(errno);
  else if (!S_ISREG(st.st_mode)) problem = "not a regular file";
  else if (st.st_uid != ::geteuid() || (st.st_mode & 022) != 0)
    problem = "owned by another user or writable by others";
  else if (st.st_size > kMaxFileBytes) problem = "larger than any detector cache";
  if (problem.empty()) {
    bytes.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        problem = std::string("cannot read it: ") + std::strerror(errno);
        break;
      }
      if (n == 0) break;  // shrank under us: the size checks below reject it
      done += static_cast<std::size_t>(n);
    }
    bytes.resize(done);
  }
  ::close(fd);
  if (!problem.empty()) return fail(Outcome::kInvalid, problem);
  return std::nullopt;
}

Loaded load(const std::vector<DatabaseSpec>& specs, const std::string& path) {
  std::string bytes;
  if (auto failed = read_cache_file(path, bytes)) return std::move(*failed);
  std::string_view in = bytes;
  if (in.size() < kFixedHeader) return fail(Outcome::kInvalid, "truncated (shorter than its header)");
  if (in.substr(0, kMagic.size()) != kMagic) return fail(Outcome::kInvalid, "not a detector cache file");
  in.remove_prefix(kMagic.size());
  std::uint32_t version = 0, count = 0;
  Digest key{};
  (void)get(in, version);
  if (version != kFormatVersion)
    return fail(Outcome::kStale, "written in cache format " + std::to_string(version) + ", this agent uses " +
                                    std::to_string(kFormatVersion));
  (void)get(in, key);
  if (key != cache_key(specs))
    return fail(Outcome::kStale, "written for other detectors, another Hyperscan version or another CPU");
  (void)get(in, count);
  if (count != specs.size()) return fail(Outcome::kInvalid, "its database count does not match its key");
  std::vector<std::uint64_t> sizes(count);
  std::uint64_t payload = 0;
  for (auto& size : sizes) {
    if (!get(in, size) || size > static_cast<std::uint64_t>(kMaxFileBytes))
      return fail(Outcome::kInvalid, "truncated (in its table of databases)");
    payload += size;
  }
  if (in.size() != payload + kDigestSize)
    return fail(Outcome::kInvalid, "truncated or padded (" + std::to_string(bytes.size()) + " bytes, expected " +
                                       std::to_string(bytes.size() - in.size() + payload + kDigestSize) + ")");
  const std::string_view covered(bytes.data(), bytes.size() - kDigestSize);
  const Digest digest = sha256(covered);
  if (std::memcmp(digest.data(), bytes.data() + covered.size(), kDigestSize) != 0)
    return fail(Outcome::kInvalid, "corrupt (checksum mismatch)");
  Loaded r;
  r.outcome = Outcome::kHit;
  for (std::size_t i = 0; i < count; ++i) {
    const bool expected = !specs[i].expressions.empty();
    if ((sizes[i] != 0) != expected) return fail(Outcome::kInvalid, "its databases do not match its key");
    hs_database_t* db = nullptr;
    if (expected) {
      if (hs_deserialize_database(in.data(), sizes[i], &db) != HS_SUCCESS)
        return fail(Outcome::kInvalid, "Hyperscan rejected database " + std::to_string(i));
      in.remove_prefix(sizes[i]);
    }
    r.databases.emplace_back(db);
  }
  return r;
}

Status store(const std::vector<DatabaseSpec>& specs, const std::vector<DatabasePtr>& databases,
             const std::string& path) {
  std::string out(kMagic);
  put(out, kFormatVersion);
  const Digest key = cache_key(specs);
  out.append(reinterpret_cast<const char*>(key.data()), key.size());
  put(out, static_cast<std::uint32_t>(databases.size()));
  std::string blobs;
  for (const DatabasePtr& db : databases) {
    std::uint64_t size = 0;
    if (db) {
      char* bytes = nullptr;
      std::size_t length = 0;
      if (hs_serialize_database(db.get(), &bytes, &length) != HS_SUCCESS)
        return Error{"Hyperscan cannot serialize a database"};
      blobs.append(bytes, length);
      std::free(bytes);  // hs_serialize_database allocates with the misc allocator: malloc by default
      size = length;
    }
    put(out, size);
  }
  out += blobs;
  const Digest digest = sha256(out);
  out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return replace_file(path, out, 0600);
}

}  // namespace

void DatabaseSpec::add(const std::string& expression, unsigned flag, unsigned id, const std::string& name) {
  expressions.push_back(expression);
  flags.push_back(flag);
  ids.push_back(id);
  names.push_back(name);
}

Result<std::vector<DatabasePtr>> compile_databases(const std::vector<DatabaseSpec>& specs) {
  std::vector<DatabasePtr> out;
  for (const DatabaseSpec& s : specs) {
    if (s.expressions.empty()) {
      out.emplace_back();
      continue;
    }
    std::vector<const char*> exprs;
    for (const std::string& e : s.expressions) exprs.push_back(e.c_str());
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    if (hs_compile_multi(exprs.data(), s.flags.data(), s.ids.data(), static_cast<unsigned>(exprs.size()),
                         HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
      std::string msg = err && err->message ? err->message : "unknown Hyperscan error";
      if (err && err->expression >= 0 && static_cast<std::size_t>(err->expression) < s.names.size())
        msg = "detector '" + s.names[err->expression] + "': " + msg;
      hs_free_compile_error(err);
      return Error{msg};
    }
    out.emplace_back(db);
  }
  return out;
}

Result<std::vector<DatabasePtr>> load_or_compile_databases(const std::vector<DatabaseSpec>& specs,
                                                           const std::string& cache_file) {
  if (cache_file.empty()) return compile_databases(specs);
  CacheStats& s = stats();
  Loaded loaded = load(specs, cache_file);
  if (loaded.outcome == Outcome::kHit) {
    s.hit.inc();
    log::info("redaction detectors loaded from the cache, not compiled", {{"file", cache_file}});
    return std::move(loaded.databases);
  }
  (loaded.outcome == Outcome::kInvalid ? s.invalid : s.miss).inc();
  if (loaded.outcome == Outcome::kAbsent)
    log::info("compiling the redaction detectors (no cache file yet)", {{"file", cache_file}});
  else
    log::warn("detector cache not used, compiling the redaction detectors",
              {{"file", cache_file}, {"reason", loaded.reason}});
  auto compiled = compile_databases(specs);
  if (!compiled) return compiled;
  if (Status st = store(specs, *compiled, cache_file); !st) {
    s.write_errors.inc();
    log::warn("cannot write the detector cache; the agent runs on the compiled detectors and compiles them again "
              "at the next start",
              {{"error", st.error()}});
  }
  return compiled;
}

std::string detector_cache_file(const std::string& state_dir) { return state_dir + "/detectors.hsdb"; }

}  // namespace auditship::redact
