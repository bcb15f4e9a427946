#include "auditship/parse/dead_letter.h"

#include "auditship/common/json_writer.h"

namespace auditship::parse {

void append_dead_letter(std::string& out, const DeadLetter& letter) {
  out += "{\"reason\":";
  json::append_string(out, reason_name(letter.reason));
  out += ",\"detail\":";
  json::append_string(out, letter.detail);
  out += ",\"source\":";
  json::append_string(out, letter.source);
  out += ",\"offset\":";
  json::append_number(out, letter.offset);
  out += ",\"line_bytes\":";
  json::append_number(out, letter.line_bytes);
  out += ",\"host\":";
  json::append_string(out, letter.host);
  out += ",\"raw\":";
  json::append_string(out, letter.raw);
  out += '}';
}

}  // namespace auditship::parse
