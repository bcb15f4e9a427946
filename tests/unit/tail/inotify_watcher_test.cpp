#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "auditship/tail/watcher.h"
#include "support/temp_dir.h"

namespace auditship::tail {
namespace {

using auditship::testing::TempDir;
using auditship::testing::write_file;
using namespace std::chrono_literals;

class InotifyWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    watcher_ = make_inotify_watcher(io_, [this](WatchEvent e) {
      events_.push_back(e);
      if (on_event_) on_event_();
    });
    ASSERT_NE(watcher_, nullptr) << "inotify is unavailable here";
    write_file(dir_.file("a.log"), "first\n");
    watcher_->watch({dir_.path()});
  }
  void TearDown() override {
    if (watcher_) watcher_->close();
  }

  // Runs the io_context until `n` events arrived, up to 5 s.
  bool run_until_events(std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (events_.size() < n && std::chrono::steady_clock::now() < deadline) io_.run_for(10ms);
    return events_.size() >= n;
  }

  TempDir dir_;
  boost::asio::io_context io_;
  // As in the tailer: the context keeps running while a paused watcher has nothing outstanding.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  std::vector<WatchEvent> events_;
  std::function<void()> on_event_;
  WatcherPtr watcher_;
};

TEST_F(InotifyWatcherTest, AWriteIsReportedAsModified) {
  write_file(dir_.file("a.log"), "second\n", true);
  ASSERT_TRUE(run_until_events(1));
  EXPECT_EQ(events_[0], WatchEvent::kModified);
}

TEST_F(InotifyWatcherTest, PausedItDeliversNothingAndResumeDeliversWhatCameMeanwhile) {
  watcher_->pause();  // with a read outstanding: it is withdrawn
  write_file(dir_.file("a.log"), "second\n", true);
  write_file(dir_.file("a.log"), "third\n", true);
  io_.run_for(300ms);
  EXPECT_TRUE(events_.empty()) << "a paused watcher woke the thread";
  watcher_->resume();
  ASSERT_TRUE(run_until_events(1));
  EXPECT_EQ(events_[0], WatchEvent::kModified);
  // And it keeps delivering after that.
  events_.clear();
  write_file(dir_.file("b.log"), "new\n");
  ASSERT_TRUE(run_until_events(1));
  EXPECT_EQ(events_.back(), WatchEvent::kNamesChanged);
}

TEST_F(InotifyWatcherTest, PauseFromTheCallbackHoldsTheNextEvents) {
  // How the tailer uses it: the event that starts a wait pauses the watcher.
  on_event_ = [this] { watcher_->pause(); };
  write_file(dir_.file("a.log"), "second\n", true);
  ASSERT_TRUE(run_until_events(1));
  write_file(dir_.file("a.log"), "third\n", true);
  io_.run_for(300ms);
  EXPECT_EQ(events_.size(), 1u);
  watcher_->resume();
  ASSERT_TRUE(run_until_events(2));
}

TEST_F(InotifyWatcherTest, PauseThenResumeBeforeTheCancelledReadReturnsKeepsReading) {
  watcher_->pause();
  watcher_->resume();  // the cancelled read has not completed yet: it must re-arm itself
  write_file(dir_.file("a.log"), "second\n", true);
  ASSERT_TRUE(run_until_events(1));
}

}  // namespace
}  // namespace auditship::tail
