#include "auditship/tail/file_tailer.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "auditship/common/log.h"
#include "auditship/common/metrics.h"
#include "auditship/common/thread_name.h"
#include "auditship/tail/watcher.h"
#include "tailed_file.h"

namespace auditship::tail {
namespace {

// SourceFile ids are process-unique, so two tailers (or a tailer rebuilt on reload) never reuse one.
std::atomic<std::uint64_t> g_next_source_id{1};

struct TailStats {
  metrics::Counter& lines_read;
  metrics::Counter& bytes_read;
  metrics::Counter& batches;
  metrics::Counter& rotations;
  metrics::Counter& truncations;
  metrics::Counter& open_errors;
  metrics::Gauge& files_watched;
  metrics::Gauge& bytes_behind;

  static TailStats make(metrics::Registry& r) {
    return {
        r.counter("auditship_tail_lines_read_total", "Lines read from followed files (records produced)"),
        r.counter("auditship_tail_bytes_read_total", "Bytes read from followed files"),
        r.counter("auditship_tail_batches_total",
                  "Batches handed to the pipeline (lines_read / batches: lines per hand-off)"),
        r.counter("auditship_tail_rotations_total", "Followed files renamed away or deleted (read to their end)"),
        r.counter("auditship_tail_truncations_total", "Files found shorter than their read offset; re-read from 0"),
        r.counter("auditship_tail_open_errors_total", "Failed attempts to open a matched file (one per rescan)"),
        r.gauge("auditship_tail_files_watched", "Files currently open by the tailer"),
        r.gauge("auditship_tail_bytes_behind", "Bytes written to followed files but not read yet"),
    };
  }
};

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The deepest directory of a glob without wildcards: watched so that files created in it are
// seen at once even before anything in it matched.
std::string literal_dir(const std::string& pattern) {
  const auto wild = pattern.find_first_of("*?[");
  return dir_of(wild == std::string::npos ? pattern : pattern.substr(0, wild));
}

bool excluded(const config::SourceConfig& source, const std::string& path) {
  const std::string base = base_of(path);
  for (const auto& pattern : source.exclude) {
    if (::fnmatch(pattern.c_str(), base.c_str(), 0) == 0 || ::fnmatch(pattern.c_str(), path.c_str(), 0) == 0) {
      return true;
    }
  }
  return false;
}

// Whether the sources still select `path`, by pattern rather than by listing the directory.
bool selected(const std::vector<config::SourceConfig>& sources, const std::string& path) {
  for (const auto& source : sources) {
    // FNM_PATHNAME | FNM_PERIOD: the rules glob(3) applies when it lists files.
    if (::fnmatch(source.path.c_str(), path.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0 && !excluded(source, path)) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> expand(const std::string& pattern) {
  std::vector<std::string> paths;
  glob_t g{};
  if (::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
    paths.assign(g.gl_pathv, g.gl_pathv + g.gl_pathc);
  }
  ::globfree(&g);  // GLOB_NOMATCH and unreadable directories: nothing matched this time
  return paths;
}

class FileTailerImpl final : public FileTailer {
 public:
  FileTailerImpl(const TailerOptions& options, const checkpoint::CheckpointLookup& lookup, MemoryBudget& budget,
                 EmitFn emit)
      : options_(options),
        lookup_(lookup),
        budget_(budget),
        emit_(std::move(emit)),
        stats_(TailStats::make(metrics::Registry::global())),
        timer_(io_),
        wait_timer_(io_) {}

  ~FileTailerImpl() override { stop(); }

  void start() override {
    if (stopped_ || started_.exchange(true)) return;  // a stopped tailer stays stopped
    // The budget calls back from whichever thread releases a lease: hop onto ours.
    budget_.on_available([this] {
      boost::asio::post(io_, [this] {
        paused_ = false;
        request_pump();
      });
    });
    thread_ = std::thread([this] {
      name_this_thread("as-tail");
      run();
    });
  }

  void stop() noexcept override {
    if (stopped_.exchange(true)) return;
    stopping_.store(true);
    if (started_) {
      // After this returns the budget holds no callback into us, and none is running.
      budget_.on_available(nullptr);
    }
    io_.stop();
    if (thread_.joinable()) thread_.join();
    // The thread is gone: what it owned can be released from here.
    if (watcher_) watcher_->close();
    watcher_.reset();
    files_.clear();
    stats_.files_watched.set(0);
    caught_up_.store(false);
  }

  [[nodiscard]] bool caught_up() const override { return caught_up_.load(std::memory_order_acquire); }

  [[nodiscard]] std::string readiness_problem() const override {
    if (stopping_.load()) return "stopped";
    if (!scanned_.load()) return "first scan of the sources not done yet";
    if (std::size_t n = unopenable_.load(); n > 0)
      return std::to_string(n) + " matched file(s) cannot be opened (see the log)";
    return {};
  }

  void update_sources(std::vector<config::SourceConfig> sources) override {
    // Until the tailer thread has applied them, caught_up() must not answer for the old sources.
    pending_updates_.fetch_add(1);
    caught_up_.store(false);
    boost::asio::post(io_, [this, sources = std::move(sources)]() mutable {
      options_.sources = std::move(sources);
      request_rescan();
      pending_updates_.fetch_sub(1);
    });
  }

 private:
  void run() {
    watcher_ = make_inotify_watcher(io_, [this](WatchEvent event) {
      if (event == WatchEvent::kNamesChanged) {
        request_rescan();
      } else {
        on_modified();
      }
    });
    rescan();
    arm_timer();
    io_.run();
  }

  void arm_timer() {
    timer_.expires_after(options_.rescan_interval);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping_) return;
      // Also the safety net for a lost wakeup: the next pump retries the budget.
      paused_ = false;
      request_rescan();
      arm_timer();
    });
  }

  void request_rescan() {
    caught_up_.store(false);
    if (std::exchange(rescan_pending_, true)) return;
    boost::asio::post(io_, [this] { rescan(); });
  }

  void request_pump() {
    if (std::exchange(pump_pending_, true)) return;
    boost::asio::post(io_, [this] { pump(); });
  }

  // A followed file got bytes. Behind already: the pending pump reads them. Idle: wait up to
  // batch_wait for more, unless a whole chunk is there to read now or a file shrank.
  void on_modified() {
    if (options_.batch_wait.count() == 0 || !idle_ || read_now()) {
      request_pump();
      return;
    }
    if (waiting_) return;
    waiting_ = true;
    caught_up_.store(false);
    // Until the wait ends, further writes need not wake this thread: the pump looks at every
    // file then (and checks each file's first line, so a truncation refilled meanwhile is seen).
    if (watcher_) watcher_->pause();
    wait_timer_.expires_after(options_.batch_wait);
    wait_timer_.async_wait([this](boost::system::error_code ec) {
      // A pump since then has read the lines and cleared waiting_ (a cancel may come too late).
      if (ec || stopping_ || !waiting_) return;
      request_pump();
    });
  }

  void end_wait() {
    if (!std::exchange(waiting_, false)) return;
    wait_timer_.cancel();
    if (watcher_) watcher_->resume();
  }

  // True when some followed file has a read chunk or more unread, is shorter than its read
  // offset, or is not started and has bytes (one fstat per file). A truncation must be seen
  // before the writer refills the file past that offset: reading on from there would start
  // mid-line in the new contents. A file not started yet needs its first line to start.
  bool read_now() {
    for (const auto& [key, file] : files_) {
      if (!file->refresh_size()) continue;
      if (!file->started()) {
        if (file->size() > 0) return true;
      } else if (file->unread() >= options_.read_chunk_bytes || file->size() < file->read_offset()) {
        return true;
      }
    }
    return false;
  }

  // Expands the globs, opens new files, notices rotated/deleted/unmatched ones.
  void rescan() {
    rescan_pending_ = false;
    if (stopping_) return;
    const auto now = std::chrono::steady_clock::now();
    std::set<FileKey> seen;
    std::set<std::string> matched, dirs;
    for (const auto& source : options_.sources) {
      dirs.insert(literal_dir(source.path));
      for (auto& path : expand(source.path)) {
        if (excluded(source, path)) continue;
        if (!matched.insert(path).second) continue;  // matched by an earlier source: that one wins
        dirs.insert(dir_of(path));
        discover(path, source, seen);
      }
    }
    // A path that stopped matching and comes back later is logged again.
    std::erase_if(path_errors_, [&](const auto& entry) { return !matched.count(entry.first); });

    for (auto it = files_.begin(); it != files_.end();) {
      TailedFile& file = *it->second;
      if (seen.count(file.key())) {
        file.detached_since.reset();  // e.g. renamed away and back (its first line: checked before each read)
        dirs.insert(file.watch_dir);
        ++it;
        continue;
      }
      if (!file.detached_since) {
        struct stat st {};
        if (::stat(file.path().c_str(), &st) == 0 &&
            FileKey{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)} == file.key()) {
          if (selected(options_.sources, file.path())) {
            // glob() skips directories it cannot read for a moment; closing here would re-read
            // the file from its checkpoint when it reappears.
            dirs.insert(file.watch_dir);
            ++it;
            continue;
          }
          // Still at its path, so the sources changed or an exclude applies now: stop here.
          log::info("file no longer matched by the sources; no longer followed", {{"path", file.path()}});
          it = files_.erase(it);
          continue;
        }
        file.detached_since = now;
        stats_.rotations.inc();
        log::info("file rotated or deleted; reading it to its end", {{"path", file.path()}});
      }
      file.refresh_size();
      // A writer may still append through a descriptor opened before the rename: give it one
      // rescan interval at EOF before closing.
      if (file.unread() == 0 && now - *file.detached_since >= options_.rescan_interval) {
        if (file.started() && file.held_bytes() > 0) {
          log::warn("rotated file ends in a line without newline; it is dropped",
                    {{"path", file.path()}, {"bytes", file.held_bytes()}});
        }
        log::info("finished rotated file", {{"path", file.path()}, {"offset", file.read_offset()}});
        it = files_.erase(it);
        continue;
      }
      dirs.insert(file.watch_dir);
      ++it;
    }
    first_scan_done_ = true;
    scanned_.store(true);
    // Paths that are not regular files (-1) are skipped by design, not failing.
    unopenable_.store(static_cast<std::size_t>(
        std::count_if(path_errors_.begin(), path_errors_.end(), [](const auto& e) { return e.second != -1; })));
    stats_.files_watched.set(static_cast<double>(files_.size()));
    if (watcher_) watcher_->watch({dirs.begin(), dirs.end()});
    request_pump();
  }

  void discover(const std::string& path, const config::SourceConfig& source, std::set<FileKey>& seen) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {  // stat, not lstat: symlinks are followed
      const int err = errno;
      struct stat lst {};
      if (err == ENOENT && ::lstat(path.c_str(), &lst) != 0) return;  // deleted since glob() saw it
      open_failed(path, err);
      return;
    }
    if (!S_ISREG(st.st_mode)) {
      not_regular(path);
      return;
    }
    FileKey key{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
    seen.insert(key);
    if (files_.count(key)) {
      path_errors_.erase(path);
      return;
    }
    // O_NONBLOCK: if the path became a FIFO since stat(), open must not hang the tailer.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      open_failed(path, errno);
      return;
    }
    struct stat fst {};
    if (::fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode)) {
      ::close(fd);
      not_regular(path);
      return;
    }
    // Identify what was opened, not what was stat()ed: the path may have been replaced between.
    key = {static_cast<std::uint64_t>(fst.st_dev), static_cast<std::uint64_t>(fst.st_ino)};
    seen.insert(key);
    path_errors_.erase(path);
    if (files_.count(key)) {
      ::close(fd);
      return;
    }
    auto file = std::make_unique<TailedFile>(fd, path, key, options_.max_line_bytes, kPreviewBytes);
    file->read_from_end = source.read_from == "end";
    file->present_at_first_scan = !first_scan_done_;
    file->size_at_discovery = static_cast<std::uint64_t>(fst.st_size);
    if (char* real = ::realpath(path.c_str(), nullptr)) {
      file->watch_dir = dir_of(real);  // a symlinked file changes in its target's directory
      std::free(real);
    } else {
      file->watch_dir = dir_of(path);
    }
    log::debug("found file", {{"path", path}, {"size", file->size_at_discovery}});
    files_.emplace(key, std::move(file));
  }

  void open_failed(const std::string& path, int err) {
    stats_.open_errors.inc();
    auto [it, inserted] = path_errors_.try_emplace(path, err);
    if (inserted || it->second != err) {
      it->second = err;
      log::warn("cannot open file; retrying at each rescan", {{"path", path}, {"error", std::strerror(err)}});
    }
  }

  void not_regular(const std::string& path) {
    constexpr int kNotRegular = -1;  // a pseudo-errno: logged once like the real ones
    auto [it, inserted] = path_errors_.try_emplace(path, kNotRegular);
    if (inserted || it->second != kNotRegular) {
      it->second = kNotRegular;
      log::warn("matched path is not a regular file; skipped", {{"path", path}});
    }
  }

  // copytruncate followed by fast writes can leave the file longer than our offset, so size
  // alone misses it; a changed first line does not. Files not started yet have nothing to check.
  void check_rewritten(TailedFile& file) {
    const auto& source = file.source();
    if (source && !file.first_bytes_match(source->fingerprint, source->fingerprint_bytes)) truncated(file);
  }

  void truncated(TailedFile& file) {
    stats_.truncations.inc();
    log::info("file truncated; reading it again from the start",
              {{"path", file.path()}, {"source_id", file.source() ? file.source()->id : 0}});
    file.reset();
    // What is in the file now was written after the truncation: it is all new.
    file.skip_checkpoint = true;
    file.present_at_first_scan = false;
  }

  // Decides where a file starts once its first line is complete. False while it is not.
  bool activate(TailedFile& file) {
    const auto fp = file.fingerprint();
    if (!fp) return false;
    std::uint64_t offset = 0;
    bool mid_line = false;
    const auto key = file.key();
    std::optional<checkpoint::Checkpoint> cp;
    if (!file.skip_checkpoint) cp = lookup_.find(key.dev, key.ino);
    file.refresh_size();
    if (cp && file.first_bytes_match(cp->fingerprint, cp->fingerprint_bytes)) {
      if (file.size() < cp->offset) {
        stats_.truncations.inc();
        log::info("file is shorter than its checkpoint; reading it from the start",
                  {{"path", file.path()}, {"checkpoint", cp->offset}, {"size", file.size()}});
      } else {
        offset = cp->offset;
      }
    } else if (file.read_from_end && file.present_at_first_scan) {
      offset = std::min(file.size_at_discovery, file.size());
      mid_line = !file.at_line_start(offset);
    }
    auto source = std::make_shared<SourceFile>();
    source->id = g_next_source_id.fetch_add(1);
    source->path = file.path();
    source->dev = key.dev;
    source->ino = key.ino;
    source->fingerprint = fp->hash;
    source->fingerprint_bytes = fp->bytes;
    log::info("following file", {{"path", file.path()}, {"offset", offset}, {"source_id", source->id}});
    file.start(std::move(source), offset, mid_line);
    return true;
  }

  // One turn: one chunk from each file that has bytes, starting after the file the previous
  // turn stopped at, so a paused turn does not always favour the first files.
  void pump() {
    pump_pending_ = false;
    idle_ = false;
    end_wait();
    if (stopping_ || paused_) {
      update_caught_up();
      return;
    }
    std::vector<TailedFile*> order;
    order.reserve(files_.size());
    const auto split = files_.lower_bound(next_);
    for (auto it = split; it != files_.end(); ++it) order.push_back(it->second.get());
    for (auto it = files_.begin(); it != split; ++it) order.push_back(it->second.get());

    // Rename rotation: the file now at a path waits until the one renamed away from it is
    // read to its end, so a file's records leave in the order the app wrote them.
    std::set<std::string> draining;
    for (const auto& [key, file] : files_)
      if (file->detached_since && (!file->started() || file->unread() > 0)) draining.insert(file->path());

    bool more = false;
    for (TailedFile* file : order) {
      if (stopping_) return;
      if (!file->detached_since && draining.count(file->path())) continue;
      // A copytruncate refilled past our offset since the last read (during a batch_wait, or
      // while we were behind) shows only in the first line; reading on would start mid-line.
      check_rewritten(*file);
      if (!file->started() && !activate(*file)) continue;
      auto outcome = file->read_batch(budget_, options_.read_chunk_bytes);
      switch (outcome.status) {
        case TailedFile::ReadStatus::kEof:
        case TailedFile::ReadStatus::kError:  // logged once; retried on the next event or rescan
          break;
        case TailedFile::ReadStatus::kNoBudget:
          // Resumed by the budget's callback (or the rescan timer), starting with this file.
          paused_ = true;
          next_ = file->key();
          update_caught_up();
          return;
        case TailedFile::ReadStatus::kTruncated:
          truncated(*file);
          more = true;
          break;
        case TailedFile::ReadStatus::kRead:
          stats_.bytes_read.inc(outcome.bytes);
          if (outcome.batch) {
            stats_.lines_read.inc(outcome.batch->records.size());
            stats_.batches.inc();
            emit_(std::move(outcome.batch));
          }
          more = more || file->unread() > 0;
          break;
      }
    }
    update_caught_up();
    if (more) {
      request_pump();
    } else {
      idle_ = true;  // every file read to its end: the next change may wait for batch_wait
    }
  }

  void update_caught_up() {
    bool done = first_scan_done_ && !rescan_pending_ && pending_updates_.load() == 0;
    std::uint64_t behind = 0;
    for (const auto& [key, file] : files_) {
      if (!file->started()) continue;  // a first line still being written is not readable yet
      behind += file->unread();
      done = done && file->size() == file->read_offset();
    }
    stats_.bytes_behind.set(static_cast<double>(behind));
    caught_up_.store(done, std::memory_order_release);
  }

  TailerOptions options_;
  const checkpoint::CheckpointLookup& lookup_;
  MemoryBudget& budget_;
  EmitFn emit_;
  TailStats stats_;

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  boost::asio::steady_timer timer_;       // rescan tick
  boost::asio::steady_timer wait_timer_;  // batch_wait after a change while idle
  std::thread thread_;
  std::atomic<bool> started_{false}, stopped_{false}, stopping_{false}, caught_up_{false};
  std::atomic<int> pending_updates_{0};  // update_sources() calls not applied yet
  std::atomic<bool> scanned_{false};      // first scan done (for readiness_problem())
  std::atomic<std::size_t> unopenable_{0};  // matched paths failing to open at the last scan

  // Touched only on the tailer thread.
  WatcherPtr watcher_;
  std::map<FileKey, std::unique_ptr<TailedFile>> files_;
  std::map<std::string, int> path_errors_;  // path -> the condition last logged for it
  FileKey next_;                            // where the next turn starts
  bool first_scan_done_ = false;
  bool rescan_pending_ = false;
  bool pump_pending_ = false;
  bool paused_ = false;
  bool idle_ = false;     // the last pump read every file to its end
  bool waiting_ = false;  // wait_timer_ armed: a pump is due when it fires
};

}  // namespace

Result<FileTailerPtr> FileTailer::make(const TailerOptions& options, const checkpoint::CheckpointLookup& checkpoints,
                                       MemoryBudget& budget, EmitFn emit) {
  if (options.read_chunk_bytes == 0) return Error{"read_chunk_bytes must be positive"};
  if (options.max_line_bytes == 0) return Error{"max_line_bytes must be positive"};
  if (options.rescan_interval <= std::chrono::milliseconds::zero()) return Error{"rescan_interval must be positive"};
  if (options.batch_wait < std::chrono::milliseconds::zero()) return Error{"batch_wait must not be negative"};
  // A batch's input holds a held line plus one chunk, addressed by 32-bit Slices.
  if (options.read_chunk_bytes + options.max_line_bytes + kPreviewBytes >= std::numeric_limits<std::uint32_t>::max()) {
    return Error{"read_chunk_bytes + max_line_bytes must stay under 4 GiB"};
  }
  if (!emit) return Error{"no emit function"};
  return FileTailerPtr(new FileTailerImpl(options, checkpoints, budget, std::move(emit)));
}

}  // namespace auditship::tail
