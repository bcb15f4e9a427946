#include "auditship/enrich/generation.h"

#include <simdjson.h>

#include <array>
#include <unordered_map>
#include <vector>

#include "auditship/common/iso8601.h"
#include "auditship/common/json_writer.h"
#include "auditship/enrich/enrich_config.h"

namespace auditship::enrich {
namespace {

using FieldIndex = std::unordered_map<std::string_view, std::size_t>;

const FieldIndex& field_index() {
  static const FieldIndex kIndex = [] {
    FieldIndex index;
    const auto& names = all_generation_fields();
    for (std::size_t i = 0; i < names.size(); ++i) index.emplace(names[i], i);
    return index;
  }();
  return kIndex;
}

void append_element(std::string& out, simdjson::dom::element value) {
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: {
      // The spec types latency and costs as double but servers send integral values too; one
      // representation keeps consumers from seeing 12 here and 12.0 there.
      double d = 0;
      if (value.get_double().get(d)) out += "null";
      else json::append_number(out, d);
      break;
    }
    case element_type::STRING: json::append_string(out, std::string_view(value.get_string().value_unsafe())); break;
    case element_type::BOOL: out += value.get_bool().value_unsafe() ? "true" : "false"; break;
    case element_type::NULL_VALUE: out += "null"; break;
    case element_type::ARRAY:
    case element_type::OBJECT: out += simdjson::minify(value); break;
  }
}

}  // namespace

std::string_view status_name(LookupStatus status) {
  switch (status) {
    case LookupStatus::kOk: return "ok";
    case LookupStatus::kNotFound: return "not_found";
    case LookupStatus::kUnauthorized: return "unauthorized";
    case LookupStatus::kPaymentRequired: return "payment_required";
    case LookupStatus::kError: return "error";
    case LookupStatus::kTimeout: return "timeout";
    case LookupStatus::kSkipped: return "skipped";
    case LookupStatus::kPending: return "pending";
  }
  return "error";
}

FieldMask field_mask(const std::vector<std::string>& names) {
  FieldMask mask;
  for (const auto& n : names)
    if (auto it = field_index().find(n); it != field_index().end()) mask.set(it->second);
  return mask;
}

struct GenerationParser::Impl {
  simdjson::dom::parser parser;
  FieldMask fields;
};

GenerationParser::GenerationParser(FieldMask fields) : impl_(std::make_unique<Impl>()) { impl_->fields = fields; }
GenerationParser::~GenerationParser() = default;

std::optional<ParsedGeneration> GenerationParser::parse(std::string_view body) {
  simdjson::dom::element doc;
  if (impl_->parser.parse(body.data(), body.size()).get(doc)) return std::nullopt;
  simdjson::dom::object data;
  if (doc["data"].get(data)) return std::nullopt;

  const auto& names = all_generation_fields();
  std::array<simdjson::dom::element, 32> found{};
  FieldMask present;
  ParsedGeneration g;
  for (auto [key, value] : data) {
    if (key == "id") {
      std::string_view id;
      if (!value.get_string().get(id)) g.served_id = id;
      continue;
    }
    auto it = field_index().find(key);
    if (it == field_index().end()) continue;  // the schema grows; unknown keys are fine
    if (key == "total_cost") {
      double cost = -1;
      if (!value.get_double().get(cost)) g.total_cost = cost;
    }
    found[it->second] = value;
    present.set(it->second);
  }
  g.openrouter = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!present.test(i) || !impl_->fields.test(i)) continue;
    if (g.openrouter.size() > 1) g.openrouter += ',';
    json::append_string(g.openrouter, names[i]);
    g.openrouter += ':';
    append_element(g.openrouter, found[i]);
  }
  g.openrouter += '}';
  return g;
}

void append_enrichment_object(std::string& out, const LookupResult& result, std::string_view reason) {
  out += "{\"status\":\"";
  out += status_name(result.status);
  out += '"';
  if (result.status != LookupStatus::kPending && result.status != LookupStatus::kSkipped) {
    out += ",\"attempts\":";
    json::append_number(out, static_cast<std::uint64_t>(result.attempts));
    out += ",\"resolved_at\":\"";
    iso8601::append(out, result.resolved_at_ms);
    out += '"';
    if (result.status != LookupStatus::kOk && result.http_status != 0) {
      out += ",\"http_status\":";
      json::append_number(out, static_cast<std::int64_t>(result.http_status));
    }
  }
  if (!reason.empty()) {
    out += ",\"reason\":";
    json::append_string(out, reason);
  }
  out += '}';
}

struct RecordRewriter::Impl {
  simdjson::ondemand::parser parser;
  std::string buf;

  // A padded copy: simdjson reads up to SIMDJSON_PADDING bytes past the end.
  simdjson::padded_string_view pad(std::string_view text) {
    buf.reserve(text.size() + simdjson::SIMDJSON_PADDING);
    buf.assign(text);
    return simdjson::padded_string_view(buf.data(), text.size(), buf.capacity());
  }
};

RecordRewriter::RecordRewriter() : impl_(std::make_unique<Impl>()) {}
RecordRewriter::~RecordRewriter() = default;

std::optional<std::string> RecordRewriter::string_at(std::string_view record, const std::vector<std::string>& path) {
  std::string pointer;
  for (const auto& part : path) {
    pointer += '/';
    for (char c : part) {
      if (c == '~') pointer += "~0";
      else if (c == '/') pointer += "~1";
      else pointer += c;
    }
  }
  simdjson::ondemand::document doc;
  if (impl_->parser.iterate(impl_->pad(record)).get(doc)) return std::nullopt;
  std::string_view value;
  if (doc.at_pointer(pointer).get_string().get(value)) return std::nullopt;
  return std::string(value);
}

bool RecordRewriter::rewrite(std::string_view record, const LookupResult& result, std::string_view reason,
                             std::string& out) {
  simdjson::ondemand::document doc;
  if (impl_->parser.iterate(impl_->pad(record)).get(doc)) return false;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return false;
  const bool ok = result.status == LookupStatus::kOk;
  // The agent owns `enrichment` (always written), and `openrouter` and `total_cost` (written
  // when the lookup succeeded). A record that already has one of them gets its value replaced
  // in place: appending a second member with the same name would leave the record with
  // duplicate keys, which consumers resolve differently (first or last wins).
  enum Owned : std::uint8_t { kCost, kOpenRouter, kEnrichment, kOwned };
  struct Span {
    std::size_t at, len;
    Owned what;
  };
  std::vector<Span> spans;
  bool present[kOwned] = {};
  const char* base = impl_->buf.data();
  bool has_fields = false;
  for (auto item : obj) {
    simdjson::ondemand::field field;
    if (std::move(item).get(field)) return false;
    has_fields = true;
    std::string_view key;
    if (field.unescaped_key().get(key)) return false;
    Owned what = key == "enrichment" ? kEnrichment
                 : ok && key == "openrouter" ? kOpenRouter
                 : ok && key == "total_cost" ? kCost
                                             : kOwned;
    if (what == kOwned) continue;
    simdjson::ondemand::value value = field.value();
    simdjson::ondemand::json_type type;
    if (value.type().get(type)) return false;
    std::string_view token;
    if (type == simdjson::ondemand::json_type::object) {
      simdjson::ondemand::object o;
      if (value.get_object().get(o) || o.raw_json().get(token)) return false;
    } else if (type == simdjson::ondemand::json_type::array) {
      simdjson::ondemand::array a;
      if (value.get_array().get(a) || a.raw_json().get(token)) return false;
    } else {
      token = value.raw_json_token();
    }
    while (!token.empty() && (token.back() == ' ' || token.back() == '\n' || token.back() == '\r' ||
                              token.back() == '\t'))
      token.remove_suffix(1);
    if (token.empty()) return false;
    spans.push_back({static_cast<std::size_t>(token.data() - base), token.size(), what});
    present[what] = true;
  }
  const std::size_t close = record.rfind('}');
  if (close == std::string_view::npos) return false;
  auto append_value = [&](Owned what) {
    if (what == kCost) json::append_number(out, result.total_cost);
    else if (what == kOpenRouter) out += result.openrouter;
    else append_enrichment_object(out, result, reason);
  };
  std::size_t copied = 0;
  for (const Span& span : spans) {  // in record order
    out.append(record.substr(copied, span.at - copied));
    append_value(span.what);
    copied = span.at + span.len;
  }
  out.append(record.substr(copied, close - copied));
  static constexpr std::string_view kNames[kOwned] = {"total_cost", "openrouter", "enrichment"};
  for (Owned what : {kCost, kOpenRouter, kEnrichment}) {
    if (present[what] || (what != kEnrichment && !ok)) continue;
    out += has_fields ? ",\"" : "\"";
    out += kNames[what];
    out += "\":";
    append_value(what);
    has_fields = true;
  }
  out += '}';
  return true;
}

}  // namespace auditship::enrich
