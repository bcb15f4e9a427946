#include "auditship/parse/parser.h"

#include <array>
#include <charconv>
#include <utility>

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

// The member's value as member() takes it: strings unescaped, integers printed back.
Scalar scalar(simdjson::dom::element value, char (&buf)[32]) {
  Scalar v;
  auto print = [&](auto n) {
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, n);
    v.kind = Scalar::Kind::kInteger;
    v.text = std::string_view(buf, static_cast<std::size_t>(p - buf));
    v.number = static_cast<double>(n);
  };
  switch (value.type()) {
    case simdjson::dom::element_type::STRING:
      v.kind = Scalar::Kind::kString;
      v.text = value.get_string().value_unsafe();
      break;
    case simdjson::dom::element_type::INT64: print(value.get_int64().value_unsafe()); break;
    case simdjson::dom::element_type::UINT64: print(value.get_uint64().value_unsafe()); break;
    case simdjson::dom::element_type::DOUBLE:
      v.kind = Scalar::Kind::kFloat;
      v.number = value.get_double().value_unsafe();
      break;
    default: break;
  }
  return v;
}

}  // namespace

Parser::Parser(ParserOptions options) : options_(std::move(options)) { stats(); }

void Parser::process(Batch& batch) {
  for (Record& r : batch.records)
    if (begin(batch, r)) parse_record(batch, r);
  end_batch();
}

bool Parser::begin(Batch& batch, Record& r) {
  if (r.disposition == Disposition::kDeadLetter && r.reason == DeadLetterReason::kLineTooLong) {
    dead_letter(batch, r, r.reason, "line longer than max_line_bytes; raw holds its first bytes");
    return false;
  }
  if (r.disposition != Disposition::kShip) return false;
  r.payload = r.raw;
  r.payload_in_output = false;
  return true;
}

void Parser::member(Batch& batch, Record& r, Wanted wanted, const Scalar& value) {
  if (wanted.cost && (value.kind == Scalar::Kind::kInteger || value.kind == Scalar::Kind::kFloat))
    r.total_cost = value.number;
  if (value.kind != Scalar::Kind::kString && value.kind != Scalar::Kind::kInteger) return;
  if (wanted.text) r.*wanted.text = batch.add_field(value.text);
  if (wanted.key) r.key = wanted.text ? r.*wanted.text : batch.add_field(value.text);
}

bool Parser::reject(Batch& batch, Record& r) {
  // Forget what the walk picked up before it stopped: the DOM decides now.
  r.key = r.generation_id = r.user_id = r.timestamp = {};
  r.total_cost = -1;
  parse_record(batch, r);
  return r.disposition == Disposition::kDeadLetter;
}

void Parser::end_batch() { stats().parsed.inc(std::exchange(parsed_, 0)); }

void Parser::parse_record(Batch& batch, Record& r) {
  std::string_view line = batch.raw(r);
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
  for (auto [key, value] : obj)
    if (Wanted wanted = wants(key)) member(batch, r, wanted, scalar(value, buf));
  ++parsed_;
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
