#pragma once
// Collects validation problems for a config section, attaching the YAML line of the key.
#include <map>
#include <string>
#include <vector>

#include "auditship/config/schema.h"

namespace auditship::config {

class Checker {
 public:
  Checker(std::vector<Problem>& problems, const std::map<std::string, int>& lines, std::string prefix = {})
      : problems_(problems), lines_(lines), prefix_(std::move(prefix)) {}
  // `key` is relative to this checker's section, e.g. "topic" inside "kafka".
  void fail(const std::string& key, std::string message);
  [[nodiscard]] Checker sub(const std::string& key) const { return Checker(problems_, lines_, path(key)); }
  [[nodiscard]] std::string path(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

 private:
  std::vector<Problem>& problems_;
  const std::map<std::string, int>& lines_;
  std::string prefix_;
};

}  // namespace auditship::config
