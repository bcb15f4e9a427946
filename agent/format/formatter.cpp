#include "auditship/format/formatter.h"

#include <simdjson.h>

#include <cmath>
#include <cstdio>

#include "auditship/common/json_writer.h"
#include "auditship/common/log.h"

namespace auditship::format {
namespace {

constexpr const char* kEcsVersion = "8.11.0";
// Envelope bytes around a record, for reserving batch.output once per batch.
constexpr std::size_t kEnvelopeEstimate = 512;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// The fields an envelope needs, as views into the simdjson parser (valid until the next parse).
struct Extracted {
  std::string_view timestamp, user_id, status, model, generation_id, error_code;
  double latency_ms = -1;
};

void append_iso8601(std::string& out, std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  out += buf;
}

// A field of the wrong type is treated as absent.
void set_string(simdjson::dom::element value, std::string_view& out) {
  if (value.get_string().get(out) != simdjson::SUCCESS) out = {};
}
void set_number(simdjson::dom::element value, double& out) {
  if (value.get_double().get(out) != simdjson::SUCCESS) out = -1;
}

// Appends `"key":"value",` when value is not empty.
void append_member(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  out += '"';
  out += key;
  out += "\":";
  json::append_string(out, value);
  out += ',';
}

}  // namespace

std::optional<std::int64_t> parse_iso8601_ms(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!digits(s, 0, 4, year) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
      !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, hour) ||
      s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    std::size_t start = ++pos;
    int scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  std::int64_t offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    const bool colon = pos + 3 < s.size() && s[pos + 3] == ':';
    if (!digits(s, pos + 1, 2, oh) || !digits(s, pos + (colon ? 4 : 3), 2, om)) return std::nullopt;
    offset_minutes = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += colon ? 6 : 5;
  } else {
    return std::nullopt;  // a time without a zone is ambiguous: leave it to the SIEM
  }
  if (pos != s.size()) return std::nullopt;
  const std::int64_t secs = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
                            hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return secs * 1000 + millis;
}

struct Formatter::State {
  simdjson::dom::parser parser;
  std::string padded;   // the record, copied with simdjson's padding (also the source of the nested copy)
  std::string message;  // datadog's summary line, reused
};

Result<FormatterPtr> Formatter::make(const OutputConfig& config, std::string host, Clock now) {
  Format f;
  if (config.format == "raw") f = Format::kRaw;
  else if (config.format == "ecs") f = Format::kEcs;
  else if (config.format == "splunk_hec") f = Format::kSplunkHec;
  else if (config.format == "datadog") f = Format::kDatadog;
  else return Error{"unknown output.format '" + config.format + "'"};
  if (!now) now = [] { return std::chrono::system_clock::now(); };
  return FormatterPtr(new Formatter(config, f, std::move(host), std::move(now)));
}

Formatter::Formatter(const OutputConfig& config, Format format, std::string host, Clock now)
    : config_(config), format_(format), host_(std::move(host)), now_(std::move(now)),
      state_(std::make_unique<State>()) {}

Formatter::~Formatter() = default;

void Formatter::process(Batch& batch) {
  if (format_ == Format::kRaw) return;
  std::size_t growth = 0;
  for (const Record& r : batch.records)
    if (r.disposition == Disposition::kShip) growth += r.payload.length + kEnvelopeEstimate;
  batch.output.reserve(batch.output.size() + growth);
  const std::string_view source = batch.source ? std::string_view(batch.source->path) : std::string_view();
  for (Record& r : batch.records) {
    if (r.disposition != Disposition::kShip) continue;
    const std::size_t start = batch.output.size();
    // format_record copies the payload into its own buffer before appending, so a payload
    // that already lives in batch.output is not invalidated by the append.
    format_record(batch.payload(r), source, batch.source ? r.file_offset : 0, batch.output);
    batch.set_output_payload(r, start);
  }
}

void Formatter::format_record(std::string_view record, std::string_view source, std::uint64_t offset,
                              std::string& out) {
  State& s = *state_;
  s.padded.assign(record);
  s.padded.append(simdjson::SIMDJSON_PADDING, '\0');
  const std::string_view body(s.padded.data(), record.size());
  if (format_ == Format::kRaw) {
    out += body;
    return;
  }
  Extracted x;
  simdjson::dom::object obj;
  if (s.parser.parse(s.padded.data(), record.size(), false).get_object().get(obj) == simdjson::SUCCESS) {
    for (auto [key, value] : obj) {
      if (key == "timestamp") set_string(value, x.timestamp);
      else if (key == "user_id") set_string(value, x.user_id);
      else if (key == "status") set_string(value, x.status);
      else if (key == "model_used") set_string(value, x.model);
      else if (key == "model_requested" && x.model.empty()) set_string(value, x.model);
      else if (key == "generation_id") set_string(value, x.generation_id);
      else if (key == "error_code") set_string(value, x.error_code);
      else if (key == "latency_ms") set_number(value, x.latency_ms);
    }
  } else {
    // The parser and redactor only pass JSON objects as kShip: this is a bug upstream. The
    // record still ships (nested as a string would change its type; as is it stays valid).
    log::warn("format: a shipped record is not a JSON object; shipping it unformatted");
    out += body;
    return;
  }
  const std::optional<std::int64_t> ts_ms = parse_iso8601_ms(x.timestamp);
  switch (format_) {
    case Format::kRaw:
      out += body;
      return;
    case Format::kEcs: {
      out += "{\"@timestamp\":";
      if (ts_ms) {
        json::append_string(out, x.timestamp);
      } else {
        out += '"';
        append_iso8601(out, now_());
        out += '"';
      }
      out += ",\"ecs\":{\"version\":\"";
      out += kEcsVersion;
      out += "\"},\"event\":{\"kind\":\"event\",\"category\":[\"web\"],\"type\":[\"access\"],"
             "\"action\":\"openrouter-generation\",\"dataset\":\"openrouter.audit\",\"outcome\":\"";
      out += x.status == "success" ? "success" : (x.status == "error" || x.status == "timeout") ? "failure" : "unknown";
      out += '"';
      if (x.latency_ms >= 0) {
        out += ",\"duration\":";
        json::append_number(out, static_cast<std::int64_t>(std::llround(x.latency_ms * 1e6)));
      }
      out += '}';
      if (!x.user_id.empty()) {
        out += ",\"user\":{\"id\":";
        json::append_string(out, x.user_id);
        out += '}';
      }
      out += ",\"host\":{\"name\":";
      json::append_string(out, host_);
      out += '}';
      if (!source.empty()) {
        out += ",\"log\":{\"file\":{\"path\":";
        json::append_string(out, source);
        out += "},\"offset\":";
        json::append_number(out, offset);
        out += '}';
      }
      if (!x.error_code.empty()) {
        out += ",\"error\":{\"code\":";
        json::append_string(out, x.error_code);
        out += '}';
      }
      out += ",\"";
      out += config_.record_field;
      out += "\":";
      out += body;
      out += '}';
      return;
    }
    case Format::kSplunkHec: {
      out += '{';
      if (ts_ms) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(*ts_ms) / 1000.0);
        out += "\"time\":";
        out += buf;
        out += ',';
      }
      append_member(out, "host", host_);
      append_member(out, "source", source);
      append_member(out, "sourcetype", config_.splunk_sourcetype);
      append_member(out, "index", config_.splunk_index);
      out += "\"event\":";
      out += body;
      out += '}';
      return;
    }
    case Format::kDatadog: {
      out += '{';
      append_member(out, "ddsource", config_.datadog_source);
      append_member(out, "service", config_.datadog_service);
      append_member(out, "hostname", host_);
      append_member(out, "ddtags", config_.datadog_tags);
      append_member(out, "status",
                    x.status == "error" ? "error" : x.status == "timeout" ? "warn" : "info");
      if (ts_ms) {
        out += "\"timestamp\":";
        json::append_number(out, *ts_ms);
        out += ',';
      }
      s.message.assign("openrouter generation");
      for (auto [label, value] : {std::pair<std::string_view, std::string_view>{"status", x.status},
                                  {"model", x.model}, {"generation_id", x.generation_id}}) {
        if (value.empty()) continue;
        s.message += ' ';
        s.message += label;
        s.message += '=';
        s.message += value;
      }
      append_member(out, "message", s.message);
      out += '"';
      out += config_.record_field;
      out += "\":";
      out += body;
      out += '}';
      return;
    }
  }
}

}  // namespace auditship::format
