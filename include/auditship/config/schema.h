#pragma once
// One option table drives parsing, validation messages, `auditship check` output and the
// configuration reference. A config struct describes itself once:
//
//   struct KafkaConfig {
//     std::string topic = "openrouter-audit";
//     template <class V> void visit(V& v) { v.field("topic", topic, "Kafka topic for records"); }
//   };
//
// and the visitors below read it from YAML (with line numbers), emit it back as YAML, or list
// it as documentation. Option types: std::string, bool, integers, Bytes, Duration,
// std::vector<std::string>, std::map<std::string, std::string>, nested structs (v.section)
// and lists of structs (v.list).
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "auditship/common/units.h"

namespace auditship::config {

using Duration = std::chrono::milliseconds;

// A byte count that YAML may give with a unit ("64MiB").
struct Bytes {
  std::uint64_t value = 0;
  constexpr Bytes() = default;
  constexpr Bytes(std::uint64_t v) : value(v) {}  // NOLINT
  constexpr operator std::uint64_t() const { return value; }  // NOLINT
};

// One problem found in a config file, with the line it stands on (1-based; 0 = unknown).
struct Problem {
  int line = 0;
  std::string path;     // dotted key path, e.g. "kafka.topic" or "sources[1].path"
  std::string message;
  [[nodiscard]] std::string to_string(const std::string& file) const;
};

// Reads a struct from a YAML map, collecting every problem rather than stopping at the first.
class Reader {
 public:
  Reader(YAML::Node node, std::string path, std::vector<Problem>& problems, std::map<std::string, int>& lines);

  template <class T>
  void field(const char* key, T& value, const char* /*doc*/) {
    auto child = take(key);
    if (!child) return;
    read_value(*child, join(key), value);
  }
  template <class T>
  void section(const char* key, T& value, const char* /*doc*/) {
    auto child = take(key);
    if (!child || child->IsNull()) return;
    if (!child->IsMap()) return problem(*child, join(key), "expected a map of options");
    Reader sub(*child, join(key), problems_, lines_);
    value.visit(sub);
    sub.finish();
  }
  template <class T>
  void list(const char* key, std::vector<T>& values, const char* /*doc*/) {
    auto found = take(key);
    if (!found || found->IsNull()) return;
    const YAML::Node& child = *found;
    if (!child.IsSequence()) return problem(child, join(key), "expected a list");
    values.clear();
    for (std::size_t i = 0; i < child.size(); ++i) {
      std::string p = join(key) + "[" + std::to_string(i) + "]";
      if (!child[i].IsMap()) {
        problem(child[i], p, "expected a map of options");
        continue;
      }
      T item{};
      Reader sub(child[i], p, problems_, lines_);
      item.visit(sub);
      sub.finish();
      values.push_back(std::move(item));
    }
  }
  // Reports keys that no field claimed.
  void finish();

 private:
  std::optional<YAML::Node> take(const char* key);
  std::string join(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  void problem(const YAML::Node& at, const std::string& path, const std::string& message);

  void read_value(const YAML::Node& n, const std::string& p, std::string& v);
  void read_value(const YAML::Node& n, const std::string& p, bool& v);
  void read_value(const YAML::Node& n, const std::string& p, Duration& v);
  void read_value(const YAML::Node& n, const std::string& p, Bytes& v);
  void read_value(const YAML::Node& n, const std::string& p, double& v);
  void read_value(const YAML::Node& n, const std::string& p, std::vector<std::string>& v);
  void read_value(const YAML::Node& n, const std::string& p, std::map<std::string, std::string>& v);
  template <class I, class = std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>>>
  void read_value(const YAML::Node& n, const std::string& p, I& v) {
    std::int64_t wide = 0;
    if (read_integer(n, p, wide, std::is_signed_v<I>)) v = static_cast<I>(wide);
  }
  bool read_integer(const YAML::Node& n, const std::string& p, std::int64_t& out, bool allow_negative);

  YAML::Node node_;
  std::string path_;
  std::vector<Problem>& problems_;
  std::map<std::string, int>& lines_;
  std::vector<std::string> claimed_;
};

// "; did you mean 'x'?" for the entry of `known` one edit from `typo` (two for names of six or
// more characters, a swap of neighbours counting as one); empty when none is that near.
[[nodiscard]] std::string did_you_mean(std::string_view typo, const std::vector<std::string>& known);

// Writes a struct back as YAML (the effective config `auditship check` prints).
class Emitter {
 public:
  explicit Emitter(YAML::Emitter& out) : out_(out) {}
  template <class T>
  void field(const char* key, const T& value, const char* /*doc*/) {
    out_ << YAML::Key << key << YAML::Value;
    write(value);
  }
  template <class T>
  void section(const char* key, T& value, const char* /*doc*/) {
    out_ << YAML::Key << key << YAML::Value << YAML::BeginMap;
    value.visit(*this);
    out_ << YAML::EndMap;
  }
  template <class T>
  void list(const char* key, std::vector<T>& values, const char* /*doc*/) {
    out_ << YAML::Key << key << YAML::Value << YAML::BeginSeq;
    for (auto& v : values) {
      out_ << YAML::BeginMap;
      v.visit(*this);
      out_ << YAML::EndMap;
    }
    out_ << YAML::EndSeq;
  }

 private:
  void write(const std::string& v) { out_ << YAML::DoubleQuoted << v; }
  void write(bool v) { out_ << (v ? "true" : "false"); }
  void write(const Duration& v) { out_ << format_duration(v); }
  void write(const Bytes& v) { out_ << format_bytes(v.value); }
  void write(double v) { out_ << v; }
  void write(const std::vector<std::string>& v) {
    out_ << YAML::Flow << YAML::BeginSeq;
    for (const auto& s : v) out_ << YAML::DoubleQuoted << s;
    out_ << YAML::EndSeq;
  }
  void write(const std::map<std::string, std::string>& v) {
    out_ << YAML::BeginMap;
    for (const auto& [k, s] : v) out_ << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << s;
    out_ << YAML::EndMap;
  }
  template <class I, class = std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>>>
  void write(I v) { out_ << v; }

  YAML::Emitter& out_;
};

// Lists every option as a Markdown table row: key, type, default, meaning.
class Documenter {
 public:
  explicit Documenter(std::string& out, std::string prefix = {}) : out_(out), prefix_(std::move(prefix)) {}
  template <class T>
  void field(const char* key, const T& value, const char* doc) {
    out_ += "| `" + prefix_ + key + "` | " + type_name(value) + " | `" + default_text(value) + "` | " + doc + " |\n";
  }
  template <class T>
  void section(const char* key, T& value, const char* doc) {
    out_ += "| `" + prefix_ + key + "` | section | | " + doc + " |\n";
    Documenter sub(out_, prefix_ + key + ".");
    value.visit(sub);
  }
  template <class T>
  void list(const char* key, std::vector<T>& /*values*/, const char* doc) {
    out_ += "| `" + prefix_ + key + "` | list | | " + doc + " |\n";
    T item{};
    Documenter sub(out_, prefix_ + key + "[].");
    item.visit(sub);
  }

 private:
  static std::string type_name(const std::string&) { return "string"; }
  static std::string type_name(bool) { return "bool"; }
  static std::string type_name(const Duration&) { return "duration"; }
  static std::string type_name(const Bytes&) { return "bytes"; }
  static std::string type_name(double) { return "number"; }
  static std::string type_name(const std::vector<std::string>&) { return "list of strings"; }
  static std::string type_name(const std::map<std::string, std::string>&) { return "map"; }
  template <class I>
  static std::string type_name(I) { return "integer"; }
  static std::string default_text(const std::string& v) { return v; }
  static std::string default_text(bool v) { return v ? "true" : "false"; }
  static std::string default_text(const Duration& v) { return format_duration(v); }
  static std::string default_text(const Bytes& v) { return format_bytes(v.value); }
  static std::string default_text(double v);
  static std::string default_text(const std::vector<std::string>& v);
  static std::string default_text(const std::map<std::string, std::string>& v);
  template <class I>
  static std::string default_text(I v) { return std::to_string(v); }

  std::string& out_;
  std::string prefix_;
};

}  // namespace auditship::config
