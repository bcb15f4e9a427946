#include "support/audit_records.h"

#include <simdjson.h>

#include <fstream>
#include <stdexcept>

namespace auditship::testing {

std::string audit_line(const std::string& tag, std::uint64_t seq, std::size_t pad) {
  static const char* kModels[] = {"anthropic/claude-sonnet-4", "openai/gpt-4o-mini", "meta-llama/llama-3.1-70b"};
  std::string text(pad, 'x');
  for (std::size_t i = 0; i < pad; i += 7) text[i] = ' ';
  return "{\"timestamp\":\"2026-12-04T10:00:00Z\",\"generation_id\":\"gen-" + tag + "-" + std::to_string(seq) +
         "\",\"file\":\"" + tag + "\",\"seq\":" + std::to_string(seq) + ",\"model_requested\":\"openrouter/auto\"" +
         ",\"model_used\":\"" + kModels[seq % 3] + "\",\"prompt_tokens\":" + std::to_string(100 + seq % 900) +
         ",\"completion_tokens\":" + std::to_string(seq % 300) + ",\"total_cost\":0,\"latency_ms\":812.5" +
         ",\"status\":\"success\",\"user_id\":\"u_" + std::to_string(seq % 50) +
         "\",\"prompt_hash\":\"9f2c1a\",\"error_code\":null,\"prompt_preview\":\"" + text + "\"}\n";
}

void append_records(const std::string& path, const std::string& tag, std::uint64_t from, std::uint64_t count,
                    std::size_t pad) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  if (!out) throw std::runtime_error("cannot append to " + path);
  std::string chunk;
  for (std::uint64_t s = from; s < from + count; ++s) {
    chunk += audit_line(tag, s, pad);
    if (chunk.size() > 16384) {
      out << chunk;
      out.flush();
      chunk.clear();
    }
  }
  out << chunk;
}

std::uint64_t Delivery::duplicates() const {
  std::uint64_t d = 0;
  for (const auto& [tag, seqs] : seen)
    for (const auto& [seq, n] : seqs) d += static_cast<std::uint64_t>(n - 1);
  return d;
}

std::vector<std::uint64_t> Delivery::missing(const std::string& tag, std::uint64_t expected) const {
  std::vector<std::uint64_t> out;
  auto it = seen.find(tag);
  for (std::uint64_t s = 0; s < expected; ++s)
    if (it == seen.end() || !it->second.count(s)) out.push_back(s);
  return out;
}

Delivery summarize(const std::vector<Message>& messages) {
  Delivery d;
  simdjson::dom::parser parser;
  std::map<std::pair<int, std::string>, std::int64_t> last;  // (partition, tag) -> last seq
  for (const auto& m : messages) {
    ++d.total;
    simdjson::dom::element doc;
    std::string_view tag;
    std::uint64_t seq = 0;
    if (parser.parse(m.value).get(doc) || doc["file"].get(tag) || doc["seq"].get(seq)) {
      ++d.unparsable;
      continue;
    }
    d.seen[std::string(tag)][seq]++;
    auto& prev = last.try_emplace({m.partition, std::string(tag)}, -1).first->second;
    // A re-sent tail after a crash legitimately goes back; only count order breaks of
    // records seen for the first time.
    if (static_cast<std::int64_t>(seq) < prev && d.seen[std::string(tag)][seq] == 1) ++d.order_violations;
    prev = static_cast<std::int64_t>(seq);
  }
  return d;
}

}  // namespace auditship::testing
