#include "auditship/common/json_writer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace auditship::json {
namespace {

TEST(JsonWriter, EscapesControlQuotesAndInvalidUtf8) {
  std::string out;
  append_string(out, std::string("a\"b\\c\n\x01\xff\xc3\xa9", 10));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\\u00ff\xc3\xa9\"");
  simdjson::dom::parser p;
  EXPECT_FALSE(p.parse(out).error());
}

// The escaping rules one byte at a time, as the writer first did them: the writer appends runs
// of plain bytes whole and must produce exactly this.
std::string escaped_byte_by_byte(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto hex = [](std::string& out, unsigned char c) {
    out += "\\u00";
    out += kHex[c >> 4];
    out += kHex[c & 15];
  };
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      // A valid sequence goes out as it is, anything else byte by byte as \u00XX.
      std::size_t n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
      std::uint32_t cp = n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
      bool ok = n != 0 && i + n <= text.size();
      for (std::size_t k = 1; ok && k < n; ++k) {
        const auto d = static_cast<unsigned char>(text[i + k]);
        ok = (d & 0xC0) == 0x80;
        cp = (cp << 6) | (d & 0x3F);
      }
      ok = ok && !(n == 2 && cp < 0x80) && !(n == 3 && cp < 0x800) && !(n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) &&
           !(cp >= 0xD800 && cp <= 0xDFFF);
      if (ok) {
        out.append(text.substr(i, n));
        i += n;
      } else {
        hex(out, c);
        ++i;
      }
      continue;
    }
    // JSON's short escapes (RFC 8259 §7), else \u00XX for the other controls and DEL.
    static const std::map<unsigned char, std::string> kShort = {
        {'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\n"}, {'\r', "\\r"}, {'\t', "\\t"}, {'\b', "\\b"}, {'\f', "\\f"}};
    if (auto it = kShort.find(c); it != kShort.end()) out += it->second;
    else if (c < 0x20 || c == 0x7F) hex(out, c);
    else out += static_cast<char>(c);
    ++i;
  }
  return out + "\"";
}

TEST(JsonWriter, StringsEqualTheByteByByteRules) {
  std::mt19937 rng(7);
  // Mostly plain text with every kind of byte mixed in: quotes, backslashes, controls, DEL,
  // valid and broken UTF-8 (truncated, overlong, surrogates), at run starts, ends and middles.
  const std::vector<std::string> pieces = {"abc", "hello world ", "\"", "\\", "\n", "\t", "\x01", "\x7f", "\x1f",
                                           "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc3", "\xe2\x82",
                                           "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "\x80", " ", "~", "}"};
  for (int n = 0; n < 20000; ++n) {
    std::string text;
    const int parts = static_cast<int>(rng() % 12);
    for (int k = 0; k < parts; ++k) text += pieces[rng() % pieces.size()];
    std::string out;
    append_string(out, text);
    ASSERT_EQ(out, escaped_byte_by_byte(text)) << "input bytes: " << text.size();
  }
  for (int c = 0; c < 256; ++c) {  // every single byte, alone
    const std::string text(1, static_cast<char>(c));
    std::string out;
    append_string(out, text);
    ASSERT_EQ(out, escaped_byte_by_byte(text)) << "byte " << c;
  }
}

TEST(JsonWriter, NumbersAndNonFinite) {
  std::string out;
  append_number(out, 0.25);
  out += ',';
  append_number(out, std::numeric_limits<double>::infinity());
  out += ',';
  append_number(out, std::uint64_t{18446744073709551615ull});
  EXPECT_EQ(out, "0.25,null,18446744073709551615");
}

// Found by generation_fuzz: a total_cost of 44444444444444444444440.004206 printed as the
// integer 4444444444444444327936, which simdjson rejects as too big for an integer type.
TEST(JsonWriter, HugeDoublesStayReadableJsonNumbers) {
  simdjson::dom::parser parser;
  for (double v : {4.444444444444444e21, -1e300, 1e15, 123456789012345.0, 0.002643, 5e-324}) {
    std::string out;
    append_number(out, v);
    double back = 0;
    ASSERT_EQ(parser.parse(out).get(back), simdjson::SUCCESS) << out;
    EXPECT_EQ(back, v) << out;
  }
  std::string out;
  append_number(out, 0.002643);
  EXPECT_EQ(out, "0.002643") << "ordinary costs keep their plain form";
}

}  // namespace
}  // namespace auditship::json
