#include "auditship/tail/file_tailer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "auditship/common/hash.h"
#include "auditship/common/metrics.h"
#include "support/temp_dir.h"

namespace auditship::tail {
namespace {

using auditship::testing::TempDir;
using auditship::testing::write_file;
using namespace std::chrono_literals;

class FakeLookup final : public checkpoint::CheckpointLookup {
 public:
  void put(checkpoint::Checkpoint cp) {
    std::lock_guard lock(mu_);
    entries_[{cp.dev, cp.ino}] = std::move(cp);
  }
  [[nodiscard]] std::optional<checkpoint::Checkpoint> find(std::uint64_t dev, std::uint64_t ino) const override {
    std::lock_guard lock(mu_);
    auto it = entries_.find({dev, ino});
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, checkpoint::Checkpoint> entries_;
};

// Appends through one descriptor it keeps open, like an app writing its audit file.
class Writer {
 public:
  explicit Writer(const std::string& path) : fd_(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) {
    EXPECT_GE(fd_, 0) << path;
  }
  ~Writer() { ::close(fd_); }
  void write(const std::string& text) { ASSERT_EQ(::write(fd_, text.data(), text.size()), static_cast<ssize_t>(text.size())); }

 private:
  int fd_;
};

struct Line {
  std::uint64_t source_id = 0;
  std::string path;
  std::uint64_t offset = 0, bytes = 0;
  std::string raw;
  DeadLetterReason reason = DeadLetterReason::kNone;
};

std::uint64_t counter(const char* name) { return metrics::Registry::global().counter_total(name); }
double gauge(const char* name) { return metrics::Registry::global().gauge(name, "").value(); }

std::pair<std::uint64_t, std::uint64_t> identity(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return {st.st_dev, st.st_ino};
}

checkpoint::Checkpoint checkpoint_for(std::uint64_t dev, std::uint64_t ino, std::uint64_t fingerprint,
                                      std::uint32_t fingerprint_bytes, std::uint64_t offset) {
  checkpoint::Checkpoint cp;
  cp.dev = dev;
  cp.ino = ino;
  cp.fingerprint = fingerprint;
  cp.fingerprint_bytes = fingerprint_bytes;
  cp.offset = offset;
  return cp;
}

class FileTailerTest : public ::testing::Test {
 protected:
  TailerOptions options(std::vector<std::string> globs, std::string read_from = "beginning") {
    TailerOptions o;
    for (auto& glob : globs) {
      config::SourceConfig source;
      source.path = dir_.file(glob);
      source.read_from = read_from;
      o.sources.push_back(source);
    }
    o.rescan_interval = 100ms;  // inotify should make it irrelevant; it bounds the wait if not
    return o;
  }

  void start(const TailerOptions& o) {
    auto made = FileTailer::make(o, lookup_, *budget_, [this](BatchPtr b) { on_batch(std::move(b)); });
    ASSERT_TRUE(made.ok()) << made.error();
    tailer_ = std::move(made.value());
    tailer_->start();
  }

  // a.log holding `text`, followed with `batch_wait`: returns once its lines are read and the
  // tailer is caught up, so the next write finds it idle. Call in ASSERT_NO_FATAL_FAILURE.
  void follow_idle(const std::string& text, std::chrono::milliseconds batch_wait,
                   std::chrono::milliseconds rescan_interval = std::chrono::minutes(10),
                   std::uint64_t read_chunk_bytes = 256u << 10) {
    write_file(dir_.file("a.log"), text);
    TailerOptions o = options({"*.log"});
    o.batch_wait = batch_wait;
    o.rescan_interval = rescan_interval;
    o.read_chunk_bytes = read_chunk_bytes;
    start(o);
    ASSERT_TRUE(wait_lines(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'))));
    ASSERT_TRUE(wait_until([&] { return tailer_->caught_up(); }));
  }

  // Two lines of the old contents, then the file's two new lines read from 0 under a new source.
  void expect_reread_from_zero(const std::string& first, const std::string& second) {
    auto got = lines();
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[2].raw, first);
    EXPECT_EQ(got[2].offset, 0u);
    EXPECT_EQ(got[3].raw, second);
    EXPECT_NE(got[2].source_id, got[0].source_id);
  }

  void TearDown() override {
    if (tailer_) tailer_->stop();
  }

  void on_batch(BatchPtr b) {
    std::lock_guard lock(mu_);
    EXPECT_FALSE(stopped_) << "emitted after stop() returned";
    EXPECT_FALSE(b->records.empty());
    EXPECT_GT(b->lease.bytes(), 0u) << "a batch must hold its memory lease";
    EXPECT_LE(b->input.size(), b->lease.bytes());
    ++batches_;
    auto [it, first] = batch_ends_.try_emplace(b->source->id, b->end_offset);
    if (!first) {
      EXPECT_EQ(b->begin_offset, it->second) << "batches of one source must tile the file";
      it->second = b->end_offset;
    }
    for (const Record& r : b->records) {
      EXPECT_GE(r.file_offset, b->begin_offset);
      EXPECT_LE(r.end_offset(), b->end_offset);
      lines_.push_back({b->source->id, b->source->path, r.file_offset, r.line_bytes, std::string(b->raw(r)), r.reason});
    }
    if (hold_) {
      // The budget may exceed its limit only for a lease taken when nothing else was in flight.
      EXPECT_TRUE(held_.empty() || budget_->used() <= budget_->limit())
          << "read past the memory budget: used " << budget_->used();
      held_.push_back(std::move(b));
    }
    cv_.notify_all();
  }

  // Polls `pred` until it holds, up to 10 s (generous: the machine is shared).
  bool wait_until(const std::function<bool()>& pred) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }
  bool wait_lines(std::size_t n) {
    return wait_until([&] { return lines().size() >= n; });
  }
  std::vector<Line> lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }
  std::size_t batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }
  std::vector<std::string> raws() {
    std::vector<std::string> out;
    for (auto& l : lines()) out.push_back(l.raw);
    return out;
  }
  // Releases the oldest held batch (and its lease); false if none.
  bool release_one() {
    std::lock_guard lock(mu_);
    if (held_.empty()) return false;
    held_.pop_front();
    return true;
  }
  void stop() {
    tailer_->stop();
    std::lock_guard lock(mu_);
    stopped_ = true;
  }

  TempDir dir_;
  FakeLookup lookup_;
  std::unique_ptr<MemoryBudget> budget_ = std::make_unique<MemoryBudget>(64u << 20);
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Line> lines_;
  std::map<std::uint64_t, std::uint64_t> batch_ends_;
  std::size_t batches_ = 0;
  bool hold_ = false;  // keep batches (and their leases) until release_one()
  std::deque<BatchPtr> held_;
  bool stopped_ = false;
  FileTailerPtr tailer_;  // last: destroyed (stopped) before what it uses
};

TEST_F(FileTailerTest, MakeRejectsOptionsThatCannotWork) {
  TailerOptions o = options({"*.log"});
  o.read_chunk_bytes = 0;
  EXPECT_FALSE(FileTailer::make(o, lookup_, *budget_, [](BatchPtr) {}).ok());
  o = options({"*.log"});
  o.max_line_bytes = 4ull << 30;
  EXPECT_FALSE(FileTailer::make(o, lookup_, *budget_, [](BatchPtr) {}).ok());
  o = options({"*.log"});
  o.batch_wait = -1ms;
  EXPECT_FALSE(FileTailer::make(o, lookup_, *budget_, [](BatchPtr) {}).ok());
}

TEST_F(FileTailerTest, ReadsExistingLinesThenFollowsAppends) {
  write_file(dir_.file("a.log"), "one\n\ntwo\r\n");
  start(options({"*.log"}));
  ASSERT_TRUE(wait_lines(2));
  ASSERT_TRUE(wait_until([&] { return tailer_->caught_up(); }));
  Writer w(dir_.file("a.log"));
  w.write("thr");  // a partial line is held, and does not keep caught_up() false
  ASSERT_TRUE(wait_until([&] { return tailer_->caught_up(); }));
  w.write("ee\n");
  ASSERT_TRUE(wait_lines(3));
  auto got = lines();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(raws(), (std::vector<std::string>{"one", "two\r", "three"}));
  EXPECT_EQ(got[0].offset, 0u);
  EXPECT_EQ(got[1].offset, 5u);  // the blank line's byte is skipped, not lost
  EXPECT_EQ(got[2].offset, 10u);
  EXPECT_EQ(got[2].bytes, 6u);
  EXPECT_EQ(got[0].source_id, got[2].source_id);
  EXPECT_EQ(got[0].path, dir_.file("a.log"));
}

TEST_F(FileTailerTest, FileWithIncompleteFirstLineWaitsForItsNewline) {
  Writer w(dir_.file("a.log"));
  w.write("{\"partial\":");
  start(options({"*.log"}));
  ASSERT_TRUE(wait_until([&] { return tailer_->caught_up(); }));
  EXPECT_TRUE(lines().empty());
  w.write("1}\n");
  ASSERT_TRUE(wait_lines(1));
  EXPECT_EQ(lines()[0].raw, "{\"partial\":1}");
  EXPECT_EQ(lines()[0].offset, 0u);
}

TEST_F(FileTailerTest, OverLongLineAcrossSeveralReadsIsOnePreviewRecord) {
  const std::string huge(5000, 'x');
  write_file(dir_.file("a.log"), "first\n" + huge + "\nlast\n");
  TailerOptions o = options({"*.log"});
  o.max_line_bytes = 100;
  o.read_chunk_bytes = 512;
  start(o);
  ASSERT_TRUE(wait_lines(3));
  auto got = lines();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].raw, "first");
  EXPECT_EQ(got[1].reason, DeadLetterReason::kLineTooLong);
  EXPECT_EQ(got[1].raw, huge.substr(0, FileTailer::kPreviewBytes));
  EXPECT_EQ(got[1].offset, 6u);
  EXPECT_EQ(got[1].bytes, 5001u);
  EXPECT_EQ(got[2].raw, "last");
  EXPECT_EQ(got[2].offset, 5007u);
}

TEST_F(FileTailerTest, RenameRotationFinishesTheOldFileAndFollowsTheNew) {
  const std::string path = dir_.file("app.log");
  auto old_writer = std::make_unique<Writer>(path);
  old_writer->write("1\n2\n");
  TailerOptions o = options({"*.log"});
  o.rescan_interval = 500ms;  // the grace a renamed file gets at EOF before it is closed
  const auto rotations = counter("auditship_tail_rotations_total");
  start(o);
  ASSERT_TRUE(wait_lines(2));
  ASSERT_EQ(std::rename(path.c_str(), dir_.file("app.log.1").c_str()), 0);
  old_writer->write("3\n");  // the app has not reopened yet: this lands in the renamed file
  Writer new_writer(path);
  new_writer.write("4\n5\n");
  ASSERT_TRUE(wait_lines(5));
  auto got = lines();
  ASSERT_EQ(got.size(), 5u);
  std::map<std::uint64_t, std::vector<std::string>> by_source;
  for (auto& l : got) by_source[l.source_id].push_back(l.raw);
  ASSERT_EQ(by_source.size(), 2u);
  EXPECT_EQ(by_source[got[0].source_id], (std::vector<std::string>{"1", "2", "3"}));
  const auto new_id = got[0].source_id == by_source.begin()->first ? by_source.rbegin()->first : by_source.begin()->first;
  EXPECT_EQ(by_source[new_id], (std::vector<std::string>{"4", "5"}));
  EXPECT_GT(new_id, got[0].source_id);
  EXPECT_GE(counter("auditship_tail_rotations_total"), rotations + 1);
  // The renamed file is closed once it stayed at EOF for the grace period.
  EXPECT_TRUE(wait_until([] { return gauge("auditship_tail_files_watched") == 1; }));
}

TEST_F(FileTailerTest, CopyTruncateRestartsAtZeroUnderANewSource) {
  const std::string path = dir_.file("a.log");
  write_file(path, "a-long-first-line-0001\na-long-first-line-0002\n");
  const auto truncations = counter("auditship_tail_truncations_total");
  start(options({"*.log"}));
  ASSERT_TRUE(wait_lines(2));
  write_file(path, "n1\nn2\n");  // truncated and rewritten shorter, same inode
  ASSERT_TRUE(wait_lines(4));
  expect_reread_from_zero("n1", "n2");
  EXPECT_EQ(counter("auditship_tail_truncations_total"), truncations + 1);
}

TEST_F(FileTailerTest, RewrittenLongerThanOurOffsetIsCaughtByItsFirstLine) {
  budget_ = std::make_unique<MemoryBudget>(100);
  hold_ = true;  // holding the first batch pauses the tailer, so nothing reads the new content early
  std::string old_text, new_text;
  for (int i = 0; i < 20; ++i) old_text += "line-" + std::to_string(100 + i) + "\n";
  for (int i = 0; i < 30; ++i) new_text += "next-" + std::to_string(100 + i) + "\n";
  const std::string path = dir_.file("a.log");
  write_file(path, old_text);
  TailerOptions o = options({"*.log"});
  o.read_chunk_bytes = 64;
  const auto truncations = counter("auditship_tail_truncations_total");
  start(o);
  ASSERT_TRUE(wait_lines(7));  // the first 64-byte chunk
  write_file(path, new_text);  // same inode, longer than what we read: size alone cannot tell
  ASSERT_TRUE(wait_until([&] { return counter("auditship_tail_truncations_total") > truncations; }));
  while (lines().size() < 37) {
    ASSERT_TRUE(wait_until([&] {
      std::lock_guard lock(mu_);
      return !held_.empty();
    }));
    release_one();
  }
  auto got = lines();
  ASSERT_EQ(got.size(), 37u);
  EXPECT_EQ(got[7].offset, 0u);
  EXPECT_NE(got[7].source_id, got[0].source_id);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(got[7 + i].raw, "next-" + std::to_string(100 + i));
  EXPECT_EQ(counter("auditship_tail_truncations_total"), truncations + 1);
}

TEST_F(FileTailerTest, ResumesFromAMatchingCheckpoint) {
  const std::string path = dir_.file("a.log");
  write_file(path, "aaa\nbbb\nccc\n");
  auto [dev, ino] = identity(path);
  lookup_.put(checkpoint_for(dev, ino, fnv1a64("aaa\n"), 4, 8));
  start(options({"*.log"}));
  ASSERT_TRUE(wait_lines(1));
  ASSERT_TRUE(wait_until([&] { return tailer_->caught_up(); }));
  auto got = lines();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].raw, "ccc");
  EXPECT_EQ(got[0].offset, 8u);
}

TEST_F(FileTailerTest, ReusedInodeWithAnotherFirstLineIsReadFromZero) {
  const std::string path = dir_.file("a.log");
  write_file(path, "new-first\nnew-second\n");
  auto [dev, ino] = identity(path);
  // A checkpoint left by an older file that had this inode.
  lookup_.put(checkpoint_for(dev, ino, fnv1a64("old-first\n"), 10, 10));
  start(options({"*.log"}));
  ASSERT_TRUE(wait_lines(2));
  EXPECT_EQ(raws(), (std::vector<std::string>{"new-first", "new-second"}));
}

TEST_F(FileTailerTest, FileShorterThanItsCheckpointIsReadFromZeroAndCounted) {
  const std::string path = dir_.file("a.log");
  write_file(path, "aaa\nbbb\n");
  auto [dev, ino] = identity(path);
  lookup_.put(checkpoint_for(dev, ino, fnv1a64("aaa\n"), 4, 500));
  const auto truncations = counter("auditship_tail_truncations_total");
  start(options({"*.log"}));
  ASSERT_TRUE(wait_lines(2));
  EXPECT_EQ(raws(), (std::vector<std::string>{"aaa", "bbb"}));
  EXPECT_EQ(counter("auditship_tail_truncations_total"), truncations + 1);
}

TEST_F(FileTailerTest, ReadFromEndSkipsWhatWasThereAtStartOnly) {
  Writer w(dir_.file("a.log"));
  w.write("old1\nold2\n");
  start(options({"*.log"}, "end"));
  ASSERT_TRUE(wait_until([&] { return tailer_->caught_up(); }));
  w.write("new\n");
  write_file(dir_.file("b.log"), "b1\n");  // appeared after the first scan: read from 0
  ASSERT_TRUE(wait_lines(2));
  ASSERT_TRUE(wait_until([&] { return tailer_->caught_up(); }));
  std::map<std::string, Line> by_raw;
  for (auto& l : lines()) by_raw[l.raw] = l;
  ASSERT_EQ(by_raw.size(), 2u);
  EXPECT_EQ(by_raw["new"].offset, 10u);
  EXPECT_EQ(by_raw["b1"].offset, 0u);
}

TEST_F(FileTailerTest, NewFileIsFoundThroughInotifyWithoutWaitingForARescan) {
  TailerOptions o = options({"*.log"});
  o.rescan_interval = std::chrono::minutes(10);
  start(o);
  ASSERT_TRUE(wait_until([&] { return tailer_->caught_up(); }));  // first scan done, dir watched
  Writer w(dir_.file("late.log"));
  w.write("hello\n");
  ASSERT_TRUE(wait_lines(1));
  w.write("again\n");
  ASSERT_TRUE(wait_lines(2));
  EXPECT_EQ(raws(), (std::vector<std::string>{"hello", "again"}));
}

TEST_F(FileTailerTest, SmallAppendsWithinBatchWaitLeaveAsOneBatch) {
  ASSERT_NO_FATAL_FAILURE(follow_idle("first\n", 1s));  // far longer than the writes below take
  const std::size_t before = batches();
  const auto counted = counter("auditship_tail_batches_total");
  Writer w(dir_.file("a.log"));
  for (int i = 0; i < 5; ++i) {
    w.write("line-" + std::to_string(i) + "\n");
    std::this_thread::sleep_for(20ms);  // with batch_wait 0 each write is read on its own
  }
  ASSERT_TRUE(wait_lines(6));
  EXPECT_EQ(batches() - before, 1u);
  EXPECT_EQ(counter("auditship_tail_batches_total") - counted, 1u);
  EXPECT_EQ(raws(), (std::vector<std::string>{"first", "line-0", "line-1", "line-2", "line-3", "line-4"}));
  EXPECT_TRUE(wait_until([&] { return tailer_->caught_up(); }));
}

TEST_F(FileTailerTest, AFullReadChunkIsReadWithoutWaiting) {
  ASSERT_NO_FATAL_FAILURE(follow_idle("first\n", std::chrono::minutes(10), std::chrono::minutes(10), 4096));
  // A burst: two chunks in one write. It must not wait out batch_wait.
  std::string burst;
  for (int i = 0; burst.size() < 2 * 4096; ++i) burst += "burst-line-" + std::to_string(1000 + i) + "\n";
  const std::size_t burst_lines = static_cast<std::size_t>(std::count(burst.begin(), burst.end(), '\n'));
  Writer w(dir_.file("a.log"));
  w.write(burst);
  ASSERT_TRUE(wait_lines(1 + burst_lines));
  ASSERT_TRUE(wait_until([&] { return tailer_->caught_up(); }));
  // A small append after it waits (here for ten minutes), and caught_up() says so.
  w.write("small\n");
  ASSERT_TRUE(wait_until([&] { return !tailer_->caught_up(); }));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(lines().size(), 1 + burst_lines);
}

TEST_F(FileTailerTest, TheRescanTickEndsAWait) {
  // A wait longer than the rescan interval (the config allows it): the tick ends it.
  ASSERT_NO_FATAL_FAILURE(follow_idle("first\n", std::chrono::minutes(10), 200ms));
  Writer w(dir_.file("a.log"));
  w.write("second\n");
  ASSERT_TRUE(wait_lines(2));
  EXPECT_EQ(raws(), (std::vector<std::string>{"first", "second"}));
}

TEST_F(FileTailerTest, ATruncationRefilledDuringAWaitIsReadFromTheStart) {
  ASSERT_NO_FATAL_FAILURE(follow_idle("old-1\nold-2\n", 500ms));
  const auto truncations = counter("auditship_tail_truncations_total");
  {
    Writer w(dir_.file("a.log"));
    w.write("old-3\n");  // small: the tailer waits, and stops listening for changes meanwhile
  }
  ASSERT_TRUE(wait_until([&] { return !tailer_->caught_up(); }));
  // copytruncate, and the app writes past the old offset before the wait ends: the size alone
  // no longer tells, the first line does. Reading on at offset 18 would start mid-line.
  ASSERT_EQ(::truncate(dir_.file("a.log").c_str(), 0), 0);
  {
    Writer w(dir_.file("a.log"));
    w.write("new-first-line\nnew-second-line\n");
  }
  ASSERT_TRUE(wait_until([&] { return counter("auditship_tail_truncations_total") > truncations; }));
  ASSERT_TRUE(wait_lines(4));
  std::this_thread::sleep_for(100ms);  // anything read mid-line would show up now
  expect_reread_from_zero("new-first-line", "new-second-line");
}

TEST_F(FileTailerTest, UnreadableFileIsCountedAndDoesNotStopOthers) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can read a mode-000 file";
  write_file(dir_.file("secret.log"), "hidden\n");
  ASSERT_EQ(::chmod(dir_.file("secret.log").c_str(), 0), 0);
  write_file(dir_.file("ok.log"), "visible\n");
  const auto errors = counter("auditship_tail_open_errors_total");
  start(options({"*.log"}));
  ASSERT_TRUE(wait_lines(1));
  EXPECT_TRUE(wait_until([&] { return counter("auditship_tail_open_errors_total") > errors; }));
  EXPECT_EQ(raws(), (std::vector<std::string>{"visible"}));
}

TEST_F(FileTailerTest, DanglingSymlinkAndDirectoryDoNotStopOthers) {
  ASSERT_EQ(::symlink(dir_.file("missing").c_str(), dir_.file("bad.log").c_str()), 0);
  ASSERT_EQ(::mkdir(dir_.file("dir.log").c_str(), 0755), 0);
  write_file(dir_.file("ok.log"), "visible\n");
  const auto errors = counter("auditship_tail_open_errors_total");
  start(options({"*.log"}));
  ASSERT_TRUE(wait_lines(1));
  EXPECT_TRUE(wait_until([&] { return counter("auditship_tail_open_errors_total") > errors; }));
  // Retried at each rescan, and the link works once its target exists.
  write_file(dir_.file("missing"), "found\n");
  ASSERT_TRUE(wait_lines(2));
  EXPECT_EQ(raws(), (std::vector<std::string>{"visible", "found"}));
}

TEST_F(FileTailerTest, BackpressureStopsReadingUntilLeasesAreReleased) {
  budget_ = std::make_unique<MemoryBudget>(100);
  hold_ = true;  // with 64-byte chunks the 100-byte budget admits a second batch only at the end
  std::string text;
  for (int i = 0; i < 20; ++i) text += "line-" + std::to_string(100 + i) + "\n";  // 9 bytes each
  write_file(dir_.file("a.log"), text);
  TailerOptions o = options({"*.log"});
  o.read_chunk_bytes = 64;
  start(o);
  ASSERT_TRUE(wait_lines(1));
  EXPECT_FALSE(tailer_->caught_up());
  while (lines().size() < 20) {
    ASSERT_TRUE(wait_until([&] {
      std::lock_guard lock(mu_);
      return !held_.empty();
    }));
    release_one();  // the budget's callback resumes the tailer
  }
  auto got = raws();
  ASSERT_EQ(got.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[i], "line-" + std::to_string(100 + i));
  while (release_one()) {}
  EXPECT_TRUE(wait_until([&] { return tailer_->caught_up(); }));
}

TEST_F(FileTailerTest, DeletedFileIsReadToItsEndThenClosed) {
  budget_ = std::make_unique<MemoryBudget>(100);
  hold_ = true;  // holding the first batch pauses the tailer, so the delete comes mid-file
  std::string text;
  for (int i = 0; i < 20; ++i) text += "line-" + std::to_string(100 + i) + "\n";
  write_file(dir_.file("a.log"), text);
  TailerOptions o = options({"*.log"});
  o.read_chunk_bytes = 64;
  start(o);
  ASSERT_TRUE(wait_lines(1));
  ASSERT_EQ(::unlink(dir_.file("a.log").c_str()), 0);
  while (lines().size() < 20) {
    ASSERT_TRUE(wait_until([&] {
      std::lock_guard lock(mu_);
      return !held_.empty();
    }));
    release_one();
  }
  EXPECT_EQ(raws().back(), "line-119");
  EXPECT_TRUE(wait_until([] { return gauge("auditship_tail_files_watched") == 0; }));
}

TEST_F(FileTailerTest, FilesAreReadRoundRobin) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "line-" + std::to_string(100 + i) + "\n";
  write_file(dir_.file("a.log"), text);
  write_file(dir_.file("b.log"), text);
  TailerOptions o = options({"*.log"});
  o.read_chunk_bytes = 64;
  start(o);
  ASSERT_TRUE(wait_lines(80));
  auto got = lines();
  // One chunk (7 lines) per file per turn: the second file starts long before the first ends.
  std::size_t first_of_other = 0;
  while (first_of_other < got.size() && got[first_of_other].source_id == got[0].source_id) ++first_of_other;
  EXPECT_LE(first_of_other, 7u);
}

TEST_F(FileTailerTest, SymlinkedDirectoryIsFollowedAndAFileReachedTwiceIsReadOnce) {
  ASSERT_EQ(::mkdir(dir_.file("real").c_str(), 0755), 0);
  ASSERT_EQ(::symlink(dir_.file("real").c_str(), dir_.file("link").c_str()), 0);
  Writer w(dir_.file("real/app.log"));
  w.write("one\n");
  start(options({"link/*.log", "real/*.log"}));
  ASSERT_TRUE(wait_lines(1));
  w.write("two\n");
  ASSERT_TRUE(wait_lines(2));
  ASSERT_TRUE(wait_until([&] { return tailer_->caught_up(); }));
  EXPECT_EQ(raws(), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(lines()[0].path, dir_.file("link/app.log"));  // the first source wins
  EXPECT_EQ(gauge("auditship_tail_files_watched"), 1);
}

TEST_F(FileTailerTest, UpdateSourcesKeepsPositionsAndDropsUnmatchedFiles) {
  Writer a(dir_.file("a.log"));
  a.write("a1\n");
  write_file(dir_.file("b.txt"), "b1\n");
  start(options({"a.log"}));
  ASSERT_TRUE(wait_lines(1));
  tailer_->update_sources(options({"a.log", "*.txt"}).sources);
  ASSERT_TRUE(wait_lines(2));
  a.write("a2\n");
  ASSERT_TRUE(wait_lines(3));
  ASSERT_TRUE(wait_until([&] { return tailer_->caught_up(); }));
  EXPECT_EQ(raws(), (std::vector<std::string>{"a1", "b1", "a2"}));  // a.log was not re-read
  tailer_->update_sources(options({"*.txt"}).sources);
  EXPECT_TRUE(wait_until([] { return gauge("auditship_tail_files_watched") == 1; }));
  write_file(dir_.file("b.txt"), "b2\n", /*append=*/true);
  ASSERT_TRUE(wait_lines(4));
  EXPECT_EQ(raws().back(), "b2");
}

TEST_F(FileTailerTest, NothingIsEmittedAfterStopReturns) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "line-" + std::to_string(100000 + i) + "\n";
  write_file(dir_.file("a.log"), text);
  TailerOptions o = options({"*.log"});
  o.read_chunk_bytes = 128;
  start(o);
  ASSERT_TRUE(wait_lines(1));
  stop();  // on_batch checks that nothing arrives after this
  const auto count = lines().size();
  write_file(dir_.file("a.log"), "more\n", /*append=*/true);
  tailer_->stop();  // a second stop is harmless
  EXPECT_EQ(lines().size(), count);
}

TEST_F(FileTailerTest, StopWithoutStartAndStartAfterStopAreHarmless) {
  write_file(dir_.file("a.log"), "x\n");
  auto made = FileTailer::make(options({"*.log"}), lookup_, *budget_, [](BatchPtr) { ADD_FAILURE(); });
  ASSERT_TRUE(made.ok());
  made.value()->stop();
  made.value()->start();  // stays stopped: no thread, nothing read
  made.value()->stop();
}

}  // namespace
}  // namespace auditship::tail
