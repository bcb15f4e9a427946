#include "auditship/redact/hash_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "auditship/config/config.h"
#include "auditship/redact/redactor.h"
#include "support/temp_dir.h"

namespace auditship::redact {
namespace {

using testing::read_file;
using testing::TempDir;

RedactConfig hashing_user_id() { return config::Config{}.redact; }  // the agent's default

TEST(HostHashKey, TheAgentDefaultPseudonymisesUserId) {
  EXPECT_EQ(hashing_user_id().fields, (std::map<std::string, std::string>{{"user_id", "hash"}}));
}

TEST(HostHashKey, GeneratedOnceWithOwnerOnlyPermissionsAndReused) {
  TempDir dir;
  RedactConfig first = hashing_user_id();
  ASSERT_TRUE(use_host_hash_key(first, dir.path(), true));
  EXPECT_EQ(first.hash_key_file, dir.file("hash.key"));
  const std::string key = read_file(dir.file("hash.key"));
  ASSERT_EQ(key.size(), 65u) << "32 random bytes as hex and a newline";
  EXPECT_EQ(key.find_first_not_of("0123456789abcdef\n"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("hash.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  RedactConfig again = hashing_user_id();
  ASSERT_TRUE(use_host_hash_key(again, dir.path(), true));
  EXPECT_EQ(read_file(dir.file("hash.key")), key) << "a restart keeps the key, so pseudonyms are stable";

  // And the Redactor accepts it: the same user gets the same pseudonym from both.
  auto a = Redactor::make(first), b = Redactor::make(again);
  ASSERT_TRUE(a) << a.error();
  ASSERT_TRUE(b) << b.error();
  std::string out_a, out_b;
  ASSERT_TRUE((*a)->redact_json(R"({"user_id":"alice@example.com"})", out_a));
  ASSERT_TRUE((*b)->redact_json(R"({"user_id":"alice@example.com"})", out_b));
  EXPECT_EQ(out_a, out_b);
  EXPECT_EQ(out_a.find("alice"), std::string::npos) << out_a;
  EXPECT_EQ(out_a.find("[EMAIL]"), std::string::npos) << "a pseudonym, not the shared placeholder: " << out_a;
}

TEST(HostHashKey, DifferentHostsGetDifferentKeys) {
  TempDir one, two;
  RedactConfig a = hashing_user_id(), b = hashing_user_id();
  ASSERT_TRUE(use_host_hash_key(a, one.path(), true));
  ASSERT_TRUE(use_host_hash_key(b, two.path(), true));
  EXPECT_NE(read_file(one.file("hash.key")), read_file(two.file("hash.key")));
}

TEST(HostHashKey, AConfiguredKeyOrNoHashFieldLeavesTheConfigAlone) {
  TempDir dir;
  RedactConfig with_file = hashing_user_id();
  with_file.hash_key_file = "/etc/auditship/hmac.key";
  ASSERT_TRUE(use_host_hash_key(with_file, dir.path(), true));
  EXPECT_EQ(with_file.hash_key_file, "/etc/auditship/hmac.key");
  RedactConfig with_env = hashing_user_id();
  with_env.hash_key_env = "AUDITSHIP_HMAC";
  ASSERT_TRUE(use_host_hash_key(with_env, dir.path(), true));
  EXPECT_TRUE(with_env.hash_key_file.empty());
  RedactConfig no_hash;  // the component's own default: no field policies
  ASSERT_TRUE(use_host_hash_key(no_hash, dir.path(), true));
  EXPECT_TRUE(no_hash.hash_key_file.empty());
  EXPECT_NE(::access(dir.file("hash.key").c_str(), F_OK), 0) << "no key file made when none is needed";
}

TEST(HostHashKey, WithoutCreateAMissingKeyIsAClearError) {
  TempDir dir;
  RedactConfig c = hashing_user_id();
  Status s = use_host_hash_key(c, dir.path(), false);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find(dir.file("hash.key")), std::string::npos) << s.error();
}

TEST(HostHashKey, AnUnwritableStateDirIsAClearError) {
  RedactConfig c = hashing_user_id();
  Status s = use_host_hash_key(c, "/nonexistent/auditship-state", true);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find("/nonexistent/auditship-state/hash.key"), std::string::npos) << s.error();
}

}  // namespace
}  // namespace auditship::redact
