#pragma once
// The unit every stage exchanges: many lines of one file, read in one chunk. Records are
// slices into the batch's own buffers (no per-record allocation); a stage that rewrites a
// record appends the new bytes to `output` and points the record's payload there.
//
// Lifetime: created by the tailer, owned by one stage at a time (BatchPtr), and destroyed by
// the sink after the last of its records is acknowledged, which releases its memory lease.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auditship/common/memory_budget.h"

namespace auditship {

// Identity of one followed file (one generation of it: a copytruncate starts a new one).
struct SourceFile {
  std::uint64_t id = 0;            // process-unique, increasing
  std::string path;                // path when discovered (the file may have been renamed since)
  std::uint64_t dev = 0, ino = 0;  // device and inode
  std::uint64_t fingerprint = 0;   // hash of the first `fingerprint_bytes` bytes (see tail/)
  std::uint32_t fingerprint_bytes = 0;
};
using SourceFilePtr = std::shared_ptr<const SourceFile>;

enum class Disposition : std::uint8_t {
  kShip,        // to kafka.topic
  kDeadLetter,  // payload is a dead-letter envelope, to kafka.dead_letter_topic
  kDrop,        // counted and acknowledged without shipping (e.g. duplicate generation_id)
};

enum class DeadLetterReason : std::uint8_t {
  kNone,
  kInvalidJson,
  kNotAnObject,
  kInvalidUtf8,
  kLineTooLong,
  kMessageTooLarge,
  kUnredactable,
};
std::string_view reason_name(DeadLetterReason reason);

// A byte range in one of a batch's buffers.
struct Slice {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

struct Record {
  std::uint64_t file_offset = 0;  // file offset of the line's first byte
  std::uint64_t line_bytes = 0;   // bytes the line takes in the file, newline included
  Slice raw;                      // in `input`, without the newline; for an over-long line, a preview
  Slice payload;                  // what ships: in `output` if payload_in_output, else in `input`
  bool payload_in_output = false;
  Disposition disposition = Disposition::kShip;
  DeadLetterReason reason = DeadLetterReason::kNone;
  // Fields extracted by the parser (unescaped text, in `fields`); empty if absent.
  Slice key, generation_id, user_id, timestamp;
  double total_cost = -1;  // the record's own total_cost; -1 when absent or not a number
  [[nodiscard]] std::uint64_t end_offset() const { return file_offset + line_bytes; }
};

struct Batch {
  SourceFilePtr source;
  std::uint64_t begin_offset = 0;  // file offset of the first byte this batch covers
  std::uint64_t end_offset = 0;    // file offset after the last byte this batch covers
  std::string input;               // bytes read from the file
  std::string output;              // rewritten payloads and dead-letter envelopes
  std::string fields;              // extracted field values
  std::vector<Record> records;
  std::uint64_t ticket = 0;        // assigned by DeliveryTracker::track()
  MemoryBudget::Lease lease;       // released when the batch is destroyed

  [[nodiscard]] std::string_view raw(const Record& r) const { return view(input, r.raw); }
  [[nodiscard]] std::string_view payload(const Record& r) const {
    return view(r.payload_in_output ? output : input, r.payload);
  }
  [[nodiscard]] std::string_view field(Slice s) const { return view(fields, s); }
  // Appends to `fields` and returns the slice.
  Slice add_field(std::string_view text);
  // Before the sink: when records were rewritten, moves every payload into one exactly sized
  // `output` and frees `input`, so a batch in flight holds its payloads once instead of the
  // original lines plus their rewrites (every line is rewritten when user_id is hashed). The
  // records' `raw` slices are cleared: no stage after the workers reads them.
  void compact();
  // Makes the record's payload the bytes appended to `output` since `start`.
  void set_output_payload(Record& r, std::size_t start) {
    r.payload = {static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(output.size() - start)};
    r.payload_in_output = true;
  }

 private:
  static std::string_view view(const std::string& buf, Slice s) { return {buf.data() + s.offset, s.length}; }
};
using BatchPtr = std::unique_ptr<Batch>;

}  // namespace auditship
