#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include <boost/asio/posix/stream_descriptor.hpp>

#include "auditship/common/log.h"
#include "auditship/tail/watcher.h"

namespace auditship::tail {
namespace {

constexpr std::uint32_t kNameEvents =
    IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
constexpr std::uint32_t kWatchMask = kNameEvents | IN_MODIFY;

class InotifyWatcher final : public Watcher {
 public:
  InotifyWatcher(boost::asio::io_context& io, int fd, Callback callback)
      : stream_(io, fd), callback_(std::move(callback)) {
    read();
  }
  ~InotifyWatcher() override { close(); }

  void watch(const std::vector<std::string>& dirs) override {
    if (!stream_.is_open()) return;
    const std::set<std::string> wanted(dirs.begin(), dirs.end());
    for (auto it = dirs_.begin(); it != dirs_.end();) {
      if (wanted.count(it->first)) {
        ++it;
        continue;
      }
      const int wd = it->second;
      it = dirs_.erase(it);
      // Two paths to one directory (a symlink) share a watch descriptor: keep it while used.
      bool shared = false;
      for (const auto& [dir, other] : dirs_) shared = shared || other == wd;
      if (!shared) ::inotify_rm_watch(stream_.native_handle(), wd);
    }
    for (const auto& dir : wanted) {
      if (dirs_.count(dir)) continue;
      const int wd = ::inotify_add_watch(stream_.native_handle(), dir.c_str(), kWatchMask);
      if (wd >= 0) {
        dirs_.emplace(dir, wd);
      } else if (errno == ENOSPC && !warned_limit_) {
        warned_limit_ = true;
        log::warn("inotify watch limit reached; new lines in some directories are seen at the next rescan",
                  {{"dir", dir}});
      }
      // ENOENT and the like: the directory does not exist yet; a rescan will find it.
    }
  }

  void pause() override {
    paused_ = true;
    // An outstanding read would still wake us for the next event: withdraw it. The events
    // stay in the kernel's queue.
    if (reading_) {
      boost::system::error_code ec;
      stream_.cancel(ec);
    }
  }

  void resume() override {
    paused_ = false;
    if (!reading_ && stream_.is_open()) read();
  }

  void close() noexcept override {
    boost::system::error_code ec;
    stream_.close(ec);  // closing the inotify fd drops all its watches
    dirs_.clear();
  }

 private:
  void read() {
    reading_ = true;
    stream_.async_read_some(boost::asio::buffer(buffer_), [this](boost::system::error_code ec, std::size_t n) {
      reading_ = false;
      if (ec == boost::asio::error::operation_aborted) {
        if (!paused_ && stream_.is_open()) read();  // resumed before the cancelled read returned
        return;
      }
      if (ec) {
        if (stream_.is_open()) {
          log::warn("inotify read failed; relying on rescans", {{"error", ec.message()}});
        }
        return;
      }
      dispatch(n);
      if (!paused_) read();  // else resume() reads on
    });
  }

  void dispatch(std::size_t n) {
    bool modified = false, names = false;
    for (std::size_t pos = 0; pos + sizeof(inotify_event) <= n;) {
      inotify_event event;
      std::memcpy(&event, buffer_.data() + pos, sizeof event);  // the buffer is not aligned for it
      if (event.mask & (kNameEvents | IN_Q_OVERFLOW | IN_IGNORED)) names = true;
      if (event.mask & IN_MODIFY) modified = true;
      pos += sizeof(inotify_event) + event.len;
    }
    // Names first: a rescan also reads, so one callback is enough when both happened.
    if (names) {
      callback_(WatchEvent::kNamesChanged);
    } else if (modified) {
      callback_(WatchEvent::kModified);
    }
  }

  boost::asio::posix::stream_descriptor stream_;
  Callback callback_;
  std::map<std::string, int> dirs_;
  bool warned_limit_ = false;
  bool paused_ = false;
  bool reading_ = false;  // an async read is outstanding
  alignas(inotify_event) std::array<char, 16 * 1024> buffer_{};
};

}  // namespace

WatcherPtr make_inotify_watcher(boost::asio::io_context& io, Watcher::Callback callback) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    log::warn("inotify unavailable; files are polled at each rescan", {{"error", std::strerror(errno)}});
    return nullptr;
  }
  return std::make_unique<InotifyWatcher>(io, fd, std::move(callback));
}

}  // namespace auditship::tail
