#include "auditship/buffer/disk_buffer_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "auditship/buffer/segment.h"
#include "auditship/common/file_io.h"
#include "auditship/common/hash.h"
#include "auditship/common/log.h"
#include "auditship/common/metrics.h"
#include "auditship/common/thread_name.h"

namespace auditship::buffer {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
// How often replay progress is persisted: a kill -9 re-sends at most this much replay (plus
// what is in flight); a 16-byte file renamed at most 50 times a second.
constexpr auto kProgressPeriod = std::chrono::milliseconds(20);

struct BufferStats {
  metrics::Registry& r = metrics::Registry::global();
  metrics::Gauge& disk_bytes = r.gauge("auditship_buffer_disk_bytes", "Bytes of segment files in the disk buffer");
  metrics::Gauge& segments = r.gauge("auditship_buffer_segments", "Segment files in the disk buffer");
  metrics::Gauge& spilling = r.gauge("auditship_buffer_spilling", "1 while new batches go to the disk buffer");
  metrics::Counter& frames_written = r.counter("auditship_buffer_frames_written_total",
                                               "Batches written to the disk buffer (one frame each)");
  metrics::Counter& records_spilled = r.counter("auditship_buffer_records_spilled_total",
                                                "Records written to the disk buffer");
  metrics::Counter& frames_replayed = r.counter("auditship_buffer_frames_replayed_total",
                                                "Frames read back from the disk buffer and sent to Kafka");
  metrics::Counter& records_replayed = r.counter("auditship_buffer_records_replayed_total",
                                                 "Records read back from the disk buffer and sent to Kafka");
  metrics::Counter& quarantined = r.counter("auditship_buffer_frames_quarantined_total",
                                            "Corrupt or torn byte ranges of segments copied to quarantine/");
  metrics::Counter& quarantined_bytes = r.counter("auditship_buffer_quarantined_bytes_total",
                                                  "Bytes copied to quarantine/ (not replayed)");
  metrics::Counter& dropped = r.counter("auditship_buffer_records_dropped_total",
                                        "Records deleted unreplayed by when_full: drop_oldest");
  metrics::Counter& full_waits = r.counter("auditship_buffer_full_waits_total",
                                           "Times send() waited because the disk buffer was at max_disk_bytes");
  metrics::Counter& kept_in_memory = r.counter(
      "auditship_buffer_batches_kept_in_memory_total",
      "Batches handed to Kafka in memory because the disk buffer stayed full for spill_after");
  metrics::Counter& io_errors = r.counter("auditship_buffer_io_errors_total",
                                          "Disk buffer writes/reads that failed (the batch stayed in memory)");
};
BufferStats& stats() {
  static BufferStats s;
  return s;
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string segment_name(std::uint64_t seq) {
  char name[40];
  std::snprintf(name, sizeof name, "segment-%020llu.zst", static_cast<unsigned long long>(seq));
  return name;
}

// Records in the valid frames of a whole segment file (for drop_oldest's count).
std::uint64_t count_records(const std::string& path, std::uint64_t from) {
  std::string bytes;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes.append(buf, n);
    std::fclose(f);
  }
  std::uint64_t records = 0;
  for_each_frame(bytes, from, [&](const FrameScan& s) { records += s.records; });
  return records;
}

// `<segment>.acked`: the acknowledged prefix's end offset and its FNV-1a, little-endian. Lost
// or stale, it only costs duplicates (replay starts earlier), so it is renamed into place
// without an fsync.
std::string progress_path(const std::string& segment) { return segment + ".acked"; }

void write_progress(const std::string& segment, std::uint64_t offset) {
  std::string text;
  for (std::uint64_t v : {offset, fnv1a64(std::to_string(offset))})
    for (int i = 0; i < 8; ++i) text.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  const std::string tmp = progress_path(segment) + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const bool ok = write_all(fd, text);
  ::close(fd);
  if (ok) ::rename(tmp.c_str(), progress_path(segment).c_str());
}

std::uint64_t read_progress(const std::string& segment) {
  std::string text;
  if (FILE* f = std::fopen(progress_path(segment).c_str(), "rb")) {
    char buf[16];
    text.assign(buf, std::fread(buf, 1, sizeof buf, f));
    std::fclose(f);
  }
  if (text.size() != 16) return 0;
  std::uint64_t v[2] = {0, 0};
  for (int k = 0; k < 2; ++k)
    for (int i = 0; i < 8; ++i) v[k] |= static_cast<std::uint64_t>(static_cast<unsigned char>(text[8 * k + i])) << (8 * i);
  return v[1] == fnv1a64(std::to_string(v[0])) ? v[0] : 0;
}

}  // namespace

struct DiskBufferSink::Segment {
  std::uint64_t seq = 0;
  std::string path;
  std::uint64_t bytes = 0;    // complete frames written (the file size for a leftover)
  std::uint64_t records = 0;  // records written this run (unknown for a leftover)
  bool leftover = false;
  std::uint64_t sent = 0, acked = 0;  // replayed records handed to / acknowledged by the inner sink
  bool sealed = false;     // no more frames will be appended
  bool read_done = false;  // replay consumed it to the end
  bool dropped = false;    // deleted by drop_oldest
  bool deleted = false;
  // Replay progress, so a restart does not re-send what Kafka already acknowledged: frames
  // handed to the inner sink and not fully acknowledged (begin -> end offset), how far replay
  // has read, and the end of the acknowledged prefix (persisted in `<path>.acked`).
  std::map<std::uint64_t, std::uint64_t> unacked_frames;
  std::uint64_t sent_to = 0, acked_to = 0, persisted_to = 0;
  std::uint64_t resume_at = 0;  // a leftover's persisted acked_to
};

struct DiskBufferSink::Cursor {
  SegmentPtr segment;
  int fd = -1;
  std::string bytes;  // the segment's bytes read so far
  std::size_t pos = 0;
  std::size_t frame_begin = 0;  // of the batch read_next() returned last
  bool header_checked = false;
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
    segment.reset();
    bytes.clear();
    bytes.shrink_to_fit();
    pos = 0;
    header_checked = false;
  }
  ~Cursor() { close(); }
};

DiskBufferOptions DiskBufferOptions::from(const BufferConfig& config, const std::string& state_dir,
                                          std::uint64_t memory_share) {
  DiskBufferOptions o;
  o.dir = (fs::path(state_dir) / "buffer").string();
  o.max_disk_bytes = config.max_disk_bytes;
  o.segment_bytes = std::clamp<std::uint64_t>(config.max_disk_bytes / 8, 64u << 10, 4u << 20);
  o.drop_oldest = config.when_full == "drop_oldest";
  o.fsync_always = config.fsync != "interval";
  o.fsync_interval = config.fsync_interval;
  o.spill_after = config.spill_after;
  o.spill_bytes = std::max<std::uint64_t>(memory_share / 2, 1);
  o.replay_bytes = std::max<std::uint64_t>(memory_share / 2, 1);
  return o;
}

DiskBufferSink::DiskBufferSink(DiskBufferOptions options, sink::DeliveryListener& downstream)
    : opts_(std::move(options)), downstream_(downstream) {
  stats();
}

Result<DiskBufferSinkPtr> DiskBufferSink::make(DiskBufferOptions options, sink::DeliveryListener& downstream) {
  DiskBufferSinkPtr sink(new DiskBufferSink(std::move(options), downstream));
  if (Status s = sink->open_dir(); !s) return Error{s.error()};
  return sink;
}

Status DiskBufferSink::open_dir() {
  std::error_code ec;
  fs::create_directories(fs::path(opts_.dir) / "quarantine", ec);
  if (ec) return Error{"buffer: cannot create " + opts_.dir + ": " + ec.message()};
  std::vector<std::pair<std::uint64_t, std::string>> found;
  for (const auto& entry : fs::directory_iterator(opts_.dir, ec)) {
    const std::string name = entry.path().filename().string();
    unsigned long long seq = 0;
    if (!entry.is_regular_file() || std::sscanf(name.c_str(), "segment-%llu.zst", &seq) != 1) continue;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".zst") == 0) {
      found.emplace_back(seq, entry.path().string());
    } else if (name.ends_with(".tmp") || !fs::exists(entry.path().parent_path() / segment_name(seq))) {
      fs::remove(entry.path(), ec);  // a half-written marker, or one of a segment already deleted
      ec.clear();
    }
  }
  if (ec) return Error{"buffer: cannot list " + opts_.dir + ": " + ec.message()};
  std::sort(found.begin(), found.end());
  for (auto& [seq, path] : found) {
    auto s = std::make_shared<Segment>();
    s->seq = seq;
    s->path = path;
    s->bytes = fs::file_size(path, ec);
    if (ec) return Error{"buffer: cannot stat " + path + ": " + ec.message()};
    s->leftover = s->sealed = true;
    if (const std::uint64_t at = read_progress(path); at >= kSegmentHeaderBytes && at <= s->bytes)
      s->resume_at = s->sent_to = s->acked_to = s->persisted_to = at;
    disk_bytes_ += s->bytes;
    segments_.push_back(std::move(s));
    next_seq_ = seq + 1;
  }
  if (!segments_.empty()) {
    // Already past the checkpoint: they ship before anything read from now on.
    spilling_ = leftovers_only_ = true;
    log::info("disk buffer: replaying segments left by the previous run",
              {{"segments", segments_.size()}, {"bytes", disk_bytes_}});
  }
  update_gauges();
  return {};
}

void DiskBufferSink::start(sink::SinkPtr inner) {
  inner_ = std::move(inner);
  replayer_ = std::thread([this] {
    name_this_thread("as-replay");
    replay_loop();
  });
}

DiskBufferSink::~DiskBufferSink() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (replayer_.joinable()) replayer_.join();
  // What the inner sink still holds is purged unacknowledged: pass-through records are re-read
  // from their files at restart, replayed ones stay in their segments.
  inner_.reset();
  std::lock_guard lock(mu_);
  persist_progress();
  // interval policy: written but not fsynced are not acknowledged (re-read at restart).
  if (writer_fd_ >= 0) ::close(writer_fd_);
}

void DiskBufferSink::persist_progress() {
  last_progress_ = Clock::now();
  for (const SegmentPtr& s : segments_) {
    if (s->deleted || s->acked_to <= s->persisted_to) continue;
    write_progress(s->path, s->acked_to);
    s->persisted_to = s->acked_to;
  }
}

void DiskBufferSink::update_gauges() {
  stats().disk_bytes.set(static_cast<double>(disk_bytes_));
  stats().segments.set(static_cast<double>(segments_.size()));
  stats().spilling.set(spilling_ ? 1 : 0);
}

bool DiskBufferSink::should_spill() {
  if (pass_bytes_.load() >= opts_.spill_bytes) return true;
  std::lock_guard lock(pass_mu_);
  return !passed_at_.empty() && Clock::now() - passed_at_.begin()->second >= opts_.spill_after;
}

void DiskBufferSink::pass_through(BatchPtr batch) {
  if (!batch->records.empty()) {
    // Registered first: the inner sink may acknowledge inside send() (kDrop records).
    std::lock_guard lock(pass_mu_);
    const std::uint64_t seq = next_pass_seq_++, bytes = batch_bytes(*batch);
    passed_[batch.get()] = {seq, bytes, batch->records.size()};
    passed_at_[seq] = Clock::now();
    pass_bytes_ += bytes;
  }
  inner_->send(std::move(batch));
}

void DiskBufferSink::send(BatchPtr batch) {
  // Nothing to acknowledge or keep in order: the tracker committed an empty batch already.
  if (batch->records.empty()) return pass_through(std::move(batch));
  std::unique_lock lk(mu_);
  if (!spilling_) {
    lk.unlock();
    if (!should_spill()) return pass_through(std::move(batch));
    lk.lock();
    if (!spilling_) {
      spilling_ = true;
      update_gauges();
      log::warn("disk buffer: Kafka is not keeping up, spilling batches to disk",
                {{"kafka_unacknowledged_bytes", pass_bytes_.load()}, {"dir", opts_.dir}});
    }
  }
  lk.unlock();
  const std::string frame = encode_frame(*batch);
  const auto records = static_cast<std::uint32_t>(batch->records.size());
  lk.lock();
  const auto give_up = Clock::now() + opts_.spill_after;
  bool waited = false;
  while (spilling_ && full(frame.size())) {
    if (opts_.drop_oldest && drop_oldest_segment()) continue;
    if (!waited) stats().full_waits.inc();
    waited = true;
    if (cv_.wait_until(lk, give_up) == std::cv_status::timeout && full(frame.size())) {
      stats().kept_in_memory.inc();
      lk.unlock();
      return pass_through(std::move(batch));
    }
  }
  // Replay caught up while we waited: nothing is on disk ahead of this batch any more.
  if (!spilling_) {
    lk.unlock();
    return pass_through(std::move(batch));
  }
  if (Status s = append_frame(frame, records); !s) {
    stats().io_errors.inc();
    log::error("disk buffer: write failed; the batch waits in memory instead", {{"error", s.error()}});
    lk.unlock();
    return pass_through(std::move(batch));
  }
  stats().frames_written.inc();
  stats().records_spilled.inc(records);
  cv_.notify_all();
  if (opts_.fsync_always) {
    lk.unlock();
    for (std::size_t i = 0; i < batch->records.size(); ++i) downstream_.delivered(*batch, i);
    return;
  }
  pending_.push_back(std::move(batch));
  if (Clock::now() - last_sync_ >= opts_.fsync_interval) sync_pending();
  deliver_ready(lk);
}

bool DiskBufferSink::full(std::uint64_t frame_bytes) const {
  // An empty buffer takes any frame, so one batch larger than the bound cannot wedge it.
  return !segments_.empty() && disk_bytes_ + frame_bytes > opts_.max_disk_bytes;
}

bool DiskBufferSink::drop_oldest_segment() {
  if (segments_.empty()) return false;
  if (segments_.size() == 1 && !segments_.front()->sealed) {
    seal_current();
    if (segments_.empty()) return true;  // it was fully replayed and acknowledged: deleted
  }
  SegmentPtr s = segments_.front();
  const std::uint64_t total = s->leftover ? count_records(s->path, s->resume_at) : s->records;
  const std::uint64_t lost = total > s->sent ? total - s->sent : 0;
  stats().dropped.inc(lost);
  log::warn("disk buffer full: dropped the oldest segment (when_full: drop_oldest)",
            {{"segment", s->path}, {"records", lost}});
  s->dropped = true;
  s->read_done = true;
  s->deleted = true;
  ::unlink(s->path.c_str());
  ::unlink(progress_path(s->path).c_str());
  disk_bytes_ -= s->bytes;
  segments_.pop_front();
  update_gauges();
  return true;
}

Status DiskBufferSink::open_segment() {
  auto s = std::make_shared<Segment>();
  s->seq = next_seq_++;
  s->path = (fs::path(opts_.dir) / segment_name(s->seq)).string();
  const int fd = ::open(s->path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Error{errno_text("cannot create " + s->path)};
  const std::string header = segment_header();
  if (!write_all(fd, header)) {
    Error e{errno_text("cannot write " + s->path)};
    ::close(fd);
    ::unlink(s->path.c_str());
    return e;
  }
  if (opts_.fsync_always) {
    // The new name must survive a crash along with the frames fsynced into it.
    ::fsync(fd);
    if (int dir = ::open(opts_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }
  s->bytes = header.size();
  disk_bytes_ += s->bytes;
  writer_fd_ = fd;
  segments_.push_back(std::move(s));
  update_gauges();
  return {};
}

void DiskBufferSink::seal_current() {
  if (writer_fd_ < 0) return;
  if (!opts_.fsync_always) sync_pending();
  ::close(writer_fd_);
  writer_fd_ = -1;
  segments_.back()->sealed = true;
  maybe_delete(segments_.back());
}

Status DiskBufferSink::append_frame(const std::string& frame, std::uint32_t records) {
  if (writer_fd_ >= 0 && segments_.back()->bytes + frame.size() > opts_.segment_bytes &&
      segments_.back()->bytes > kSegmentHeaderBytes)
    seal_current();
  if (writer_fd_ < 0)
    if (Status s = open_segment(); !s) return s;
  Segment& seg = *segments_.back();
  if (!write_all(writer_fd_, frame) || (opts_.fsync_always && ::fdatasync(writer_fd_) != 0)) {
    Status e = Error{errno_text("cannot write " + seg.path)};
    // A partial frame would be quarantined at replay; start a fresh segment for the next one.
    ::ftruncate(writer_fd_, static_cast<off_t>(seg.bytes));
    seal_current();
    return e;
  }
  leftovers_only_ = false;
  seg.bytes += frame.size();
  seg.records += records;
  disk_bytes_ += frame.size();
  update_gauges();
  return {};
}

void DiskBufferSink::sync_pending() {
  last_sync_ = Clock::now();
  if (pending_.empty()) return;
  if (writer_fd_ >= 0 && ::fdatasync(writer_fd_) != 0) {
    stats().io_errors.inc();
    log::error("disk buffer: fsync failed; spilled records stay unacknowledged (re-read at restart)",
               {{"error", std::strerror(errno)}});
    return;
  }
  for (BatchPtr& b : pending_) ready_.push_back(std::move(b));
  pending_.clear();
}

void DiskBufferSink::deliver_ready(std::unique_lock<std::mutex>& lk) {
  std::vector<BatchPtr> ready;
  ready.swap(ready_);
  lk.unlock();
  for (const BatchPtr& b : ready)
    for (std::size_t i = 0; i < b->records.size(); ++i) downstream_.delivered(*b, i);
  ready.clear();  // releases the leases
  lk.lock();
}

void DiskBufferSink::maybe_delete(const SegmentPtr& s) {
  if (s->deleted || !s->sealed || !s->read_done || s->acked < s->sent) return;
  s->deleted = true;
  ::unlink(s->path.c_str());
  ::unlink(progress_path(s->path).c_str());
  disk_bytes_ -= s->bytes;
  segments_.erase(std::remove(segments_.begin(), segments_.end(), s), segments_.end());
  update_gauges();
  cv_.notify_all();
}

void DiskBufferSink::InnerListener::delivered(const Batch& batch, std::size_t index) {
  owner_.on_inner_delivered(batch, index);
}

void DiskBufferSink::on_inner_delivered(const Batch& batch, std::size_t index) {
  {
    std::unique_lock lock(pass_mu_);
    if (auto it = passed_.find(&batch); it != passed_.end()) {
      if (--it->second.remaining == 0) {
        pass_bytes_ -= it->second.bytes;
        passed_at_.erase(it->second.seq);
        passed_.erase(it);
      }
      lock.unlock();
      downstream_.delivered(batch, index);
      return;
    }
  }
  std::lock_guard lock(mu_);
  auto it = replayed_.find(&batch);
  if (it == replayed_.end()) {
    log::warn("disk buffer: acknowledgement for an unknown batch", {{"index", index}});
    return;
  }
  SegmentPtr s = it->second.segment;
  ++s->acked;
  if (--it->second.remaining == 0) {
    replay_unacked_ -= it->second.bytes;
    s->unacked_frames.erase(it->second.frame_begin);
    s->acked_to = s->unacked_frames.empty() ? s->sent_to : s->unacked_frames.begin()->first;
    replayed_.erase(it);
    // Here too, not only in the replay loop, which may be waiting for these very acks.
    if (Clock::now() - last_progress_ >= kProgressPeriod) persist_progress();
    cv_.notify_all();
  }
  maybe_delete(s);
}

void DiskBufferSink::quarantine(const Cursor& cur, std::size_t begin, std::size_t end, const std::string& why) {
  if (end <= begin) return;
  const std::string file = (fs::path(opts_.dir) / "quarantine" /
                            (fs::path(cur.segment->path).stem().string() + "-at-" + std::to_string(begin) + ".bad"))
                               .string();
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const bool saved = fd >= 0 && write_all(fd, std::string_view(cur.bytes).substr(begin, end - begin));
  if (fd >= 0) ::close(fd);
  if (!saved) stats().io_errors.inc();
  stats().quarantined.inc();
  stats().quarantined_bytes.inc(end - begin);
  log::warn("disk buffer: corrupt bytes in a segment quarantined; replay continues after them",
            {{"segment", cur.segment->path}, {"offset", begin}, {"bytes", end - begin}, {"reason", why},
             {"quarantine", saved ? file : std::string("(could not be written)")}});
}

BatchPtr DiskBufferSink::read_next(Cursor& cur, std::uint64_t written, bool sealed) {
  if (cur.fd < 0) {
    cur.fd = ::open(cur.segment->path.c_str(), O_RDONLY | O_CLOEXEC);
    if (cur.fd < 0) {
      stats().io_errors.inc();
      log::error("disk buffer: cannot open a segment; skipping it", {{"error", errno_text(cur.segment->path)}});
      cur.pos = cur.bytes.size();
      return nullptr;
    }
  }
  while (cur.bytes.size() < written) {
    const std::size_t have = cur.bytes.size();
    cur.bytes.resize(written);
    const ssize_t n = ::pread(cur.fd, cur.bytes.data() + have, written - have, static_cast<off_t>(have));
    if (n <= 0) {
      cur.bytes.resize(have);
      if (n < 0) {
        stats().io_errors.inc();
        log::error("disk buffer: cannot read a segment", {{"error", errno_text(cur.segment->path)}});
      }
      break;  // a leftover shorter than stat said: what is there is all there is
    }
    cur.bytes.resize(have + static_cast<std::size_t>(n));
  }
  if (!cur.header_checked) {
    if (cur.bytes.size() < kSegmentHeaderBytes && !sealed) return nullptr;
    cur.header_checked = true;
    if (!valid_segment_header(cur.bytes)) {
      quarantine(cur, 0, cur.bytes.size(), "bad segment header");
      cur.pos = cur.bytes.size();
      return nullptr;
    }
    // A leftover resumes after the frames Kafka acknowledged before the restart.
    cur.pos = std::max<std::size_t>(kSegmentHeaderBytes, std::min<std::size_t>(cur.segment->resume_at, cur.bytes.size()));
  }
  while (true) {
    FrameScan s = scan_frame(cur.bytes, cur.pos);
    if (s.kind == FrameScan::kNeedMore) {
      if (sealed && cur.pos < cur.bytes.size()) {
        quarantine(cur, cur.pos, cur.bytes.size(), "torn frame at the end of a segment");
        cur.pos = cur.bytes.size();
      }
      return nullptr;
    }
    if (s.kind == FrameScan::kCorrupt) {
      quarantine(cur, s.begin, s.end, "bad frame header or checksum");
      cur.pos = s.end;
      continue;
    }
    auto batch = decode_frame(s);
    if (!batch) {
      quarantine(cur, s.begin, s.end, batch.error());
      cur.pos = s.end;
      continue;
    }
    cur.frame_begin = s.begin;
    cur.pos = s.end;
    return std::move(batch.value());
  }
}

void DiskBufferSink::replay_loop() {
  Cursor cur;
  std::unique_lock lk(mu_);
  while (!stopping_) {
    if (!opts_.fsync_always && !pending_.empty() && Clock::now() - last_sync_ >= opts_.fsync_interval) {
      sync_pending();
      deliver_ready(lk);
      continue;
    }
    SegmentPtr next;
    for (const SegmentPtr& s : segments_)
      if (!s->read_done) {
        next = s;
        break;
      }
    if (leftovers_only_ && !next && writer_fd_ < 0 && replay_unacked_ == 0) {
      // Leftovers of a previous run replayed and acknowledged, nothing spilled since (once a
      // frame is written, catching up with its segment ends spilling instead, below).
      leftovers_only_ = false;
      spilling_ = false;
      update_gauges();
      log::info("disk buffer drained: batches go straight to Kafka again");
      continue;
    }
    if (!next || replay_unacked_ >= opts_.replay_bytes) {
      cv_.wait_for(lk, opts_.fsync_always ? std::chrono::milliseconds(1000) : opts_.fsync_interval);
      continue;
    }
    if (cur.segment != next) {
      cur.close();
      cur.segment = next;
    }
    const std::uint64_t written = next->bytes;
    const bool sealed = next->sealed;
    lk.unlock();
    BatchPtr batch = read_next(cur, written, sealed);
    lk.lock();
    const bool send = batch && !next->dropped && !batch->records.empty();
    if (batch && !next->dropped) {
      stats().frames_replayed.inc();
      stats().records_replayed.inc(batch->records.size());
    }
    // Progress first counts the frame being sent as unacknowledged, so the marker never passes it.
    next->sent_to = cur.pos;
    if (send) next->unacked_frames[cur.frame_begin] = cur.pos;
    next->acked_to = next->unacked_frames.empty() ? next->sent_to : next->unacked_frames.begin()->first;
    if (Clock::now() - last_progress_ >= kProgressPeriod) persist_progress();
    if (batch) {
      if (!send) continue;  // no records, or drop_oldest deleted the segment while we read
      const std::uint64_t bytes = batch_bytes(*batch);
      const std::size_t n = batch->records.size();
      next->sent += n;
      replay_unacked_ += bytes;
      replayed_[batch.get()] = {next, bytes, n, cur.frame_begin};
      lk.unlock();
      inner_->send(std::move(batch));
      lk.lock();
      continue;
    }
    // Everything written so far is consumed.
    if (next->dropped || sealed) {
      next->read_done = true;
      cur.close();
      maybe_delete(next);
      continue;
    }
    if (next->sealed || next->bytes != written) continue;  // more arrived meanwhile: read it first
    if (replay_unacked_ > 0) {
      // Caught up, but Kafka has not acknowledged what replay sent: it is not keeping up yet,
      // so new batches keep going to disk (wakes on an acknowledgement or a new frame).
      cv_.wait_for(lk, std::chrono::milliseconds(100));
      continue;
    }
    if (next == segments_.back()) {
      // Caught up with the writer and Kafka acknowledged all of it: new batches may go
      // straight to Kafka again, after these.
      spilling_ = false;
      next->read_done = true;
      seal_current();
      cur.close();
      update_gauges();
      deliver_ready(lk);
      log::info("disk buffer drained: batches go straight to Kafka again");
    }
  }
}

bool DiskBufferSink::flush(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::unique_lock lk(mu_);
  if (!opts_.fsync_always) {
    sync_pending();
    deliver_ready(lk);
  }
  while (true) {
    if (inner_->failure()) return false;
    if (segments_.empty() && pass_bytes_.load() == 0) break;
    if (Clock::now() >= deadline) return false;
    cv_.wait_for(lk, std::chrono::milliseconds(20));
  }
  lk.unlock();
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return inner_->flush(std::max(left, std::chrono::milliseconds(0)));
}

std::optional<std::string> DiskBufferSink::failure() const {
  // Disk trouble is not fatal (the batch waits in memory, counted); only Kafka's failure is.
  return inner_ ? inner_->failure() : std::nullopt;
}

bool DiskBufferSink::spilling() const {
  std::lock_guard lock(mu_);
  return spilling_;
}

std::uint64_t DiskBufferSink::disk_bytes() const {
  std::lock_guard lock(mu_);
  return disk_bytes_;
}

std::size_t DiskBufferSink::segment_count() const {
  std::lock_guard lock(mu_);
  return segments_.size();
}

}  // namespace auditship::buffer
