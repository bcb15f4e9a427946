#pragma once
// Tells the tailer that something changed in the directories it follows, so it reads or
// rescans now rather than at the next rescan tick. Only a hint: the periodic rescan stays the
// source of truth, so a lost event (queue overflow, watch limit, a filesystem without inotify)
// costs latency, never data.
//
// Runs on: the tailer's io_context (the callback is invoked from its thread).
// Owned by: FileTailer; close() (or destroy) before the io_context goes away.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace auditship::tail {

enum class WatchEvent {
  kModified,      // a file in a watched directory got bytes: read
  kNamesChanged,  // created, moved, deleted, attributes changed, or events lost: rescan
};

class Watcher {
 public:
  using Callback = std::function<void(WatchEvent)>;
  virtual ~Watcher() = default;
  // Replaces the set of watched directories. One that cannot be watched (missing, or over the
  // watch limit) is skipped: the rescan covers it.
  virtual void watch(const std::vector<std::string>& dirs) = 0;
  // While paused, events wait in the kernel's queue (identical ones merge there) and the thread
  // is not woken for them; resume() delivers what came meanwhile. For a reader that is going to
  // look anyway soon: one wake-up per write costs more than the write's lines at low rates.
  virtual void pause() = 0;
  virtual void resume() = 0;
  virtual void close() noexcept = 0;
};
using WatcherPtr = std::unique_ptr<Watcher>;

// The Linux backend. Null when inotify is unavailable (logged); the tailer then relies on rescans.
WatcherPtr make_inotify_watcher(boost::asio::io_context& io, Watcher::Callback callback);

}  // namespace auditship::tail
