// Differential test: the fast path (prefilters, triggers, skipped strings) must produce exactly
// what the straightforward path produces (every string through the exact start-of-match
// database): same accept/reject, same bytes, same per-detector counts. Run on the benchmark
// corpus and on generated adversarial strings built to sit on the prefilters' edges.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "auditship/pipeline/batch.h"
#include "auditship/redact/redactor.h"
#include "auditship/redact/trigger.h"
#include "support/edge_detectors.h"
#include "support/redact_corpus.h"

namespace auditship::redact {
namespace {

struct Pair {
  RedactorPtr fast, reference;
};

Pair make_pair(const RedactConfig& config) {
  auto fast = Redactor::make(config);
  auto reference = Redactor::make_reference_for_test(config);
  EXPECT_TRUE(fast.ok()) << (fast.ok() ? "" : fast.error());
  EXPECT_TRUE(reference.ok()) << (reference.ok() ? "" : reference.error());
  return {std::move(*fast), std::move(*reference)};
}

// Compares one line; returns false (after reporting it) on the first difference.
bool same(Pair& p, const std::string& line) {
  std::string a, b;
  bool ok_a = p.fast->redact_json(line, a);
  bool ok_b = p.reference->redact_json(line, b);
  EXPECT_EQ(ok_a, ok_b) << line;
  EXPECT_EQ(a, b) << "input: " << line;
  return ok_a == ok_b && a == b;
}

void expect_same_counts(const Pair& p) {
  for (const char* d : {"openrouter_key", "anthropic_key", "openai_key", "aws_access_key", "jwt", "bearer_token",
                        "email", "iban", "credit_card", "ssn", "phone", "ipv4", "employee_id", "anchored_ticket"})
    EXPECT_EQ(p.fast->count_for_test(d), p.reference->count_for_test(d)) << d;
}

// Pieces that sit on the edges of the detectors and their prefilters: digit groups of every
// length, each separator, '+', parentheses, key prefixes, escapes (including \u escapes that
// decode to digits, '@', '-', '.', '+', letters), and multi-byte UTF-8.
const std::vector<std::string>& pieces() {
  static const std::vector<std::string> p = {
      " ", " ", "-", ".", "(", ")", "+", "@", ":", "/", "_", "x", "Q", "ab", "AB", "DE", "GB", "T", "Z",
      "1", "2", "12", "123", "212", "555", "1234", "2024", "12345", "171450", "2125551234", "1714567890",
      "4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "378282246310005", "123-45-6789",
      "078-05-1120", "212-555-1234", "(415) 555-2671", "+1 650 253 0000", "+16502530000", "1-800-555-1234",
      "+44 20 7946 0958", "+33 1 23 45 67 89", "10.0.0.1", "192.168.1.254", "1.2.3.4.5", "2.4.1", "256.1.1.1",
      "DE89370400440532013000", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "GB82 WEST 1234 5698 7654 32",
      "sk-", "sk-or-v1-", "sk-ant-", "sk-proj-", "abcdefghijABCDEFGHIJ0123456789", "AKIA", "ASIA", "IOSFODNN7EXAMPLE",
      "eyJ", "eyJhbGciOiJIUzI1NiJ9", ".", "Bearer ", "bearer ", "Authorization: Bearer ", "authorization=",
      "john.doe", "example.com", "a@b.co", "user@localhost", "%", "o%k+tag", "x@y@z.io", "gen-", "v", "e", "E5",
      "\\n", "\\\"", "\\\\", "\\/", "\\t", "\\u0040", "\\u0031", "\\u0032", "\\u002d", "\\u002e", "\\u002B",
      "\\u0041", "\\u004b", "\\u0020", "\\u0033", "\\u0028", "\\u0029",
      // Digit shapes the direct matchers (direct_match.h) must get exactly right.
      "(800)555-1234", "+1(800)555-1234", "1.800.555.1234", "1 (800) 555 1234", "+49 30 1234567",
      "+4930123456789012", "1.22.333.4", "0.0.0.0", "4111-1111-1111-1111-111", "12345678901234567890",
      // Key and email edges for their direct matchers: a key inside a key, short keys, empty
      // domain labels, digits in the last label, '-' after it, several '@'.
      "sk-proj-abcdefghij0123456789-sk-", "sk-or-v1-x", "sk-ant-_-", "a.@b.co", ".x@y.com", "x@-y.com", "x@y..com",
      "x@y.c0m", "x@y.com-", "x@y.co.uk", "_a@b.co", "x@y.c", "@@", "a@b.cd@e.fg",
      "\\u00e9", "\\ud83d\\ude00", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
  return p;
}

std::string adversarial(std::mt19937_64& rng) {
  const auto& p = pieces();
  std::uniform_int_distribution<std::size_t> pick(0, p.size() - 1), len(1, 24);
  std::string s;
  for (std::size_t i = 0, n = len(rng); i < n; ++i) s += p[pick(rng)];
  return s;
}

std::string adversarial_line(std::mt19937_64& rng) {
  return "{\"a\":\"" + adversarial(rng) + "\",\"k" + adversarial(rng) + "\":\"" + adversarial(rng) +
         "\",\"n\":[12125551234,\"" + adversarial(rng) + "\",4111111111111111],\"m\":{\"contact\":\"" +
         adversarial(rng) + "\",\"x\":\"" + adversarial(rng) + "\"}}";
}

void run_corpus(const RedactConfig& config) {
  Pair p = make_pair(config);
  static const testing::Corpus corpus = testing::Generator().make(20000);
  std::size_t differences = 0;
  for (const auto& line : corpus.lines)
    if (!same(p, line) && ++differences > 5) break;
  expect_same_counts(p);
}

void run_adversarial(const RedactConfig& config, std::uint64_t seed) {
  Pair p = make_pair(config);
  std::mt19937_64 rng(seed);
  std::size_t differences = 0;
  for (int i = 0; i < 20000; ++i)
    if (!same(p, adversarial_line(rng)) && ++differences > 5) break;
  expect_same_counts(p);
}

RedactConfig with_custom() {
  RedactConfig c;
  c.custom.push_back({"employee_id", "EMP-[0-9]{6}", "[EMPLOYEE_ID]", "none"});
  c.custom.push_back({"anchored_ticket", "^T[0-9]+$", "[TICKET]", "none"});
  return c;
}

// The line index must answer exactly what the per-string trigger walk answers, windows
// included, for every string of a line (it replaces that walk on the first pass). Run with the
// code this CPU picks (AVX-512/AVX2 on x86) and with the portable code arm64 runs.
void check_line_index(LineIndex index) {
  std::mt19937_64 rng(5);
  std::vector<Window> expected, actual;
  const std::uint32_t all = (1u << kTriggerCount) - 1;
  for (int i = 0; i < 200000; ++i) {
    std::string s = adversarial(rng);
    if (i % 3 == 0)  // long strings: clusters and literals across 64-byte words
      for (int k = 0; k < 6; ++k) s += adversarial(rng);
    const std::string line = "{\"k\":\"" + s + "\"}";
    const std::uint32_t mask = i % 4 ? all : static_cast<std::uint32_t>(rng()) & all;  // also partial sets
    index.build(line);
    const bool with_windows = i % 2 == 0;
    std::uint32_t want = triggers_fired(s, mask, with_windows ? &expected : nullptr);
    std::uint32_t got = index.triggers_fired(6, 6 + s.size(), mask, with_windows ? &actual : nullptr);
    ASSERT_EQ(want, got) << s;
    if (!with_windows) continue;
    // Scanner::find reads the windows of each trigger in order; the order between triggers
    // does not matter (the per-string walk lists a chunk's keys before its clusters).
    auto by_trigger = [](std::vector<Window> v) {
      std::stable_sort(v.begin(), v.end(), [](const Window& a, const Window& b) { return a.trigger < b.trigger; });
      return v;
    };
    expected = by_trigger(expected);
    actual = by_trigger(actual);
    ASSERT_EQ(expected.size(), actual.size()) << s;
    for (std::size_t w = 0; w < expected.size(); ++w) {
      ASSERT_EQ(expected[w].begin, actual[w].begin) << s;
      ASSERT_EQ(expected[w].end, actual[w].end) << s;
      ASSERT_EQ(expected[w].trigger, actual[w].trigger) << s;
    }
    const std::size_t stop = s.find_first_of("\"\\");
    ASSERT_EQ(index.next_stop(6), 6 + (stop == std::string::npos ? s.size() : stop));
    ASSERT_EQ(index.ascii(), std::all_of(line.begin(), line.end(), [](char c) { return c >= 0; })) << s;
  }
}

TEST(RedactorDiffTest, LineIndexEqualsPerStringTriggers) { check_line_index(LineIndex{}); }
TEST(RedactorDiffTest, PortableLineIndexEqualsPerStringTriggers) { check_line_index(LineIndex::portable_for_test()); }

TEST(RedactorDiffTest, CorpusDefaultDetectors) { run_corpus({}); }

// Strings made only of digit-shape material, so that matches sit at a string's first and last
// byte (a window at the start or end of its text), next to each other, next to word bytes
// ('_', letters), and behind escapes that decode to digits, separators or parentheses: the
// places where the direct digit matchers and Hyperscan could disagree.
std::string digit_string(std::mt19937_64& rng) {
  static const std::vector<std::string> p = {
      "1", "2", "5", "9", "0", "12", "123", "555", "800", "1234", "2125551234", "4111111111111111", "45", "6789",
      " ", "-", ".", "(", ")", "+", "+1", "1-", "1 ", "_", "a", "Z", "\\u0033", "\\u0032", "\\u002d",
      "\\u002e", "\\u0020", "\\u0028", "\\u0029", "\\u002b", "\\u005f", "\\n", "\\\"", "\xc3\xa9",
      "123-45-6789", "212.555.1234", "(415) 555-2671", "10.0.0.1", "4111 1111 1111 1111", "+44 20 7946 0958"};
  std::uniform_int_distribution<std::size_t> pick(0, p.size() - 1), len(1, 12);
  std::string s;
  for (std::size_t i = 0, n = len(rng); i < n; ++i) s += p[pick(rng)];
  return s;
}

TEST(RedactorDiffTest, AdversarialShapes) {
  for (const RedactConfig& config : {RedactConfig{}, with_custom()}) {
    Pair p = make_pair(config);
    std::mt19937_64 rng(6);
    std::size_t differences = 0;
    for (int i = 0; i < 30000; ++i) {
      const std::string line = "{\"a\":\"" + digit_string(rng) + "\",\"b\":[\"" + digit_string(rng) + "\",\"" +
                               digit_string(rng) + "\"],\"c\":\"" + digit_string(rng) + " " + digit_string(rng) + "\"}";
      if (!same(p, line) && ++differences > 5) break;
    }
    expect_same_counts(p);
  }
}

TEST(RedactorDiffTest, AdversarialDefaultDetectors) { run_adversarial({}, 1); }

TEST(RedactorDiffTest, AdversarialScanKeys) {
  RedactConfig c;
  c.scan_keys = true;
  run_adversarial(c, 2);
}

TEST(RedactorDiffTest, AdversarialCustomAndAnchoredDetectors) {
  run_corpus(with_custom());
  run_adversarial(with_custom(), 3);
}

// Redactor::process scans the custom detectors' prefilter once over the batch's whole input
// instead of once per line. Against the reference path line by line, with patterns that reach
// across a newline (\s, a negated class), sit on word boundaries (\b, \B) or match often,
// and with lines packed in every way the buffer scan must handle: plain newlines, CRLF,
// neighbours that are word bytes (the per-line fallback), a dead-letter envelope in `output`.
TEST(RedactorDiffTest, BatchPrefilterEqualsLineByLine) {
  Pair p = make_pair(testing::edge_custom_detectors());
  // (In JSON text: \\n is an escaped newline; the raw newlines are between the lines.)
  const std::vector<std::string> seeds = {"EMP-123456", " secret\\nabc", "\\n secret x", "ab tok1", "\\ntok2", "Z12", "aZ12",
                                          "qq1", "aqq2", " qq3", "1\\n2", "tok", " secret ", "x secret",
                                          // the prefilter drops a trailing \b: these match it there, not exactly
                                          "Z123", "Z12_", "Z12\\u0041"};
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<std::size_t> pick(0, seeds.size() - 1), sep(0, 5);
  std::size_t differences = 0, from_output = 0;
  for (int round = 0; round < 400 && differences < 5; ++round) {
    Batch b;
    std::vector<std::string> lines;
    for (int i = 0; i < 40; ++i) {
      std::string line = "{\"a\":\"" + seeds[pick(rng)] + adversarial(rng) + seeds[pick(rng)] + "\",\"b\":[\"" +
                         seeds[pick(rng)] + "\",7],\"c\":\"" + adversarial(rng) + seeds[pick(rng)] + "\"}";
      // Before the line: a newline (or CRLF), a word byte, a space; after it the same.
      static const char* const kBefore[] = {"", "\r", "x", " ", "_", "\t"};
      b.input += kBefore[sep(rng)];
      Record r;
      r.payload = r.raw = {static_cast<std::uint32_t>(b.input.size()), static_cast<std::uint32_t>(line.size())};
      b.input += line;
      b.input += kBefore[sep(rng)];
      b.input += '\n';
      b.records.push_back(r);
      lines.push_back(line);
    }
    // One dead letter whose payload lives in `output`.
    Record dead;
    const std::string envelope = "{\"reason\":\"invalid_json\",\"raw\":\"" + seeds[pick(rng)] + " secret abc EMP-000001\"}";
    dead.payload = {static_cast<std::uint32_t>(b.output.size()), static_cast<std::uint32_t>(envelope.size())};
    dead.payload_in_output = true;
    dead.disposition = Disposition::kDeadLetter;
    b.output += envelope;
    b.records.push_back(dead);
    lines.push_back(envelope);
    p.fast->process(b);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::string expected;
      ASSERT_TRUE(p.reference->redact_json(lines[i], expected)) << lines[i];
      from_output += b.records[i].payload_in_output;
      if (b.payload(b.records[i]) != expected) {
        ADD_FAILURE() << "line " << i << " of round " << round << "\ninput:    " << lines[i]
                      << "\nbatch:    " << b.payload(b.records[i]) << "\nexpected: " << expected;
        ++differences;
      }
    }
  }
  EXPECT_GT(from_output, 10000u) << "the custom patterns must actually match";
}

TEST(RedactorDiffTest, AdversarialSomeDisabled) {
  RedactConfig c;
  c.disable = {"email", "ipv4", "phone"};
  c.fields = {{"m.contact", "keep"}};
  run_adversarial(c, 4);
}

}  // namespace
}  // namespace auditship::redact
