// Redactor: per-detector positives and look-alike negatives, escapes, structure, policies.
#include "auditship/redact/redactor.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>
#include <fstream>

#include "auditship/common/metrics.h"
#include "support/temp_dir.h"

namespace auditship::redact {
namespace {

RedactorPtr make_or_die(const RedactConfig& config = {}) {
  auto r = Redactor::make(config);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
  return std::move(*r);
}

std::string redact(Redactor& r, std::string_view json) {
  std::string out;
  EXPECT_TRUE(r.redact_json(json, out)) << json;
  return out;
}

// Redacts the text as a JSON string value and returns the decoded result.
std::string redact_text(Redactor& r, const std::string& text) {
  std::string in = "{\"v\":\"" + text + "\"}";
  std::string out = redact(r, in);
  simdjson::dom::parser p;
  auto doc = p.parse(out);
  EXPECT_FALSE(doc.error()) << out;
  return std::string(doc["v"].get_string().value());
}

class RedactorTest : public ::testing::Test {
 protected:
  RedactorPtr r_ = make_or_die();
  void expect_redacted(const std::string& text, const std::string& expected) {
    EXPECT_EQ(redact_text(*r_, text), expected) << "input: " << text;
  }
  void expect_kept(const std::string& text) { expect_redacted(text, text); }
};

TEST_F(RedactorTest, Email) {
  expect_redacted("mail john.doe+tag@example.co.uk now", "mail [EMAIL] now");
  expect_redacted("a_b%c@sub-domain.example.com", "[EMAIL]");
  // The seed's [A-Z|a-z] accepted '|' in the TLD.
  expect_redacted("x@example.c|m", "x@example.c|m");
  expect_kept("user@localhost");
  expect_kept("git@ github");
  expect_kept("@mention and foo@ bar");
}

TEST_F(RedactorTest, PhoneNorthAmerican) {
  expect_redacted("call 212-555-1234.", "call [PHONE].");
  expect_redacted("212.555.1234", "[PHONE]");
  expect_redacted("212 555 1234", "[PHONE]");
  expect_redacted("(415) 555-2671", "[PHONE]");
  expect_redacted("+1 650 253 0000", "[PHONE]");
  expect_redacted("+16502530000", "[PHONE]");
  expect_redacted("1-800-555-1234", "[PHONE]");
  expect_redacted("call 2125551234 now", "call [PHONE] now");
}

TEST_F(RedactorTest, PhoneLookAlikesSurvive) {
  expect_kept("epoch 1714567890");                       // area code 171: not NANP
  expect_kept("id 2125551234567");                       // 13 digits
  expect_kept("gen-2125551234-abc");                     // part of an id
  expect_kept("1.2125551234");                           // decimal
  expect_kept("v212.555.1234");                          // glued to a word
  expect_kept("2024-05-01T12:34:56.789Z");
  expect_kept("12:34:56");
}

TEST_F(RedactorTest, PhoneInternational) {
  expect_redacted("ring +44 20 7946 0958 today", "ring [PHONE] today");
  expect_redacted("+33 1 23 45 67 89", "[PHONE]");
  expect_redacted("+4915112345678", "[PHONE]");
  expect_kept("+44 20");  // too short
}

TEST_F(RedactorTest, Ssn) {
  expect_redacted("ssn 123-45-6789", "ssn [SSN]");
  expect_kept("000-12-3456");
  expect_kept("666-12-3456");
  expect_kept("912-12-3456");
  expect_kept("123-00-6789");
  expect_kept("123-45-0000");
  expect_kept("2024-123-45-6789-x");
}

TEST_F(RedactorTest, PaymentCards) {
  expect_redacted("card 4111 1111 1111 1111 exp", "card [CARD] exp");
  expect_redacted("4111-1111-1111-1111", "[CARD]");
  expect_redacted("4111111111111111", "[CARD]");
  expect_redacted("amex 3782 822463 10005", "amex [CARD]");
  expect_redacted("ref 12 4111 1111 1111 1111", "ref 12 [CARD]");
  // Not Luhn: an order number survives, and so does its phone-shaped middle.
  expect_kept("order 1234567890123456");
  expect_kept("order 1234 5678 9012 3456");
  expect_kept("1 2 3 4 5 6 7 8 9 1 2 3 0");  // a list of numbers, even if Luhn passes
}

TEST_F(RedactorTest, ApiKeysAndTokens) {
  expect_redacted("key sk-or-v1-0123456789abcdef0123456789abcdef", "key [OPENROUTER_KEY]");
  expect_redacted("sk-ant-api03-AbCdEf_123-xyz", "[ANTHROPIC_KEY]");
  expect_redacted("sk-proj-AbCdEfGhIjKlMnOpQrStUvWx123", "[OPENAI_KEY]");
  expect_redacted("sk-AbCdEfGhIjKlMnOpQrStUvWx123456", "[OPENAI_KEY]");
  expect_kept("sk-learn is a library");
  expect_redacted("AKIAIOSFODNN7EXAMPLE", "[AWS_ACCESS_KEY]");
  expect_redacted("ASIAIOSFODNN7EXAMPLE,", "[AWS_ACCESS_KEY],");
  expect_kept("AKIAIOSFODNN7EXAMPLEX");  // 17 characters: not a key id
  expect_redacted("t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig_nat-ure", "t=[JWT]");
  expect_redacted("Authorization: Bearer abc.def-123", "Authorization: Bearer [BEARER_TOKEN]");
  expect_redacted("authorization=bearer xyz", "authorization=bearer [BEARER_TOKEN]");
  expect_redacted("Bearer AbCdEfGhIjKlMnOpQrStUvWx", "Bearer [BEARER_TOKEN]");
  expect_kept("the bearer of bad news");
}

TEST_F(RedactorTest, Ipv4) {
  expect_redacted("from 192.168.0.1:8080", "from [IPV4]:8080");
  expect_kept("999.1.1.1");
  // Four-part versions are indistinguishable from addresses and are redacted; a 'v' prefix
  // or a fifth part keeps them.
  expect_redacted("1.2.3.4", "[IPV4]");
  expect_kept("v1.2.3.4");
  expect_kept("1.2.3.4.5");
  expect_kept("1.2.3");
}

TEST_F(RedactorTest, Iban) {
  expect_redacted("DE89 3704 0044 0532 0130 00", "[IBAN]");
  expect_redacted("pay GB82WEST12345698765432.", "pay [IBAN].");
  expect_kept("GB82WEST12345698765433");  // mod-97 fails
}

TEST_F(RedactorTest, CommonIdsSurvive) {
  expect_kept("123e4567-e89b-12d3-a456-426614174000");
  expect_kept("12345678-1234-1234-1234-123456789012");
  expect_kept("gen-1714567890-AbCdEfGhIj");
  expect_kept("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  expect_kept("2024-05-01T12:34:56.789Z");
  expect_kept("version 10.0.19041.1");
  expect_kept("openai/gpt-4o-2024-08-06");
  expect_kept("price 1234.56 USD, 98.6%");
}

TEST_F(RedactorTest, OnlyStringValuesChange) {
  std::string in =
      R"({"prompt_tokens":2125551234,"created":1714567890,"order":4111111111111111,"ok":true,"x":null,)"
      R"("john@example.com":"key stays","arr":[1,"a@b.io",[false]],"f":-1.5e3})";
  std::string out = redact(*r_, in);
  EXPECT_EQ(out,
            R"({"prompt_tokens":2125551234,"created":1714567890,"order":4111111111111111,"ok":true,"x":null,)"
            R"("john@example.com":"key stays","arr":[1,"[EMAIL]",[false]],"f":-1.5e3})");
}

TEST_F(RedactorTest, WhitespaceAndUnicodePreserved) {
  std::string in = "  { \"a\" : [ \"héllo bob@example.com ✓\" , 1 ] }  ";
  EXPECT_EQ(redact(*r_, in), "  { \"a\" : [ \"héllo [EMAIL] ✓\" , 1 ] }  ");
}

TEST_F(RedactorTest, EscapedTextIsDecodedAndEscapesKept) {
  EXPECT_EQ(redact(*r_, R"({"a":"john\u0040example.com"})"), R"({"a":"[EMAIL]"})");
  EXPECT_EQ(redact(*r_, R"({"a":"line1\nbob@example.com\tend"})"), R"({"a":"line1\n[EMAIL]\tend"})");
  EXPECT_EQ(redact(*r_, R"({"a":"see http:\/\/x.io \"bob@example.com\""})"),
            R"({"a":"see http:\/\/x.io \"[EMAIL]\""})");
  EXPECT_EQ(redact(*r_, R"({"a":"\ud83d\ude00 212-555-1234 \u00e9"})"), R"({"a":"\ud83d\ude00 [PHONE] \u00e9"})");
  EXPECT_EQ(redact(*r_, R"({"a":"lone \ud800 x@y.io"})"), R"({"a":"lone \ud800 [EMAIL]"})");
}

TEST_F(RedactorTest, UnchangedLineIsNotCopied) {
  std::string out = "prefix";
  EXPECT_EQ(r_->rewrite(R"({"a":"nothing here"})", out), Redactor::Outcome::kUnchanged);
  EXPECT_EQ(out, "prefix");
  EXPECT_EQ(r_->rewrite(R"({"a":"x@y.io"})", out), Redactor::Outcome::kChanged);
  EXPECT_EQ(out, R"(prefix{"a":"[EMAIL]"})");
}

TEST_F(RedactorTest, InvalidJsonIsRejectedAndNotEchoed) {
  for (std::string_view bad : {"", "{", "{\"a\":}", "{\"a\":\"x@y.io\"", "[1,]", "{\"a\" 1}", "01", "1.", "-",
                               "\"\\x\"", "\"\\u12G4\"", "tru", "{\"a\":1}x", "\"tab\there\"", "\"\xff\"",
                               "{\"a\":\"bob@example.com\",}"}) {
    std::string out;
    EXPECT_FALSE(r_->redact_json(bad, out)) << bad;
    EXPECT_TRUE(out.empty()) << bad;
  }
  std::string deep(2000, '[');
  std::string out;
  EXPECT_FALSE(r_->redact_json(deep + std::string(2000, ']'), out));
}

TEST_F(RedactorTest, TopLevelScalarsAreValid) {
  EXPECT_EQ(redact(*r_, "\"x@y.io\""), "\"[EMAIL]\"");
  EXPECT_EQ(redact(*r_, "2125551234"), "2125551234");
}

TEST_F(RedactorTest, Idempotent) {
  for (std::string_view in :
       {R"({"t":"a@b.co@c.com 10.0.0.1-212-555-1234 4111 1111 1111 1111 1111"})",
        R"({"t":"1.2.3.4.5.6.7.8 +1 212 555 1234 5678 (212) 555-1234x"})",
        R"({"t":"x\u0040y.com\n123-45-6789"})"}) {
    std::string once = redact(*r_, in);
    EXPECT_EQ(redact(*r_, once), once) << in;
  }
}

TEST_F(RedactorTest, CountsPerDetector) {
  redact(*r_, R"({"a":"x@y.io and z@w.io","b":"212-555-1234"})");
  EXPECT_EQ(r_->count_for_test("email"), 2u);
  EXPECT_EQ(r_->count_for_test("phone"), 1u);
  auto before = metrics::Registry::global().counter_total("auditship_redactions_total");
  r_->flush_counters();
  EXPECT_EQ(metrics::Registry::global().counter_total("auditship_redactions_total"), before + 3);
}

TEST(RedactorConfigTest, DisableAndScanKeys) {
  RedactConfig c;
  c.disable = {"ipv4"};
  c.scan_keys = true;
  auto r = make_or_die(c);
  EXPECT_EQ(redact(*r, R"({"bob@example.com":"10.0.0.1"})"), R"({"[EMAIL]":"10.0.0.1"})");
}

TEST(RedactorConfigTest, CustomDetector) {
  RedactConfig c;
  c.custom.push_back({"employee_id", "EMP-[0-9]{6}", "[EMPLOYEE_ID]", "none"});
  c.custom.push_back({"acct", "ACCT[0-9]{16}", "", "luhn"});
  auto r = make_or_die(c);
  EXPECT_EQ(redact(*r, R"({"a":"EMP-123456 ACCT4111111111111111 ACCT4111111111111112"})"),
            R"({"a":"[EMPLOYEE_ID] ACCT4111111111111111 ACCT4111111111111112"})");
}

TEST(RedactorConfigTest, AnchoredCustomPatternMatchesPerString) {
  RedactConfig c;
  c.custom.push_back({"whole", "^secret-[a-z]+$", "[WHOLE]", "none"});
  auto r = make_or_die(c);
  EXPECT_EQ(redact(*r, R"({"a":"secret-abc","b":"a secret-abc"})"), R"({"a":"[WHOLE]","b":"a secret-abc"})");
}

TEST(RedactorConfigTest, BadCustomPatternNamesTheDetector) {
  RedactConfig c;
  c.custom.push_back({"broken_one", "abc(", "[X]", "none"});
  auto r = Redactor::make(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("broken_one"), std::string::npos) << r.error();
}

TEST(RedactorPolicyTest, KeepDropRedact) {
  RedactConfig c;
  c.fields = {{"generation_id", "keep"}, {"messages", "drop"}, {"metadata.note", "keep"}, {"metadata", "redact"}};
  auto r = make_or_die(c);
  EXPECT_EQ(redact(*r, R"({"generation_id":"gen-212-555-1234","messages":[{"content":"x@y.io"}],"metadata":{"note":"x@y.io","other":"x@y.io"}})"),
            R"({"generation_id":"gen-212-555-1234","metadata":{"note":"x@y.io","other":"[EMAIL]"}})");
}

TEST(RedactorPolicyTest, DropKeepsCommasValid) {
  RedactConfig c;
  c.fields = {{"a", "drop"}, {"c", "drop"}, {"x.y", "drop"}};
  auto r = make_or_die(c);
  EXPECT_EQ(redact(*r, R"({"a":1,"b":2,"c":3})"), R"({"b":2})");
  EXPECT_EQ(redact(*r, R"({"a":1, "c":[3] , "b":2})"), R"({  "b":2})");  // whitespace may stay
  EXPECT_EQ(redact(*r, R"({"b":2,"a":{"q":1},"c":3})"), R"({"b":2})");
  EXPECT_EQ(redact(*r, R"({"a":1,"c":3})"), R"({})");
  EXPECT_EQ(redact(*r, R"({"x":[{"y":1,"z":2},{"z":3,"y":4}]})"), R"({"x":[{"z":2},{"z":3}]})");
}

TEST(RedactorPolicyTest, PathMatchesThroughArrays) {
  RedactConfig c;
  c.fields = {{"messages.content", "keep"}};
  auto r = make_or_die(c);
  EXPECT_EQ(redact(*r, R"({"messages":[{"role":"x@y.io","content":"x@y.io"}]})"),
            R"({"messages":[{"role":"[EMAIL]","content":"x@y.io"}]})");
}

TEST(RedactorPolicyTest, HashUsesHmacAndIsIdempotent) {
  ::setenv("AUDITSHIP_TEST_HMAC_KEY", "0123456789abcdef-test-key", 1);
  RedactConfig c;
  c.fields = {{"metadata.contact", "hash"}};
  c.hash_key_env = "AUDITSHIP_TEST_HMAC_KEY";
  auto r = make_or_die(c);
  std::string expected = hmac_sha256_hex("0123456789abcdef-test-key", "bob@example.com");
  std::string out = redact(*r, R"({"metadata":{"contact":"bob\u0040example.com","n":"x@y.io"}})");
  EXPECT_EQ(out, R"({"metadata":{"contact":")" + expected + R"(","n":"[EMAIL]"}})");
  EXPECT_EQ(redact(*r, out), out);
  // Equal values stay correlatable; numbers are hashed too, structure is kept for objects.
  std::string num = redact(*r, R"({"metadata":{"contact":{"phone":2125551234,"ok":true}}})");
  EXPECT_EQ(num, R"({"metadata":{"contact":{"phone":")" + hmac_sha256_hex("0123456789abcdef-test-key", "2125551234") +
                     R"(","ok":true}}})");
  ::unsetenv("AUDITSHIP_TEST_HMAC_KEY");
}

TEST(RedactorPolicyTest, HashKeyFromFile) {
  auditship::testing::TempDir dir;
  std::string path = dir.path() + "/key";
  std::ofstream(path) << "file-key-0123456789abcdef\n";
  RedactConfig c;
  c.fields = {{"u", "hash"}};
  c.hash_key_file = path;
  auto r = make_or_die(c);
  EXPECT_EQ(redact(*r, R"({"u":"a"})"), R"({"u":")" + hmac_sha256_hex("file-key-0123456789abcdef", "a") + R"("})");
}

TEST(RedactorPolicyTest, MissingHmacKeyIsAStartupError) {
  ::unsetenv("AUDITSHIP_TEST_NO_SUCH_KEY");
  RedactConfig c;
  c.fields = {{"u", "hash"}};
  c.hash_key_env = "AUDITSHIP_TEST_NO_SUCH_KEY";
  auto r = Redactor::make(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("AUDITSHIP_TEST_NO_SUCH_KEY"), std::string::npos) << r.error();
  c.hash_key_env.clear();
  EXPECT_FALSE(Redactor::make(c).ok());
}

TEST(RedactorBatchTest, RewritesOnlyChangedShipRecords) {
  auto r = make_or_die();
  Batch b;
  b.input = "{\"a\":\"x@y.io\"}\n{\"a\":\"clean\"}\n{\"a\":\"x@y.io\"}\n{bad\n";
  auto add = [&](std::uint32_t off, std::uint32_t len, Disposition d) {
    Record rec;
    rec.raw = rec.payload = {off, len};
    rec.disposition = d;
    b.records.push_back(rec);
  };
  add(0, 14, Disposition::kShip);
  add(15, 13, Disposition::kShip);
  add(29, 14, Disposition::kDrop);
  add(44, 4, Disposition::kShip);
  r->process(b);
  EXPECT_TRUE(b.records[0].payload_in_output);
  EXPECT_EQ(b.payload(b.records[0]), R"({"a":"[EMAIL]"})");
  EXPECT_FALSE(b.records[1].payload_in_output);  // zero copy
  EXPECT_EQ(b.payload(b.records[1]), R"({"a":"clean"})");
  EXPECT_FALSE(b.records[2].payload_in_output);  // not for shipping: untouched
  // Never shipped unredacted: an `unredactable` dead letter that names where it was, without its bytes.
  EXPECT_EQ(b.records[3].disposition, Disposition::kDeadLetter);
  EXPECT_EQ(b.records[3].reason, DeadLetterReason::kUnredactable);
  EXPECT_EQ(b.payload(b.records[3]).find("{bad"), std::string_view::npos);
  EXPECT_NE(b.payload(b.records[3]).find("\"reason\":\"unredactable\""), std::string_view::npos);
}

TEST(RedactorBatchTest, DeadLetterEnvelopesAreRedactedToo) {
  auto r = make_or_die();
  Batch b;
  b.output = R"({"reason":"invalid_json","raw":"{\"user\":\"x@y.io\","})";
  Record rec;
  rec.payload = {0, static_cast<std::uint32_t>(b.output.size())};
  rec.payload_in_output = true;
  rec.disposition = Disposition::kDeadLetter;
  rec.reason = DeadLetterReason::kInvalidJson;
  b.records.push_back(rec);
  r->process(b);
  EXPECT_EQ(b.payload(b.records[0]), R"({"reason":"invalid_json","raw":"{\"user\":\"[EMAIL]\","})");
}

TEST(RedactorThreadingTest, CloneSharesDetectors) {
  RedactConfig c;
  c.custom.push_back({"employee_id", "EMP-[0-9]{6}", "[EMP]", "none"});
  auto r = make_or_die(c);
  auto clone = r->clone();
  EXPECT_EQ(redact(*clone, R"({"a":"EMP-123456 x@y.io"})"), R"({"a":"[EMP] [EMAIL]"})");
}

}  // namespace
}  // namespace auditship::redact
