#include "auditship/checkpoint/checkpoint_store.h"

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "auditship/common/file_io.h"
#include "auditship/common/hash.h"
#include "auditship/common/json_writer.h"
#include "auditship/common/log.h"
#include "auditship/common/metrics.h"

namespace auditship::checkpoint {
namespace {

struct CheckpointStats {
  metrics::Counter& commits = metrics::Registry::global().counter(
      "auditship_checkpoint_commits_total", "Checkpoint files written");
  metrics::Counter& failures = metrics::Registry::global().counter(
      "auditship_checkpoint_errors_total", "Checkpoint writes that failed");
  metrics::Gauge& last_commit = metrics::Registry::global().gauge(
      "auditship_checkpoint_last_commit_timestamp_seconds", "Unix time of the last successful checkpoint write");
};
CheckpointStats& stats() {
  static CheckpointStats s;
  return s;
}

// The checksum member comes last and covers every byte before it.
constexpr std::string_view kChecksumKey = ",\"checksum\":\"";

std::string errno_text() { return std::strerror(errno); }

}  // namespace

CheckpointStore::CheckpointStore(std::string dir) : dir_(std::move(dir)), file_(dir_ + "/" + kFileName) {}

Result<CheckpointStorePtr> CheckpointStore::open(const std::string& state_dir, OnCorrupt on_corrupt) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return Error{"cannot create state_dir '" + state_dir + "': " + ec.message()};
  if (::access(state_dir.c_str(), R_OK | W_OK | X_OK) != 0)
    return Error{"state_dir '" + state_dir + "' is not readable and writable: " + errno_text()};
  CheckpointStorePtr store(new CheckpointStore(state_dir));
  bool corrupt = false;
  Status loaded = store->load(corrupt);
  if (loaded) return store;
  if (!corrupt || on_corrupt == OnCorrupt::kFail) return Error{loaded.error()};
  // Kept for inspection, never deleted: it may be the only record of how far we had shipped.
  const std::string aside = store->file_ + ".corrupt-" + std::to_string(::time(nullptr));
  if (::rename(store->file_.c_str(), aside.c_str()) != 0)
    return Error{loaded.error() + "; and it cannot be moved aside to '" + aside + "': " + errno_text()};
  store->entries_.clear();
  store->restarted_ = true;
  log::warn("corrupt checkpoint file moved aside; every file is read again from the beginning "
            "(on_corrupt_checkpoint: restart_from_beginning): records already shipped will be shipped again",
            {{"file", store->file_}, {"moved_to", aside}, {"error", loaded.error()}});
  return store;
}

Status CheckpointStore::load(bool& corrupt_out) {
  std::ifstream in(file_, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return {};
    return Error{"cannot read checkpoint file '" + file_ + "': " + errno_text()};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto corrupt = [&](const std::string& why) {
    corrupt_out = true;
    return Error{"checkpoint file '" + file_ + "' is corrupt (" + why +
                 "). Refusing to start rather than re-ship or skip data silently: restore it from a backup, "
                 "delete it to re-read every file from `read_from`, or set on_corrupt_checkpoint: "
                 "restart_from_beginning"};
  };
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(text).get(root)) return corrupt(simdjson::error_message(err));
  simdjson::dom::array files;
  std::uint64_t version = 0;
  if (root["version"].get(version) || (version != 1 && version != 2)) return corrupt("missing or unknown version");
  if (version == 2) {
    // A flipped digit in an offset still parses: only the checksum tells (version 1 files,
    // written before it existed, are trusted as they are).
    std::string_view checksum;
    const auto at = text.rfind(kChecksumKey);
    if (root["checksum"].get(checksum) || at == std::string::npos) return corrupt("no checksum");
    char expected[24];
    std::snprintf(expected, sizeof expected, "%016llx",
                  static_cast<unsigned long long>(fnv1a64(std::string_view(text).substr(0, at))));
    if (checksum != expected) return corrupt("checksum mismatch");
  }
  if (root["files"].get(files)) return corrupt("no 'files' list");
  for (simdjson::dom::element f : files) {
    Checkpoint c;
    std::string_view fp, path;
    std::uint64_t fp_bytes = 0;
    if (f["dev"].get(c.dev) || f["ino"].get(c.ino) || f["fingerprint"].get(fp) ||
        f["fingerprint_bytes"].get(fp_bytes) || f["offset"].get(c.offset) || f["path"].get(path))
      return corrupt("an entry lacks dev, ino, fingerprint, fingerprint_bytes, offset or path");
    c.fingerprint = std::strtoull(std::string(fp).c_str(), nullptr, 16);
    c.fingerprint_bytes = static_cast<std::uint32_t>(fp_bytes);
    c.path = path;
    entries_[{c.dev, c.ino}] = std::move(c);
  }
  log::info("checkpoints loaded", {{"file", file_}, {"files", entries_.size()}});
  return {};
}

std::optional<Checkpoint> CheckpointStore::find(std::uint64_t dev, std::uint64_t ino) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find({dev, ino});
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void CheckpointStore::update(const SourceFile& source, std::uint64_t offset) {
  std::lock_guard lock(mu_);
  Checkpoint& c = entries_[{source.dev, source.ino}];
  // A copytruncate makes a newer generation of the same inode: late acks for the older one
  // must not move the newer one's offset.
  if (c.source_id > source.id) return;
  if (c.source_id == source.id && c.offset >= offset && c.fingerprint == source.fingerprint) return;
  c.dev = source.dev;
  c.ino = source.ino;
  c.fingerprint = source.fingerprint;
  c.fingerprint_bytes = source.fingerprint_bytes;
  c.offset = offset;
  c.source_id = source.id;
  c.path = source.path;
  dirty_ = true;
}

std::map<std::pair<std::uint64_t, std::uint64_t>, Checkpoint> CheckpointStore::snapshot() const {
  std::lock_guard lock(mu_);
  return entries_;
}

Status CheckpointStore::persist() {
  std::string text;
  {
    std::lock_guard lock(mu_);
    if (!dirty_ && writes_ > 0) return {};
    text = "{\"version\":2,\"files\":[";
    bool first = true;
    for (const auto& [key, c] : entries_) {
      if (!first) text += ',';
      first = false;
      char fp[24];
      std::snprintf(fp, sizeof fp, "%016llx", static_cast<unsigned long long>(c.fingerprint));
      text += "\n{\"dev\":";
      json::append_number(text, c.dev);
      text += ",\"ino\":";
      json::append_number(text, c.ino);
      text += ",\"fingerprint\":\"";
      text += fp;
      text += "\",\"fingerprint_bytes\":";
      json::append_number(text, static_cast<std::uint64_t>(c.fingerprint_bytes));
      text += ",\"offset\":";
      json::append_number(text, c.offset);
      text += ",\"path\":";
      json::append_string(text, c.path);
      text += '}';
    }
    text += "\n]";
    char sum[24];
    std::snprintf(sum, sizeof sum, "%016llx", static_cast<unsigned long long>(fnv1a64(text)));
    text += kChecksumKey;
    text += sum;
    text += "\"}\n";
    dirty_ = false;
  }
  auto fail = [&](const std::string& what) {
    std::lock_guard lock(mu_);
    dirty_ = true;  // try again next time
    stats().failures.inc();
    return Error{what + " '" + file_ + "': " + errno_text()};
  };
  std::string tmp = file_ + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot create the temporary checkpoint file for");
  bool ok = write_all(fd, text) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    return fail("cannot write checkpoint file");
  }
  if (::rename(tmp.c_str(), file_.c_str()) != 0) return fail("cannot rename the new checkpoint file to");
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // makes the rename itself durable
    ::close(dfd);
  }
  {
    std::lock_guard lock(mu_);
    ++writes_;
  }
  stats().commits.inc();
  stats().last_commit.set(static_cast<double>(::time(nullptr)));
  return {};
}

}  // namespace auditship::checkpoint
