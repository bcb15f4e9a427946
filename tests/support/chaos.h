#pragma once
// Helpers for the fault-injection suite (tests/chaos): logs that grow and rotate while the test
// remembers where every record landed, the committed checkpoints read back from state_dir, and
// the one-line figure every scenario prints.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "support/audit_records.h"
#include "support/cluster.h"

namespace auditship::testing {

// AUDITSHIP_CHAOS_SCALE (default 1) scales volumes, cycles and durations of the chaos suite;
// CI may lower it. Assertions never change with it. `at_least` floors the scaled value.
double chaos_scale();
std::uint64_t scaled(std::uint64_t value, std::uint64_t at_least = 1);

// One scenario's outcome. print() writes one line "CHAOS <name>: written N, delivered N, lost N,
// duplicated N[, note]" to stdout and, when AUDITSHIP_CHAOS_REPORT names a file, appends it there.
struct Figure {
  std::string name;
  std::uint64_t written = 0, delivered = 0, lost = 0, duplicated = 0;
  std::string note;
  void print() const;
};
// delivered = distinct records seen; lost = expected - delivered; duplicated = extra copies.
Figure figure(const std::string& name, const Delivery& d, const std::map<std::string, std::uint64_t>& expected);
// figure() over what `follower` has seen, with `note`, printed: the end of every scenario.
Figure report(const std::string& name, const TopicFollower& follower,
              const std::map<std::string, std::uint64_t>& expected, std::string note);
// The scenario lost nothing and shipped nothing twice (gtest expectations naming it).
void expect_exactly_once(const Figure& fig);

// A file of audit records for one tag that grows and is rotated the way logrotate's
// rename scheme does it (name.N → name.N+1, name → name.1, a new name created by the next
// append). Remembers the file (device, inode) and offset of every record, and the "epoch"
// (a counter the test bumps, e.g. per kill) in which it was written.
class RotatingLog {
 public:
  RotatingLog(std::string dir, std::string name, std::string tag, std::size_t pad = 120);
  void append(std::uint64_t count);
  void rotate();
  void set_epoch(int epoch) { epoch_ = epoch; }
  [[nodiscard]] std::uint64_t written() const { return places_.size(); }
  [[nodiscard]] const std::string& tag() const { return tag_; }
  [[nodiscard]] std::string path() const { return dir_ + "/" + name_; }
  [[nodiscard]] int rotations() const { return rotations_; }
  struct Place {
    std::uint64_t dev = 0, ino = 0, offset = 0;
    int epoch = 0;
  };
  [[nodiscard]] const Place& place(std::uint64_t seq) const { return places_.at(seq); }

 private:
  std::string dir_, name_, tag_;
  std::size_t pad_;
  int epoch_ = 0, rotations_ = 0;
  std::vector<Place> places_;
};

// checkpoints.json in `state_dir`: (dev, ino) -> committed offset; empty if absent or unparsable.
using Committed = std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t>;
Committed read_checkpoints(const std::string& state_dir);

// Polls until every record [0, expected[tag]) of every tag has reached `follower` (checked
// cheaply by count first); true on success.
bool wait_delivered(const TopicFollower& follower, const std::map<std::string, std::uint64_t>& expected,
                    std::chrono::milliseconds timeout);

// A text-file scan for the secrets test: every file under `dir`, recursively.
std::vector<std::string> files_under(const std::string& dir);

}  // namespace auditship::testing
