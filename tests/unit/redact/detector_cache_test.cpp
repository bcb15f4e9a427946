// The detector database cache (detector_cache.h) on real files: a first start compiles and
// writes it, the next loads it, changed detectors miss, a damaged file is ignored and
// rewritten, an unwritable state_dir costs only the cache, and a Redactor on cached databases
// redacts exactly like one on freshly compiled databases.
#include "auditship/redact/detector_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "auditship/common/metrics.h"
#include "auditship/redact/redactor.h"
#include "support/redact_corpus.h"
#include "support/temp_dir.h"

namespace auditship::redact {
namespace {

using testing::read_file;
using testing::TempDir;
using testing::write_file;

// The cache counters, read from the process registry; tests compare before and after.
struct Counts {
  std::uint64_t hit, miss, invalid, write_errors;
  static Counts now() {
    auto& r = metrics::Registry::global();
    auto result = [&](const char* v) {
      return r.counter("auditship_redact_detector_cache_total", "", {{"result", v}}).value();
    };
    return {result("hit"), result("miss"), result("invalid"),
            r.counter("auditship_redact_detector_cache_write_errors_total", "").value()};
  }
  Counts operator-(const Counts& o) const {
    return {hit - o.hit, miss - o.miss, invalid - o.invalid, write_errors - o.write_errors};
  }
  bool operator==(const Counts&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Counts& c) {
  return os << "{hit " << c.hit << ", miss " << c.miss << ", invalid " << c.invalid << ", write_errors "
            << c.write_errors << "}";
}

// Built-ins plus a custom detector, so the prefilter databases are in the file too.
RedactConfig config_with_custom() {
  RedactConfig c;
  c.custom.push_back({"employee_id", R"(\bEMP-[0-9]{6}\b)", "[EMPLOYEE]", "none"});
  return c;
}

// Makes a Redactor through `cache_file` and returns what the cache did meanwhile.
Counts make_counting(const RedactConfig& config, const std::string& cache_file, RedactorPtr* out = nullptr) {
  const Counts before = Counts::now();
  auto r = Redactor::make(config, cache_file);
  EXPECT_TRUE(r) << r.error();
  if (out && r) *out = std::move(*r);
  return Counts::now() - before;
}

constexpr Counts kHit{1, 0, 0, 0}, kMiss{0, 1, 0, 0}, kInvalid{0, 0, 1, 0};

// Same accept/reject, same bytes, same per-detector counts as a freshly compiled Redactor.
void expect_same_as_compiled(Redactor& cached, const RedactConfig& config) {
  auto fresh = Redactor::make(config);
  ASSERT_TRUE(fresh) << fresh.error();
  testing::Corpus corpus = testing::Generator().make(3000);
  corpus.lines.push_back(R"({"note":"EMP-123456 at 10.0.0.1, card 4111 1111 1111 1111, bob@example.com"})");
  std::size_t changed = 0;
  for (const std::string& line : corpus.lines) {
    std::string a, b;
    ASSERT_EQ(cached.redact_json(line, a), (*fresh)->redact_json(line, b)) << line;
    ASSERT_EQ(a, b) << line;
    changed += a != line;
  }
  EXPECT_GT(changed, corpus.lines.size() / 10) << "the corpus exercises the detectors";
  for (const auto& d : builtin_detectors())
    EXPECT_EQ(cached.count_for_test(d.name), (*fresh)->count_for_test(d.name)) << d.name;
  EXPECT_EQ(cached.count_for_test("employee_id"), (*fresh)->count_for_test("employee_id"));
}

TEST(DetectorCache, FirstMakeWritesItAndTheNextLoadsItAndRedactsTheSame) {
  TempDir dir;
  const std::string file = detector_cache_file(dir.path());
  EXPECT_EQ(file, dir.file("detectors.hsdb"));
  const RedactConfig config = config_with_custom();
  EXPECT_EQ(make_counting(config, file), kMiss);
  struct stat st{};
  ASSERT_EQ(::stat(file.c_str(), &st), 0) << "written after compiling";
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(::stat((file + ".tmp").c_str(), &st), 0) << "no temp file left behind";

  RedactorPtr cached;
  EXPECT_EQ(make_counting(config, file, &cached), kHit);
  ASSERT_TRUE(cached);
  expect_same_as_compiled(*cached, config);
  // A clone shares the loaded databases and owns its own scratch.
  expect_same_as_compiled(*cached->clone(), config);
}

TEST(DetectorCache, ChangedDetectorsMissAndRewriteIt) {
  TempDir dir;
  const std::string file = detector_cache_file(dir.path());
  RedactConfig config = config_with_custom();
  EXPECT_EQ(make_counting(config, file), kMiss);
  const std::string first = read_file(file);

  config.custom[0].pattern = R"(\bEMP-[0-9]{7}\b)";
  RedactorPtr changed;
  EXPECT_EQ(make_counting(config, file, &changed), kMiss) << "a changed pattern must not load the old databases";
  std::string out;
  ASSERT_TRUE(changed->redact_json(R"({"a":"EMP-1234567 EMP-123456"})", out));
  EXPECT_EQ(out, R"({"a":"[EMPLOYEE] EMP-123456"})");
  EXPECT_NE(read_file(file), first);
  EXPECT_EQ(make_counting(config, file), kHit);

  config.disable = {"ipv4"};
  EXPECT_EQ(make_counting(config, file), kMiss) << "a disabled built-in changes the databases";
  EXPECT_EQ(make_counting(config, file), kHit);
  config.custom.clear();
  EXPECT_EQ(make_counting(config, file), kMiss) << "no custom detector: no prefilter database";
  RedactorPtr cached;
  EXPECT_EQ(make_counting(config, file, &cached), kHit);
  expect_same_as_compiled(*cached, config);
}

TEST(DetectorCache, DamagedFileIsIgnoredCompiledAroundAndRewritten) {
  TempDir dir;
  const std::string file = detector_cache_file(dir.path());
  const RedactConfig config = config_with_custom();
  EXPECT_EQ(make_counting(config, file), kMiss);
  const std::string good = read_file(file);
  ASSERT_GT(good.size(), 1000u);

  auto flip = [&](std::size_t at) {
    std::string s = good;
    s[at] = static_cast<char>(s[at] ^ 0x40);
    return s;
  };
  struct Case {
    const char* what;
    std::string bytes;
  };
  const Case cases[] = {
      {"empty", ""},
      {"not ours", std::string(4096, 'x')},
      {"cut in its header", good.substr(0, 20)},
      {"cut in half", good.substr(0, good.size() / 2)},
      {"missing its last byte", good.substr(0, good.size() - 1)},
      {"one byte too many", good + "x"},
      {"a database byte flipped", flip(good.size() / 2)},
      {"its checksum flipped", flip(good.size() - 1)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    write_file(file, c.bytes);
    ::chmod(file.c_str(), 0600);
    RedactorPtr r;
    EXPECT_EQ(make_counting(config, file, &r), kInvalid);
    std::string out;
    ASSERT_TRUE(r->redact_json(R"({"a":"EMP-123456 bob@example.com"})", out));
    EXPECT_EQ(out, R"({"a":"[EMPLOYEE] [EMAIL]"})");
    EXPECT_EQ(read_file(file), good) << "rewritten with the compiled databases";
    EXPECT_EQ(make_counting(config, file), kHit);
  }

  // A flipped key byte reads as another detector set: a miss, then rewritten.
  write_file(file, flip(20));
  EXPECT_EQ(make_counting(config, file), kMiss);
  EXPECT_EQ(read_file(file), good);

  // Bytecode anyone could have written is not run.
  ::chmod(file.c_str(), 0666);
  EXPECT_EQ(make_counting(config, file), kInvalid);
  struct stat st{};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "rewritten owner-only";
  EXPECT_EQ(make_counting(config, file), kHit);
}

TEST(DetectorCache, UnwritableStateDirCostsOnlyTheCache) {
  TempDir dir;
  // A path under a regular file: neither readable nor writable, even for root (tests may run as root,
  // where a read-only directory would not stop the write).
  write_file(dir.file("not-a-dir"), "x");
  const std::string file = detector_cache_file(dir.file("not-a-dir"));
  const RedactConfig config = config_with_custom();
  RedactorPtr r;
  EXPECT_EQ(make_counting(config, file, &r), (Counts{0, 0, 1, 1})) << "unreadable (ENOTDIR), then the write fails";
  ASSERT_TRUE(r);
  expect_same_as_compiled(*r, config);

  // A state_dir that does not exist (yet): a miss and a failed write, every time.
  const std::string missing = detector_cache_file(dir.file("gone"));
  EXPECT_EQ(make_counting(config, missing), (Counts{0, 1, 0, 1}));
  EXPECT_EQ(make_counting(config, missing), (Counts{0, 1, 0, 1}));
}

TEST(DetectorCache, OffWithoutAFileName) {
  const Counts before = Counts::now();
  auto r = Redactor::make(config_with_custom());
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(Counts::now() - before, (Counts{0, 0, 0, 0}));
}

TEST(DetectorCache, ABadPatternStillFailsNamingItsDetector) {
  TempDir dir;
  RedactConfig config;
  config.custom.push_back({"broken", "a(", "", "none"});
  auto r = Redactor::make(config, detector_cache_file(dir.path()));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("detector 'broken'"), std::string::npos) << r.error();
  struct stat st{};
  EXPECT_NE(::stat(detector_cache_file(dir.path()).c_str(), &st), 0) << "nothing cached for a failed compile";
}

// What a compile leaves in the process goes back: libhs's compiler code is resident after a
// compile, gone after the release, and scanning afterwards brings back only a fraction of it.
TEST(CompileMemory, TheCompilersCodeLeavesTheProcessAndScanningGoesOn) {
  auto r = Redactor::make(RedactConfig{});  // no cache: compiles
  ASSERT_TRUE(r) << r.error();
  const std::size_t after_compile = release_compile_memory();
  EXPECT_GT(after_compile, std::size_t{1} << 20) << "the compile paged in more than 1 MiB of libhs code";
  const std::size_t idle = release_compile_memory();
  EXPECT_LT(idle, std::size_t{64} << 10) << "the first release dropped it";

  std::string out;
  ASSERT_EQ((*r)->rewrite(R"({"prompt_preview":"mail jane.doe@example.com or call 415-555-0123"})", out),
            Redactor::Outcome::kChanged);
  EXPECT_EQ(out.find("jane.doe"), std::string::npos) << out;
  const std::size_t scanning = release_compile_memory();
  EXPECT_LT(scanning, after_compile / 4) << "scanning needs only a fraction of libhs's code back";
}

}  // namespace
}  // namespace auditship::redact
