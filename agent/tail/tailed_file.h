#pragma once
// One followed file: its descriptor, identity, read position and the unfinished line.
// Private to the tailer; used only on the tailer thread.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "auditship/common/memory_budget.h"
#include "auditship/pipeline/batch.h"
#include "auditship/tail/line_splitter.h"

namespace auditship::tail {

// Hash of the first line including its newline, capped at kFingerprintCap bytes.
struct Fingerprint {
  std::uint64_t hash = 0;
  std::uint32_t bytes = 0;
};

struct FileKey {
  std::uint64_t dev = 0, ino = 0;
  auto operator<=>(const FileKey&) const = default;
};

class TailedFile {
 public:
  static constexpr std::size_t kFingerprintCap = 1024;

  enum class ReadStatus {
    kEof,        // nothing new to read
    kRead,       // bytes consumed; `batch` is set when they completed at least one line
    kNoBudget,   // the memory budget refused the lease: stop reading for now
    kTruncated,  // the file is now shorter than what we read (copytruncate)
    kError,      // fstat/pread failed (logged)
  };
  struct ReadOutcome {
    ReadStatus status = ReadStatus::kEof;
    BatchPtr batch;
    std::uint64_t bytes = 0;  // bytes read from the file
  };

  // Takes ownership of `fd` (opened O_RDONLY, checked to be a regular file).
  TailedFile(int fd, std::string path, FileKey key, std::uint64_t max_line_bytes, std::size_t preview_bytes);
  ~TailedFile();
  TailedFile(const TailedFile&) = delete;
  TailedFile& operator=(const TailedFile&) = delete;

  // The fingerprint, or nothing while the first line is incomplete (and under the cap).
  [[nodiscard]] std::optional<Fingerprint> fingerprint() const;
  // True when the first `bytes` bytes of the file hash to `hash`.
  [[nodiscard]] bool first_bytes_match(std::uint64_t hash, std::uint32_t bytes) const;
  // True when `offset` is 0 or follows a newline.
  [[nodiscard]] bool at_line_start(std::uint64_t offset) const;

  // Begins a generation of the file: reads start at `offset` under `source`.
  void start(SourceFilePtr source, std::uint64_t offset, bool mid_line);
  // Forgets the generation (after a truncation): fingerprint() must be taken again.
  void reset();
  [[nodiscard]] bool started() const { return source_ != nullptr; }

  // Reads up to `chunk` bytes under a lease from `budget` and splits them into a batch.
  ReadOutcome read_batch(MemoryBudget& budget, std::uint64_t chunk);
  // Refreshes size() from the descriptor; false if fstat failed.
  bool refresh_size();

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] FileKey key() const { return key_; }
  [[nodiscard]] const SourceFilePtr& source() const { return source_; }
  [[nodiscard]] std::uint64_t size() const { return size_; }
  [[nodiscard]] std::uint64_t read_offset() const { return splitter_.read_offset(); }
  [[nodiscard]] std::size_t held_bytes() const { return splitter_.held_bytes(); }
  // Bytes in the file we have not read yet (0 before the generation starts).
  [[nodiscard]] std::uint64_t unread() const {
    return started() && size_ > read_offset() ? size_ - read_offset() : 0;
  }

  // Set by the tailer: how this file came to be followed and whether its path moved on.
  bool read_from_end = false;          // its source says read_from: end
  bool present_at_first_scan = false;  // found by the first scan
  std::uint64_t size_at_discovery = 0;
  bool skip_checkpoint = false;  // after a truncation: the checkpoint describes the old content
  std::string watch_dir;  // directory of the file's real path, for the watcher
  std::optional<std::chrono::steady_clock::time_point> detached_since;  // renamed away or deleted

 private:
  int fd_ = -1;
  std::string path_;
  FileKey key_;
  SourceFilePtr source_;
  LineSplitter splitter_;
  std::uint64_t size_ = 0;
  std::uint64_t emitted_offset_ = 0;  // end_offset of the last emitted batch of this generation
  bool warned_ = false;               // an I/O error was logged: a broken disk must not flood the log
};

}  // namespace auditship::tail
