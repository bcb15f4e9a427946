#pragma once
// The read side of the checkpoint store, as the tailer sees it: "where did we stop in this
// file?". An interface so the tailer (and its tests) need not link the store that persists.
// Thread-safe: implementations may be called from the tailer thread while others update.
#include <cstdint>
#include <optional>
#include <string>

namespace auditship::checkpoint {

struct Checkpoint {
  std::uint64_t dev = 0, ino = 0;
  std::uint64_t fingerprint = 0;
  std::uint32_t fingerprint_bytes = 0;
  std::uint64_t offset = 0;
  std::uint64_t source_id = 0;  // in-process only: the newest generation of a file wins
  std::string path;
};

class CheckpointLookup {
 public:
  virtual ~CheckpointLookup() = default;
  // The committed position of the file with this device and inode, if any.
  [[nodiscard]] virtual std::optional<Checkpoint> find(std::uint64_t dev, std::uint64_t ino) const = 0;
};

}  // namespace auditship::checkpoint
