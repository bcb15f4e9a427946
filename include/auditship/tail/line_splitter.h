#pragma once
// Cuts the bytes of one file into lines across reads, for the tailer.
//
// Records are Slices into the batch's input (no per-line allocation). A read rarely ends on a
// newline, so the unfinished last line is held here and put back at the front of the next
// batch's input by begin(). Decisions, so every stage can rely on them:
//  - A line is the bytes before '\n'. "\r\n" is left as is: the '\r' stays in `raw`, because
//    rewriting the line would break the "a record is exactly its bytes in the file" rule.
//  - An empty line ("\n") yields no Record, but its byte is covered by the offsets (the batch's
//    end_offset moves past it), so checkpoints never stop in front of blank lines.
//  - A line longer than max_line_bytes (newline excluded) yields one Record with a preview of
//    its first `preview_bytes` bytes as `raw`/`payload`, kDeadLetter/kLineTooLong, and
//    `line_bytes` covering the whole line. Only the preview is kept while the rest is skipped,
//    so memory stays bounded however long the line is; the Record comes when its newline does.
// Not thread-safe: owned by one TailedFile, used on the tailer thread.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "auditship/pipeline/batch.h"

namespace auditship::tail {

class LineSplitter {
 public:
  LineSplitter(std::uint64_t max_line_bytes, std::size_t preview_bytes)
      : max_line_bytes_(max_line_bytes), preview_bytes_(preview_bytes) {}

  // Starts over at file offset `offset`, forgetting any held line. With `mid_line`, the bytes
  // up to and including the next newline are dropped without a Record: reading starts in the
  // middle of a line (read_from: end while a line was being written), and half a line would
  // only be dead-lettered downstream.
  void reset(std::uint64_t offset, bool mid_line = false);

  // Moves the held bytes of the unfinished line into the (cleared) `input`; the caller then
  // appends the bytes it reads from the file at read_offset() and calls split().
  void begin(std::string& input);
  // Undoes begin() when the read failed: the held bytes go back here.
  void abort(std::string& input);
  // Splits `input` (held bytes + new bytes) and appends its complete lines to `records`.
  // Returns the file offset after the last complete line (line_offset()).
  std::uint64_t split(const std::string& input, std::vector<Record>& records);

  // File offset after the last complete line: where the held line starts.
  [[nodiscard]] std::uint64_t line_offset() const { return line_start_; }
  // File offset of the next byte to read.
  [[nodiscard]] std::uint64_t read_offset() const { return read_offset_; }
  // Bytes begin() will put in front of the next input (the held line, or its preview).
  [[nodiscard]] std::size_t held_bytes() const { return held_.size(); }
  // True while the bytes of a line longer than max_line_bytes are being skipped.
  [[nodiscard]] bool skipping() const { return skipping_; }

 private:
  void add_record(std::vector<Record>& records, std::size_t begin, std::uint64_t length,
                  std::uint64_t line_bytes) const;

  const std::uint64_t max_line_bytes_;
  const std::size_t preview_bytes_;
  std::uint64_t line_start_ = 0;   // file offset of the first byte of the unfinished line
  std::uint64_t read_offset_ = 0;  // file offset after the last byte given to split()
  std::string held_;               // the unfinished line, or its preview while skipping_
  std::size_t prefix_ = 0;         // bytes of input that begin() took from held_
  bool skipping_ = false;          // the unfinished line is over-long: only its preview is held
  bool discarding_ = false;        // dropping a partial line we started in the middle of
};

}  // namespace auditship::tail
