#include "auditship/parse/parser.h"

#include <array>
#include <charconv>

#include "auditship/common/metrics.h"
#include "auditship/parse/dead_letter.h"

namespace auditship::parse {
namespace {

struct ParseStats {
  metrics::Counter& parsed;
  std::array<metrics::Counter*, 6> errors{};  // by DeadLetterReason
  ParseStats()
      : parsed(metrics::Registry::global().counter("auditship_parse_records_total",
                                                   "Records that parsed as JSON objects")) {
    for (auto reason : {DeadLetterReason::kInvalidJson, DeadLetterReason::kNotAnObject,
                        DeadLetterReason::kInvalidUtf8, DeadLetterReason::kLineTooLong}) {
      errors[static_cast<std::size_t>(reason)] = &metrics::Registry::global().counter(
          "auditship_parse_errors_total", "Records dead-lettered by the parser, by reason",
          {{"error_type", std::string(reason_name(reason))}});
    }
  }
};

ParseStats& stats() {
  static ParseStats s;
  return s;
}

// Text of a scalar for use as a key or field: strings unescaped, numbers as written.
bool scalar_text(simdjson::dom::element value, std::string_view& out, char (&buf)[32]) {
  switch (value.type()) {
    case simdjson::dom::element_type::STRING: out = value.get_string().value_unsafe(); return true;
    case simdjson::dom::element_type::INT64: {
      auto [p, ec] = std::to_chars(buf, buf + sizeof buf, value.get_int64().value_unsafe());
      out = std::string_view(buf, static_cast<std::size_t>(p - buf));
      return true;
    }
    case simdjson::dom::element_type::UINT64: {
      auto [p, ec] = std::to_chars(buf, buf + sizeof buf, value.get_uint64().value_unsafe());
      out = std::string_view(buf, static_cast<std::size_t>(p - buf));
      return true;
    }
    default: return false;
  }
}

}  // namespace

Parser::Parser(ParserOptions options) : options_(std::move(options)) { stats(); }

void Parser::process(Batch& batch) {
  std::uint64_t parsed = 0;
  for (Record& r : batch.records) {
    if (r.disposition == Disposition::kDeadLetter && r.reason == DeadLetterReason::kLineTooLong) {
      dead_letter(batch, r, r.reason, "line longer than max_line_bytes; raw holds its first bytes");
      continue;
    }
    if (r.disposition != Disposition::kShip) continue;
    parse_record(batch, r);
    if (r.disposition == Disposition::kShip) ++parsed;
  }
  stats().parsed.inc(parsed);
}

void Parser::parse_record(Batch& batch, Record& r) {
  std::string_view line = batch.raw(r);
  r.payload = r.raw;
  r.payload_in_output = false;
  // simdjson reads up to SIMDJSON_PADDING bytes past the end (their content does not matter).
  // A line followed by that many bytes of the batch's buffer is parsed where it is; only the
  // last few lines of a batch are parsed from a reused padded copy.
  const char* text_start = line.data();
  if (static_cast<std::size_t>(batch.input.data() + batch.input.size() - (line.data() + line.size())) <
      simdjson::SIMDJSON_PADDING) {
    padded_.assign(line);
    padded_.append(simdjson::SIMDJSON_PADDING, '\0');
    text_start = padded_.data();
  }
  simdjson::dom::element doc;
  auto error = parser_.parse(text_start, line.size(), false).get(doc);
  if (error) {
    auto reason = error == simdjson::UTF8_ERROR ? DeadLetterReason::kInvalidUtf8 : DeadLetterReason::kInvalidJson;
    return dead_letter(batch, r, reason, simdjson::error_message(error));
  }
  simdjson::dom::object obj;
  if (doc.get(obj)) return dead_letter(batch, r, DeadLetterReason::kNotAnObject, "the line is JSON but not an object");

  char buf[32];
  std::string_view text;
  for (auto [key, value] : obj) {
    Slice* target = nullptr;
    if (key == "generation_id") target = &r.generation_id;
    else if (key == "user_id") target = &r.user_id;
    else if (key == "timestamp") target = &r.timestamp;
    else if (key == "total_cost") {
      double cost;
      if (!value.get(cost)) r.total_cost = cost;
    }
    if (target && scalar_text(value, text, buf)) *target = batch.add_field(text);
    if (key == options_.key_field && scalar_text(value, text, buf))
      r.key = target ? *target : batch.add_field(text);
  }
}

void Parser::dead_letter(Batch& batch, Record& r, DeadLetterReason reason, std::string_view detail) {
  if (auto* c = stats().errors[static_cast<std::size_t>(reason)]) c->inc();
  std::size_t start = batch.output.size();
  DeadLetter letter{reason, detail, batch.source ? std::string_view(batch.source->path) : std::string_view(),
                    r.file_offset, r.line_bytes, options_.host, batch.raw(r)};
  append_dead_letter(batch.output, letter);
  batch.set_output_payload(r, start);
  r.disposition = Disposition::kDeadLetter;
  r.reason = reason;
  r.key = {};
}

}  // namespace auditship::parse
