#pragma once
// Persists, per followed file, the committed offset: the end of the longest prefix of its
// records that the sink has acknowledged. The file is state_dir/checkpoints.json, written as
// temp file → fsync → rename → fsync(dir), so a crash leaves either the old or the new one.
// Version 2 files end with an FNV-1a 64 checksum of everything before it, so a flipped digit in
// an offset (which would still parse) is detected as corruption rather than silently obeyed.
// Thread-safe: the tailer looks up, the delivery tracker updates, the pipeline persists.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "auditship/checkpoint/checkpoint_lookup.h"
#include "auditship/common/result.h"
#include "auditship/pipeline/batch.h"

namespace auditship::checkpoint {

class CheckpointStore;
using CheckpointStorePtr = std::unique_ptr<CheckpointStore>;

class CheckpointStore : public CheckpointLookup {
 public:
  static constexpr const char* kFileName = "checkpoints.json";

  // What to do with a checkpoint file that cannot be parsed (truncated, bit flip, not ours).
  enum class OnCorrupt {
    kFail,                  // an error naming the file: the agent refuses to start (default)
    kRestartFromBeginning,  // move it aside to checkpoints.json.corrupt-<unix time>, start empty
  };
  // Creates state_dir if needed and loads the checkpoint file. A file that cannot be parsed is
  // an error naming it unless `on_corrupt` says to restart (never silently: a warning names
  // the file and where it was moved).
  [[nodiscard]] static Result<CheckpointStorePtr> open(const std::string& state_dir,
                                                       OnCorrupt on_corrupt = OnCorrupt::kFail);
  // True when open() found a corrupt file and started empty (kRestartFromBeginning): the
  // caller must then read every file from 0 whatever its read_from says, or data is skipped.
  [[nodiscard]] bool restarted_after_corruption() const { return restarted_; }

  // The committed position of the file with this device and inode, if any.
  [[nodiscard]] std::optional<Checkpoint> find(std::uint64_t dev, std::uint64_t ino) const override;
  // Records that `source` is committed up to `offset` (monotonic per source).
  void update(const SourceFile& source, std::uint64_t offset);
  // Writes the file if anything changed since the last write. Entries whose file no longer
  // exists (by device+inode+fingerprint) are pruned once they are older than `prune_after`.
  Status persist();

  [[nodiscard]] std::string path() const { return file_; }
  [[nodiscard]] std::map<std::pair<std::uint64_t, std::uint64_t>, Checkpoint> snapshot() const;

 private:
  explicit CheckpointStore(std::string dir);
  Status load(bool& corrupt);  // `corrupt`: the file exists but cannot be parsed

  std::string dir_, file_;
  mutable std::mutex mu_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, Checkpoint> entries_;  // by (dev, ino)
  bool dirty_ = false;
  bool restarted_ = false;
  std::uint64_t writes_ = 0;
};

}  // namespace auditship::checkpoint
