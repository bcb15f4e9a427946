#include "auditship/config/schema.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string_view>

namespace auditship::config {

std::string Problem::to_string(const std::string& file) const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

Reader::Reader(YAML::Node node, std::string path, std::vector<Problem>& problems, std::map<std::string, int>& lines)
    : node_(std::move(node)), path_(std::move(path)), problems_(problems), lines_(lines) {
  if (!path_.empty()) lines_[path_] = node_.Mark().line + 1;
}

std::optional<YAML::Node> Reader::take(const char* key) {
  claimed_.emplace_back(key);
  if (!node_.IsMap()) return std::nullopt;
  std::optional<YAML::Node> found;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (!it->first.IsScalar() || it->first.Scalar() != key) continue;
    if (found) {
      // YAML parsers disagree on which duplicate wins; a config must not be ambiguous.
      problem(it->first, join(key), "duplicate key (first given on line " + std::to_string(lines_[join(key)]) + ")");
      continue;
    }
    lines_[join(key)] = it->first.Mark().line + 1;
    found = it->second;
  }
  return found;
}

namespace {

// Edits (insert, delete, substitute, swap two neighbours) from a to b: "kafak" is one from "kafka".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// The nearest known key, or where a dotted client property belongs.
std::string hint(const std::string& key, const std::vector<std::string>& known, const std::string& path) {
  if (std::string near = did_you_mean(key, known); !near.empty()) return near;
  if (key.find('.') != std::string::npos && std::find(known.begin(), known.end(), "properties") != known.end())
    return "; client properties such as '" + key + "' go under '" + path + ".properties'";
  return {};
}

}  // namespace

std::string did_you_mean(std::string_view typo, const std::vector<std::string>& known) {
  const std::size_t allowed = typo.size() >= 6 ? 2 : 1;
  const std::string* best = nullptr;
  std::size_t best_distance = allowed + 1;
  for (const auto& k : known) {
    const std::size_t d = edit_distance(typo, k);
    if (d < best_distance) best = &k, best_distance = d;
  }
  return best ? "; did you mean '" + *best + "'?" : std::string();
}

void Reader::finish() {
  if (!node_.IsMap()) return;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
    if (std::find(claimed_.begin(), claimed_.end(), key) != claimed_.end()) continue;
    std::string where = path_.empty() ? "at the top level" : "in '" + path_ + "'";
    std::string known;
    for (const auto& k : claimed_) known += (known.empty() ? "" : ", ") + k;
    problems_.push_back({it->first.Mark().line + 1, path_.empty() ? key : path_ + "." + key,
                         "unknown key '" + key + "' " + where + hint(key, claimed_, path_) + " (known: " + known + ")"});
  }
}

void Reader::problem(const YAML::Node& at, const std::string& path, const std::string& message) {
  problems_.push_back({at.Mark().line + 1, path, message});
}

namespace {
std::string shown(const YAML::Node& n) {
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  return "nothing";
}
}  // namespace

void Reader::read_value(const YAML::Node& n, const std::string& p, std::string& v) {
  if (!n.IsScalar()) return problem(n, p, "expected a string, got " + shown(n));
  v = n.Scalar();
}

void Reader::read_value(const YAML::Node& n, const std::string& p, bool& v) {
  const std::string s = n.IsScalar() ? n.Scalar() : "";
  if (s == "true" || s == "yes" || s == "on") v = true;
  else if (s == "false" || s == "no" || s == "off") v = false;
  else problem(n, p, "expected true or false, got " + shown(n));
}

void Reader::read_value(const YAML::Node& n, const std::string& p, Duration& v) {
  auto d = n.IsScalar() ? parse_duration(n.Scalar()) : std::nullopt;
  if (!d) return problem(n, p, "expected a duration with a unit (e.g. 500ms, 1s, 2m), got " + shown(n));
  v = *d;
}

void Reader::read_value(const YAML::Node& n, const std::string& p, Bytes& v) {
  auto b = n.IsScalar() ? parse_bytes(n.Scalar()) : std::nullopt;
  if (!b) return problem(n, p, "expected a size in bytes (e.g. 1048576, 512KiB, 64MiB), got " + shown(n));
  v = *b;
}

void Reader::read_value(const YAML::Node& n, const std::string& p, double& v) {
  const std::string s = n.IsScalar() ? n.Scalar() : "";
  double d = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size())
    return problem(n, p, "expected a number, got " + shown(n));
  v = d;
}

bool Reader::read_integer(const YAML::Node& n, const std::string& p, std::int64_t& out, bool allow_negative) {
  const std::string s = n.IsScalar() ? n.Scalar() : "";
  std::int64_t d = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || (!allow_negative && d < 0)) {
    problem(n, p, std::string("expected ") + (allow_negative ? "an integer" : "a non-negative integer") +
                      ", got " + shown(n));
    return false;
  }
  out = d;
  return true;
}

void Reader::read_value(const YAML::Node& n, const std::string& p, std::vector<std::string>& v) {
  if (n.IsScalar()) {  // a single string is accepted as a one-element list
    v = {n.Scalar()};
    return;
  }
  if (!n.IsSequence()) return problem(n, p, "expected a list of strings, got " + shown(n));
  v.clear();
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar()) {
      problem(n[i], p + "[" + std::to_string(i) + "]", "expected a string, got " + shown(n[i]));
      continue;
    }
    v.push_back(n[i].Scalar());
  }
}

void Reader::read_value(const YAML::Node& n, const std::string& p, std::map<std::string, std::string>& v) {
  if (!n.IsMap()) return problem(n, p, "expected a map of strings, got " + shown(n));
  v.clear();
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->first.IsScalar() || !it->second.IsScalar()) {
      problem(it->first, p, "expected 'key: value' with plain values, got " + shown(it->second));
      continue;
    }
    v[it->first.Scalar()] = it->second.Scalar();
  }
}

std::string Documenter::default_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string Documenter::default_text(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out + "]";
}

std::string Documenter::default_text(const std::map<std::string, std::string>& v) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, s] : v) {
    out += (first ? "" : ", ") + k + ": " + s;
    first = false;
  }
  return out + "}";
}

}  // namespace auditship::config
