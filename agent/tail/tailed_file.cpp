#include "tailed_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "auditship/common/hash.h"
#include "auditship/common/log.h"

namespace auditship::tail {
namespace {

// pread until `length` bytes or EOF; -1 on error (errno set).
ssize_t pread_full(int fd, char* out, std::size_t length, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(fd, out + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

}  // namespace

TailedFile::TailedFile(int fd, std::string path, FileKey key, std::uint64_t max_line_bytes,
                       std::size_t preview_bytes)
    : fd_(fd), path_(std::move(path)), key_(key), splitter_(max_line_bytes, preview_bytes) {
  refresh_size();
}

TailedFile::~TailedFile() {
  if (fd_ >= 0) ::close(fd_);
}

bool TailedFile::refresh_size() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return false;
  size_ = static_cast<std::uint64_t>(st.st_size);
  return true;
}

std::optional<Fingerprint> TailedFile::fingerprint() const {
  std::array<char, kFingerprintCap> head;
  const ssize_t n = pread_full(fd_, head.data(), head.size(), 0);
  if (n <= 0) return std::nullopt;
  const auto* nl = static_cast<const char*>(std::memchr(head.data(), '\n', static_cast<std::size_t>(n)));
  std::size_t bytes = 0;
  if (nl != nullptr) {
    bytes = static_cast<std::size_t>(nl - head.data()) + 1;
  } else if (static_cast<std::size_t>(n) == head.size()) {
    bytes = head.size();  // a first line longer than the cap: its first bytes are stable
  } else {
    return std::nullopt;  // the first line is still being written: its hash would change
  }
  return Fingerprint{fnv1a64({head.data(), bytes}), static_cast<std::uint32_t>(bytes)};
}

bool TailedFile::first_bytes_match(std::uint64_t hash, std::uint32_t bytes) const {
  std::string head(bytes, '\0');
  const ssize_t n = pread_full(fd_, head.data(), head.size(), 0);
  return n == static_cast<ssize_t>(bytes) && fnv1a64(head) == hash;
}

bool TailedFile::at_line_start(std::uint64_t offset) const {
  if (offset == 0) return true;
  char c = 0;
  return pread_full(fd_, &c, 1, offset - 1) == 1 && c == '\n';
}

void TailedFile::start(SourceFilePtr source, std::uint64_t offset, bool mid_line) {
  source_ = std::move(source);
  splitter_.reset(offset, mid_line);
  emitted_offset_ = offset;
}

void TailedFile::reset() {
  source_.reset();
  splitter_.reset(0);
  emitted_offset_ = 0;
}

TailedFile::ReadOutcome TailedFile::read_batch(MemoryBudget& budget, std::uint64_t chunk) {
  ReadOutcome out;
  if (!refresh_size()) {
    if (!std::exchange(warned_, true)) {
      log::warn("cannot stat followed file", {{"path", path_}, {"error", std::strerror(errno)}});
    }
    out.status = ReadStatus::kError;
    return out;
  }
  const std::uint64_t offset = splitter_.read_offset();
  if (size_ < offset) {
    out.status = ReadStatus::kTruncated;
    return out;
  }
  if (size_ == offset) return out;  // kEof

  const std::uint64_t want = std::min(chunk, size_ - offset);
  MemoryBudget::Lease lease;
  if (!budget.try_acquire(splitter_.held_bytes() + want, lease)) {
    out.status = ReadStatus::kNoBudget;
    return out;
  }
  auto batch = std::make_unique<Batch>();
  splitter_.begin(batch->input);
  const std::size_t prefix = batch->input.size();
  batch->input.resize(prefix + want);
  const ssize_t n = pread_full(fd_, batch->input.data() + prefix, want, offset);
  if (n < 0) {
    if (!std::exchange(warned_, true)) {
      log::warn("cannot read followed file", {{"path", path_}, {"error", std::strerror(errno)}});
    }
    splitter_.abort(batch->input);
    out.status = ReadStatus::kError;
    return out;
  }
  batch->input.resize(prefix + static_cast<std::size_t>(n));
  out.status = ReadStatus::kRead;
  out.bytes = static_cast<std::uint64_t>(n);

  const std::uint64_t end = splitter_.split(batch->input, batch->records);
  if (batch->records.empty()) return out;  // only blank lines or part of a line: nothing to ship
  // Batches of one generation tile the file with no gaps (blank lines and skipped bytes fall
  // into the next batch), so the delivery tracker can commit offsets strictly in order.
  batch->source = source_;
  batch->begin_offset = emitted_offset_;
  batch->end_offset = end;
  batch->lease = std::move(lease);
  emitted_offset_ = end;
  out.batch = std::move(batch);
  return out;
}

}  // namespace auditship::tail
