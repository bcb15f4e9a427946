#include "support/chaos.h"

#include <gtest/gtest.h>

#include <simdjson.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "support/temp_dir.h"

namespace auditship::testing {

double chaos_scale() {
  const char* s = std::getenv("AUDITSHIP_CHAOS_SCALE");
  if (!s || !*s) return 1.0;
  double v = std::atof(s);
  return v > 0 ? v : 1.0;
}

std::uint64_t scaled(std::uint64_t value, std::uint64_t at_least) {
  return std::max<std::uint64_t>(at_least, static_cast<std::uint64_t>(std::llround(value * chaos_scale())));
}

void Figure::print() const {
  char line[512];
  std::snprintf(line, sizeof line, "CHAOS %s: written %llu, delivered %llu, lost %llu, duplicated %llu%s%s\n",
                name.c_str(), static_cast<unsigned long long>(written), static_cast<unsigned long long>(delivered),
                static_cast<unsigned long long>(lost), static_cast<unsigned long long>(duplicated),
                note.empty() ? "" : "; ", note.c_str());
  std::fputs(line, stdout);
  std::fflush(stdout);
  if (const char* report = std::getenv("AUDITSHIP_CHAOS_REPORT"); report && *report) write_file(report, line, true);
}

Figure figure(const std::string& name, const Delivery& d, const std::map<std::string, std::uint64_t>& expected) {
  Figure f{name};
  for (const auto& [tag, n] : expected) {
    f.written += n;
    const std::uint64_t lost = d.missing(tag, n).size();
    f.lost += lost;
    f.delivered += n - lost;
  }
  f.duplicated = d.duplicates();
  return f;
}

Figure report(const std::string& name, const TopicFollower& follower,
              const std::map<std::string, std::uint64_t>& expected, std::string note) {
  Figure fig = figure(name, summarize(follower.messages()), expected);
  fig.note = std::move(note);
  fig.print();
  return fig;
}

void expect_exactly_once(const Figure& fig) {
  EXPECT_EQ(fig.lost, 0u) << fig.name;
  EXPECT_EQ(fig.duplicated, 0u) << fig.name;
}

RotatingLog::RotatingLog(std::string dir, std::string name, std::string tag, std::size_t pad)
    : dir_(std::move(dir)), name_(std::move(name)), tag_(std::move(tag)), pad_(pad) {}

void RotatingLog::append(std::uint64_t count) {
  const std::uint64_t from = places_.size();
  std::string text;
  std::vector<std::uint64_t> offsets;
  for (std::uint64_t s = from; s < from + count; ++s) {
    offsets.push_back(text.size());
    text += audit_line(tag_, s, pad_);
  }
  std::ofstream out(path(), std::ios::app | std::ios::binary);
  if (!out) throw std::runtime_error("cannot append to " + path());
  out.seekp(0, std::ios::end);
  const auto base = static_cast<std::uint64_t>(out.tellp());
  out << text;
  out.close();
  struct stat st {};
  if (::stat(path().c_str(), &st) != 0) throw std::runtime_error("cannot stat " + path());
  for (std::uint64_t off : offsets)
    places_.push_back({static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino), base + off,
                       epoch_});
}

void RotatingLog::rotate() {
  namespace fs = std::filesystem;
  for (int n = rotations_; n >= 1; --n) {
    const std::string from = path() + "." + std::to_string(n);
    if (fs::exists(from)) fs::rename(from, path() + "." + std::to_string(n + 1));
  }
  if (fs::exists(path())) fs::rename(path(), path() + ".1");
  ++rotations_;
}

Committed read_checkpoints(const std::string& state_dir) {
  Committed out;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(read_file(state_dir + "/checkpoints.json")).get(doc)) return out;
  simdjson::dom::array files;
  if (doc["files"].get(files)) return out;
  for (auto f : files) {
    std::uint64_t dev = 0, ino = 0, offset = 0;
    if (f["dev"].get(dev) || f["ino"].get(ino) || f["offset"].get(offset)) continue;
    out[{dev, ino}] = offset;
  }
  return out;
}

bool wait_delivered(const TopicFollower& follower, const std::map<std::string, std::uint64_t>& expected,
                    std::chrono::milliseconds timeout) {
  std::uint64_t total = 0;
  for (const auto& [tag, n] : expected) total += n;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (follower.count() >= total) {
      Delivery d = summarize(follower.messages());
      bool all = true;
      for (const auto& [tag, n] : expected) all = all && d.missing(tag, n).empty();
      if (all) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

std::vector<std::string> files_under(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file()) out.push_back(it->path().string());
  return out;
}

}  // namespace auditship::testing
