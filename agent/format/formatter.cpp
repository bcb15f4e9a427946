#include "auditship/format/formatter.h"

#include <simdjson.h>

#include <cmath>
#include <cstdio>

#include "auditship/common/iso8601.h"
#include "auditship/common/json_writer.h"
#include "auditship/common/log.h"

namespace auditship::format {
namespace {

constexpr const char* kEcsVersion = "8.11.0";
// Envelope bytes around a record, for reserving batch.output once per batch.
constexpr std::size_t kEnvelopeEstimate = 512;

// The fields an envelope needs, as views into the simdjson parser (valid until the next parse).
struct Extracted {
  std::string_view timestamp, user_id, status, model, generation_id, error_code;
  double latency_ms = -1;
};

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
  const std::optional<std::int64_t> ts_ms = iso8601::parse_ms(x.timestamp);
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
        iso8601::append(out, std::chrono::duration_cast<std::chrono::milliseconds>(now_().time_since_epoch()).count());
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
