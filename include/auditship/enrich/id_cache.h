#pragma once
// Two small id-keyed memories of the Enrich stage, single-threaded, time passed in:
// LruTtlCache answers repeat lookups; RecentIds remembers shipped generation_ids for de-duplication.
#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace auditship::enrich {

using SteadyClock = std::chrono::steady_clock;

template <class V>
class LruTtlCache {
 public:
  LruTtlCache(std::size_t capacity, SteadyClock::duration ttl) : capacity_(capacity), ttl_(ttl) {}

  // The value if present and younger than the TTL (and marks it recently used).
  const V* get(std::string_view key, SteadyClock::time_point now) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    auto node = it->second;
    if (now - node->stored > ttl_) {
      index_.erase(it);
      entries_.erase(node);
      return nullptr;
    }
    entries_.splice(entries_.begin(), entries_, node);
    return &node->value;
  }

  void put(std::string key, V value, SteadyClock::time_point now) {
    if (capacity_ == 0) return;
    if (auto it = index_.find(key); it != index_.end()) {
      entries_.erase(it->second);
      index_.erase(it);
    }
    entries_.push_front(Entry{std::move(key), std::move(value), now});
    index_.emplace(entries_.front().key, entries_.begin());
    if (entries_.size() > capacity_) {
      index_.erase(entries_.back().key);
      entries_.pop_back();
    }
  }

  [[nodiscard]] std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string key;
    V value;
    SteadyClock::time_point stored;
  };
  std::size_t capacity_;
  SteadyClock::duration ttl_;
  std::list<Entry> entries_;  // most recently used first
  // Keys view the strings in `entries_` (list nodes never move).
  std::unordered_map<std::string_view, typename std::list<Entry>::iterator> index_;
};

// Ids seen within a window, at most `capacity` of them (the oldest are forgotten first, so
// memory stays bounded under a flood of unique ids at the cost of missing an old duplicate).
class RecentIds {
 public:
  RecentIds(SteadyClock::duration window, std::size_t capacity) : window_(window), capacity_(capacity) {}

  // True if `id` was seen within the window; otherwise remembers it and returns false.
  bool seen(std::string_view id, SteadyClock::time_point now) {
    expire(now);
    if (ids_.count(id) != 0) return true;
    order_.emplace_back(now, std::string(id));
    ids_.insert(order_.back().second);
    return false;
  }

 private:
  void expire(SteadyClock::time_point now) {
    while (!order_.empty() && (now - order_.front().first > window_ || order_.size() >= capacity_)) {
      ids_.erase(order_.front().second);
      order_.pop_front();
    }
  }

  SteadyClock::duration window_;
  std::size_t capacity_;
  std::deque<std::pair<SteadyClock::time_point, std::string>> order_;
  std::unordered_set<std::string_view> ids_;  // views the strings in `order_` (deque keeps them in place)
};

}  // namespace auditship::enrich
