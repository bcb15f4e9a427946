// The CLI as a user meets it: `check` on good and bad configs, --help everywhere.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "support/process.h"
#include "support/temp_dir.h"

namespace auditship::testing {
namespace {

Captured check(const TempDir& dir, const std::string& yaml) {
  write_file(dir.file("c.yaml"), yaml);
  return run_and_capture(AUDITSHIP_BINARY, {"check", "-c", dir.file("c.yaml")});
}

TEST(Cli, CheckPrintsTheEffectiveConfig) {
  TempDir dir;
  auto r = check(dir, "sources: [{path: /var/log/app/*.jsonl}]\nstate_dir: " + dir.file("state") +
                          "\nkafka: {brokers: 'k1:9092'}\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("topic: \"openrouter-audit\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max_in_flight_bytes: 3MiB"), std::string::npos) << r.out;
}

// `auditship check` runs with the agent's environment (systemd's ExecStartPre): it says how
// lookups will reach the endpoint, and a broken HTTPS_PROXY fails it like a bad config.
TEST(Cli, CheckSaysWhetherLookupsGoThroughAProxy) {
  TempDir dir;
  write_file(dir.file("c.yaml"), "sources: [{path: /a/*.jsonl}]\nstate_dir: " + dir.file("state") +
                                     "\nkafka: {brokers: 'k1:9092'}\nenrich: {enabled: true}\n");
  auto run = [&](std::vector<std::string> env) {
    env.push_back("OPENROUTER_API_KEY=sk-or-v1-x");
    return run_and_capture(AUDITSHIP_BINARY, {"check", "-c", dir.file("c.yaml")}, std::chrono::seconds(30), env);
  };
  auto proxied = run({"HTTPS_PROXY=http://user:s3cret@proxy.corp:3128"});
  EXPECT_EQ(proxied.exit_code, 0) << proxied.err;
  EXPECT_NE(proxied.err.find("enrich: lookups reach https://openrouter.ai/api/v1/generation through the HTTP proxy "
                             "proxy.corp:3128 (from HTTPS_PROXY)"),
            std::string::npos)
      << proxied.err;
  EXPECT_EQ(proxied.err.find("s3cret"), std::string::npos) << proxied.err;
  auto exempt = run({"HTTPS_PROXY=http://proxy.corp:3128", "NO_PROXY=.openrouter.ai"});
  EXPECT_EQ(exempt.exit_code, 0) << exempt.err;
  EXPECT_NE(exempt.err.find("lookups reach https://openrouter.ai/api/v1/generation directly"), std::string::npos)
      << exempt.err;
  auto broken = run({"HTTPS_PROXY=socks5://proxy.corp:1080"});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.err.find("c.yaml: enrich: HTTPS_PROXY: proxy scheme 'socks5' is not supported"), std::string::npos)
      << broken.err;
}

TEST(Cli, CheckRejectsAnUnknownKeyWithItsLine) {
  TempDir dir;
  auto r = check(dir, "sources: [{path: /a/*.jsonl}]\nstate_dir: " + dir.path() + "\nkafka:\n  brokers: x:1\n  toppic: t\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("c.yaml:5: kafka.toppic: unknown key 'toppic'"), std::string::npos) << r.err;
}

TEST(Cli, CheckRejectsAWrongTypeWithItsLine) {
  TempDir dir;
  auto r = check(dir, "sources: [{path: /a/*.jsonl}]\nstate_dir: " + dir.path() +
                          "\nkafka: {brokers: x:1}\nmax_line_bytes: plenty\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("c.yaml:4: max_line_bytes: expected a size in bytes"), std::string::npos) << r.err;
}

TEST(Cli, CheckRejectsAnUnusableStateDirWithItsLine) {
  TempDir dir;
  write_file(dir.file("not-a-dir"), "x");
  auto r = check(dir, "sources: [{path: /a/*.jsonl}]\nkafka: {brokers: x:1}\nstate_dir: " + dir.file("not-a-dir") + "\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("c.yaml:3: state_dir:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is not a directory"), std::string::npos) << r.err;
  if (::geteuid() == 0) GTEST_SKIP() << "root can read any directory; the permission case needs a normal user";
  dir.subdir("locked");
  std::filesystem::permissions(dir.file("locked"), std::filesystem::perms::none);
  auto locked = check(dir, "sources: [{path: /a/*.jsonl}]\nkafka: {brokers: x:1}\nstate_dir: " + dir.file("locked") + "\n");
  EXPECT_EQ(locked.exit_code, 1);
  EXPECT_NE(locked.err.find("is not readable and writable"), std::string::npos) << locked.err;
  std::filesystem::permissions(dir.file("locked"), std::filesystem::perms::owner_all);
}

TEST(Cli, HelpOnEverySubcommandAndErrorsForUnknownOnes) {
  for (const char* cmd : {"run", "check", "redact", "status"}) {
    auto r = run_and_capture(AUDITSHIP_BINARY, {cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("usage: auditship"), std::string::npos) << cmd;
  }
  auto version = run_and_capture(AUDITSHIP_BINARY, {"version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("auditship " AUDITSHIP_VERSION "\n", 0), 0u) << version.out;
  for (const char* library : {"librdkafka", "hyperscan", "simdjson", "openssl", "zstd", "sqlite", "boost"})
    EXPECT_NE(version.out.find(std::string("\n  ") + library + " "), std::string::npos) << library << "\n" << version.out;
  EXPECT_EQ(run_and_capture(AUDITSHIP_BINARY, {"frobnicate"}).exit_code, 2);
  EXPECT_EQ(run_and_capture(AUDITSHIP_BINARY, {"run", "--bogus"}).exit_code, 2);
}

TEST(Cli, RunRefusesACorruptCheckpointFileNamingIt) {
  TempDir dir;
  dir.subdir("state");
  write_file(dir.file("state/checkpoints.json"), "{\"version\":1,\"fil");
  write_file(dir.file("c.yaml"), "sources: [{path: " + dir.path() + "/*.jsonl}]\nstate_dir: " + dir.file("state") +
                                     "\nkafka: {brokers: embedded}\n");
  auto r = run_and_capture(AUDITSHIP_BINARY, {"run", "-c", dir.file("c.yaml"), "--once"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir.file("state/checkpoints.json")), std::string::npos) << r.err;
}

}  // namespace
}  // namespace auditship::testing

namespace auditship::testing {
namespace {

// The README's configuration reference is the option table itself, not a copy that drifts.
TEST(Cli, ReadmeConfigReferenceIsCurrent) {
  auto r = run_and_capture(AUDITSHIP_BINARY, {"check", "--reference"});
  ASSERT_EQ(r.exit_code, 0);
  const std::string readme = read_file(std::string(AUDITSHIP_SOURCE_DIR) + "/README.md");
  const std::string begin = "<!-- config-reference:begin -->\n", end = "<!-- config-reference:end -->";
  auto i = readme.find(begin), j = readme.find(end);
  ASSERT_NE(i, std::string::npos);
  ASSERT_NE(j, std::string::npos);
  EXPECT_EQ(readme.substr(i + begin.size(), j - i - begin.size()), r.out)
      << "run scripts/update-readme-reference.sh";
}

}  // namespace
}  // namespace auditship::testing
