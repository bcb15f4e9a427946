#include "auditship/tail/line_splitter.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace auditship::tail {

void LineSplitter::reset(std::uint64_t offset, bool mid_line) {
  line_start_ = offset;
  read_offset_ = offset;
  held_.clear();
  prefix_ = 0;
  skipping_ = false;
  discarding_ = mid_line;
}

void LineSplitter::begin(std::string& input) {
  // Moving (not copying) keeps a long held line from being copied twice per read.
  input = std::move(held_);
  held_.clear();
  prefix_ = input.size();
}

void LineSplitter::abort(std::string& input) {
  input.resize(prefix_);
  held_ = std::move(input);
  input.clear();
  prefix_ = 0;
}

void LineSplitter::add_record(std::vector<Record>& records, std::size_t begin, std::uint64_t length,
                              std::uint64_t line_bytes) const {
  Record r;
  r.file_offset = line_start_;
  r.line_bytes = line_bytes;
  if (length > max_line_bytes_) {
    r.raw = {static_cast<std::uint32_t>(begin),
             static_cast<std::uint32_t>(std::min<std::uint64_t>(length, preview_bytes_))};
    r.disposition = Disposition::kDeadLetter;
    r.reason = DeadLetterReason::kLineTooLong;
  } else {
    r.raw = {static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(length)};
  }
  r.payload = r.raw;
  records.push_back(r);
}

std::uint64_t LineSplitter::split(const std::string& input, std::vector<Record>& records) {
  // input[0, prefix_) is what begin() took from held_ (no newline in it); input[prefix_] is
  // the byte at read_offset_. While skipping_, the prefix is a preview, not contiguous bytes,
  // so file offsets are derived from read_offset_, never from an index into input.
  const char* const data = input.data();
  const std::size_t size = input.size();
  const std::uint64_t data_offset = read_offset_;
  std::size_t line_begin = 0;  // index of the unfinished line's first byte we hold
  std::size_t scan = prefix_;
  while (scan < size) {
    const void* hit = std::memchr(data + scan, '\n', size - scan);
    if (hit == nullptr) break;
    const std::size_t nl = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
    const std::uint64_t line_end = data_offset + (nl - prefix_) + 1;  // after the newline
    const std::uint64_t line_bytes = line_end - line_start_;
    if (discarding_) {
      discarding_ = false;
    } else if (skipping_) {
      // The preview starts input: either a full preview, or (when fewer bytes were held) all of
      // the line so far, contiguous with what follows, so min(length, preview) stays in the line.
      add_record(records, 0, line_bytes - 1, line_bytes);
      skipping_ = false;
    } else if (nl > line_begin) {
      add_record(records, line_begin, nl - line_begin, line_bytes);
    }
    line_start_ = line_end;
    line_begin = nl + 1;
    scan = nl + 1;
  }
  read_offset_ = data_offset + (size - prefix_);
  prefix_ = 0;

  // Hold what is left of the unfinished line for the next read.
  if (discarding_) {
    held_.clear();
  } else if (skipping_) {
    held_.assign(data, std::min(size, preview_bytes_));  // still the same line: keep the preview
  } else if (read_offset_ - line_start_ > max_line_bytes_) {
    skipping_ = true;
    held_.assign(data + line_begin, std::min(size - line_begin, preview_bytes_));
  } else {
    held_.assign(data + line_begin, size - line_begin);
  }
  return line_start_;
}

}  // namespace auditship::tail
