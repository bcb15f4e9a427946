// The agent's own secrets never leave it: with enrichment on (API key) and a `hash` field
// policy (HMAC key), everything the real binary writes — its log and stdout, both Kafka topics
// (values, keys, headers), every file under state_dir, and the disk buffer's frames decoded
// (they are zstd: a grep of the files alone would prove nothing) — is searched for both keys.
// And a config file readable by other users that holds a secret is warned about.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>

#include "auditship/buffer/segment.h"
#include "support/agent.h"
#include "support/chaos.h"
#include "support/cluster.h"
#include "support/fake_generation_server.h"
#include "support/temp_dir.h"

namespace auditship::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Shaped like real keys, so a leak through any encoding of the same bytes would be obvious.
const std::string kApiKey = "sk-or-v1-5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e7abcd";
const std::string kHmacKey = "hmac-5ecre7-key-0123456789abcdef";

// Every frame of every disk-buffer segment under `dir`, decoded: payloads, keys and fields.
std::string buffered_text(const std::string& dir, std::size_t& frames) {
  std::string text;
  frames = 0;
  if (!std::filesystem::exists(dir)) return text;
  for (const auto& f : files_under(dir)) {
    const std::string bytes = read_file(f);
    if (!buffer::valid_segment_header(bytes)) continue;
    buffer::for_each_frame(bytes, 0, [&](const buffer::FrameScan& scan) {
      auto batch = buffer::decode_frame(scan);
      if (!batch) return;
      ++frames;
      for (const Record& r : (*batch)->records) text += std::string((*batch)->payload(r)) + '\n';
      text += (*batch)->fields;
    });
  }
  return text;
}

TEST(Secrets, NeitherKeyAppearsInAnythingTheAgentWrites) {
  FakeGenerationServer server({.accepted_keys = {kApiKey}});
  MockCluster cluster(4);
  TopicFollower records(cluster.bootstrap(), "openrouter-audit"), dead(cluster.bootstrap(), "openrouter-audit-dlq");
  TempDir dir;
  RotatingLog a(dir.subdir("logs"), "a.jsonl", "a");
  a.append(300);
  write_file(a.path(), "{\"not json\n", true);  // a dead letter too
  const std::string extra =
      "log:\n  level: debug\n"
      "redact:\n  fields: { user_id: hash }\n  hash_key_env: AUDITSHIP_TEST_HMAC\n"
      "enrich:\n  enabled: true\n  endpoint: \"" + server.url() + "\"\n  ca_file: \"" + server.ca_file() +
      "\"\n  api_key_env: AUDITSHIP_TEST_API_KEY\n  initial_delay: 0ms\n"
      "buffer:\n  max_disk_bytes: 64MiB\n  spill_after: 200ms\n";
  Agent agent(dir, test_config(dir.file("logs") + "/*.jsonl", dir.file("state"), cluster.bootstrap(), extra), {},
              {"AUDITSHIP_TEST_API_KEY=" + kApiKey, "AUDITSHIP_TEST_HMAC=" + kHmacKey});
  ASSERT_TRUE(wait_delivered(records, {{"a", 300}}, seconds(60))) << agent.log();
  ASSERT_TRUE(dead.wait_for(1, seconds(30))) << agent.log();
  // Kafka away: what arrives now is spilled to the disk buffer; read it there before replay
  // ships and deletes it.
  cluster.command("down");
  // In chunks: what reached the Kafka sink before the outage showed stays in memory; a batch
  // arriving while an older one waits longer than spill_after goes to disk.
  for (int i = 0; i < 4; ++i) {
    a.append(75);
    std::this_thread::sleep_for(milliseconds(400));
  }
  std::size_t frames = 0;
  std::string buffered;
  ASSERT_TRUE(eventually([&] { return !(buffered = buffered_text(dir.file("state/buffer"), frames)).empty(); },
                         seconds(30)))
      << agent.log();
  EXPECT_EQ(buffered.find("\"user_id\":\"u_"), std::string::npos) << "the buffer holds redacted records only";
  cluster.command("up");
  ASSERT_TRUE(wait_delivered(records, {{"a", a.written()}}, seconds(60))) << agent.log();
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(agent.stop(), 0) << agent.log();

  // The keys were really used: lookups authenticated (the server accepts only kApiKey) and
  // user_id was hashed.
  EXPECT_GE(server.request_count(), 1u);
  for (const auto& r : server.requests()) EXPECT_EQ(r.status, 200) << r.id;
  const std::string first = records.messages().at(0).value;
  EXPECT_NE(first.find("\"openrouter\":"), std::string::npos) << first;
  EXPECT_EQ(first.find("\"user_id\":\"u_"), std::string::npos) << "user_id is hashed: " << first;

  std::vector<std::pair<std::string, std::string>> written;  // (where, text)
  written.emplace_back("agent log", agent.log());
  written.emplace_back("agent stdout", read_file(dir.file("agent.out")));
  for (const auto* topic : {&records, &dead})
    for (const auto& m : topic->messages()) {
      std::string all = m.key + '\n' + m.value;
      for (const auto& [k, v] : m.headers) all += '\n' + k + '=' + v;
      written.emplace_back("kafka message", all);
    }
  for (const auto& f : files_under(dir.file("state"))) written.emplace_back(f, read_file(f));
  written.emplace_back("disk buffer frames, decoded", buffered);
  ASSERT_GE(written.size(), 4u);
  std::size_t bytes = 0;
  for (const auto& [where, text] : written) {
    bytes += text.size();
    EXPECT_EQ(text.find(kApiKey), std::string::npos) << "API key found in " << where;
    EXPECT_EQ(text.find(kApiKey.substr(9)), std::string::npos) << "API key body found in " << where;
    EXPECT_EQ(text.find(kHmacKey), std::string::npos) << "HMAC key found in " << where;
  }
  std::printf("secrets: searched %zu outputs (%zu bytes): log, stdout, %zu Kafka messages, state_dir, %zu disk "
              "buffer frames decoded; 0 hits\n",
              written.size(), bytes, records.count() + dead.count(), frames);
}

TEST(Secrets, ConfigReadableByOthersWithASecretIsWarnedAboutAndNeverPrinted) {
  TempDir dir;
  const std::string secret = "s3cr3t-sasl-pa55word";
  const std::string file = dir.file("auditship.yaml");
  write_file(dir.file("hmac.key"), kHmacKey);
  write_file(file, "sources:\n  - path: \"" + dir.file("*.jsonl") + "\"\nstate_dir: \"" + dir.file("state") +
                       "\"\nkafka:\n  brokers: \"127.0.0.1:9\"\n  properties: { sasl.password: \"" + secret +
                       "\", sasl.username: \"agent\" }\nredact:\n  fields: { user_id: hash }\n  hash_key_file: \"" +
                       dir.file("hmac.key") + "\"\n");
  ::chmod(file.c_str(), 0644);
  ::chmod(dir.file("hmac.key").c_str(), 0644);
  auto check = run_and_capture(AUDITSHIP_BINARY, {"check", "-c", file});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.err.find("warning: config file '" + file + "' (mode 0644) is readable by other users"),
            std::string::npos)
      << check.err;
  EXPECT_NE(check.err.find("kafka.properties.sasl.password"), std::string::npos) << check.err;
  EXPECT_NE(check.err.find("key file '" + dir.file("hmac.key") + "' (redact.hash_key_file, mode 0644)"),
            std::string::npos)
      << check.err;
  EXPECT_EQ((check.out + check.err).find(secret), std::string::npos) << "check never prints the password";
  EXPECT_NE(check.out.find("sasl.password: \"<redacted>\""), std::string::npos) << check.out;

  ::chmod(file.c_str(), 0600);
  ::chmod(dir.file("hmac.key").c_str(), 0600);
  check = run_and_capture(AUDITSHIP_BINARY, {"check", "-c", file});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_EQ(check.err.find("warning"), std::string::npos) << check.err;

  // `run` warns at startup too (in its JSON log).
  ::chmod(file.c_str(), 0640);
  Process run(AUDITSHIP_BINARY, {"run", "-c", file}, {.stdout_file = dir.file("out"), .stderr_file = dir.file("err")});
  ASSERT_TRUE(eventually([&] { return read_file(dir.file("err")).find("secret readable by other users") != std::string::npos; },
                         seconds(10)))
      << read_file(dir.file("err"));
  run.signal(SIGTERM);
  run.wait(seconds(30));
  EXPECT_EQ(read_file(dir.file("err")).find(secret), std::string::npos) << "the log never carries the password";
}

}  // namespace
}  // namespace auditship::testing
