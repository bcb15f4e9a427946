#include "common/audit_corpus.h"

#include <iterator>
#include <random>

namespace auditship::bench {
namespace {

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {}
  Corpus make(std::size_t n) {
    Corpus c;
    for (std::size_t i = 0; i < n; ++i) {
      c.pii.emplace_back();
      c.lines.push_back(line(c.pii.back()));
      c.bytes += c.lines.back().size();
    }
    return c;
  }

 private:
  std::mt19937_64 rng_;
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  int num(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::string chars(const char* alphabet, std::size_t n) {
    std::string s, a(alphabet);
    for (std::size_t i = 0; i < n; ++i) s += a[pick(a.size())];
    return s;
  }
  std::string digits(std::size_t n) { return chars("0123456789", n); }

  std::string words(std::size_t n) {
    static const char* kWords[] = {"the", "customer", "asked", "about", "refund", "policy", "for", "order",
                                   "please", "summarize", "this", "document", "and", "list", "key", "points",
                                   "translate", "into", "French", "error", "when", "calling", "function",
                                   "with", "version", "2.4.1", "on", "May", "3rd", "at", "14:05", "total",
                                   "was", "$42.50", "items", "shipped", "to", "warehouse", "7", "in", "Q3",
                                   "results", "look", "good", "but", "latency", "increased", "by", "12%",
                                   "ticket", "#48213", "escalated", "agent", "replied", "within", "SLA"};
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
      if (i) s += ' ';
      s += kWords[pick(std::size(kWords))];
    }
    return s;
  }

  std::string luhn_card() {
    std::string d = (pick(2) ? "4" : "5") + digits(14);
    int sum = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {  // check digit appended at the end
      int v = d[d.size() - 1 - i] - '0';
      if (i % 2 == 0) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
      sum += v;
    }
    d += static_cast<char>('0' + (10 - sum % 10) % 10);
    if (pick(2)) return d;
    return d.substr(0, 4) + " " + d.substr(4, 4) + " " + d.substr(8, 4) + " " + d.substr(12, 4);
  }

  std::string pii_value() {
    switch (pick(6)) {
      case 0: return chars("abcdefghijklmnopqrstuvwxyz", 6) + "." + chars("abcdefghijklmnopqrstuvwxyz", 7) + "@example.com";
      case 1: return pick(2) ? "(415) 555-" + digits(4) : "212-555-" + digits(4);
      case 2: return luhn_card();
      case 3: return std::to_string(num(100, 665)) + "-" + std::to_string(num(10, 99)) + "-" + std::to_string(num(1000, 9999));
      case 4: return "10." + std::to_string(num(0, 255)) + "." + std::to_string(num(0, 255)) + "." + std::to_string(num(1, 254));
      default: return "sk-or-v1-" + chars("0123456789abcdef", 64);
    }
  }

  std::string line(std::vector<std::string>& pii) {
    std::string preview = words(4 + pick(8));
    if (pick(100) < 20) {  // 1-3 PII values in the free text
      std::size_t k = 1 + pick(3);
      for (std::size_t i = 0; i < k; ++i) {
        std::string v = pii_value();
        pii.push_back(v);
        preview += " " + v + " " + words(2 + pick(4));
      }
    }
    if (pick(100) < 5) {  // a multi-KB prompt preview, with escapes
      std::size_t paras = 4 + pick(8);
      for (std::size_t i = 0; i < paras; ++i) preview += "\\n\\n" + words(40 + pick(30)) + " \\\"quoted\\\"";
    }
    long long epoch = 1714500000 + static_cast<long long>(pick(1000000));
    std::string l = "{\"timestamp\":\"2024-05-" + std::to_string(10 + pick(18)) + "T" + std::to_string(10 + pick(13)) +
                    ":" + std::to_string(10 + pick(49)) + ":" + std::to_string(10 + pick(49)) + "." + digits(3) + "Z\"";
    l += ",\"generation_id\":\"gen-" + std::to_string(epoch) + "-" + chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 20) + "\"";
    l += ",\"model_requested\":\"openrouter/auto\",\"model_used\":\"anthropic/claude-3.5-sonnet\"";
    l += ",\"prompt_tokens\":" + std::to_string(num(10, 9000)) + ",\"completion_tokens\":" + std::to_string(num(5, 2000));
    l += ",\"total_cost\":0.00" + digits(4) + ",\"latency_ms\":" + std::to_string(num(200, 9000));
    l += ",\"created\":" + std::to_string(epoch);
    l += ",\"status\":\"success\",\"user_id\":\"user_" + digits(6) + "\",\"prompt_hash\":\"" + chars("0123456789abcdef", 16) + "\"";
    l += ",\"error_code\":null,\"metadata\":{\"app\":\"support-bot\",\"region\":\"us-east-1\",\"request_id\":\"" +
         chars("0123456789abcdef", 8) + "-" + chars("0123456789abcdef", 4) + "-4" + chars("0123456789abcdef", 3) + "-a" +
         chars("0123456789abcdef", 3) + "-" + chars("0123456789abcdef", 12) + "\",\"sdk\":\"openai-python/1.30.1\"}";
    l += ",\"prompt_preview\":\"" + preview + "\"}";
    return l;
  }
};

}  // namespace

Corpus make_corpus(std::size_t lines, std::uint64_t seed) { return Generator(seed).make(lines); }

}  // namespace auditship::bench
