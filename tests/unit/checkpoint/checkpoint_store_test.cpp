#include "auditship/checkpoint/checkpoint_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/temp_dir.h"

namespace auditship::checkpoint {
namespace {

SourceFile source(std::uint64_t id, std::uint64_t ino, std::uint64_t fp = 0xabc) {
  SourceFile s;
  s.id = id;
  s.path = "/logs/f" + std::to_string(ino);
  s.dev = 1;
  s.ino = ino;
  s.fingerprint = fp;
  s.fingerprint_bytes = 42;
  return s;
}

TEST(CheckpointStore, PersistsAndReloads) {
  testing::TempDir dir;
  {
    auto store = CheckpointStore::open(dir.path());
    ASSERT_TRUE(store.ok()) << store.error();
    (*store)->update(source(1, 10), 1234);
    (*store)->update(source(2, 11), 99);
    ASSERT_TRUE((*store)->persist().ok());
    EXPECT_FALSE(std::filesystem::exists(dir.file("checkpoints.json.tmp")));
  }
  auto again = CheckpointStore::open(dir.path());
  ASSERT_TRUE(again.ok()) << again.error();
  auto c = (*again)->find(1, 10);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->offset, 1234u);
  EXPECT_EQ(c->fingerprint, 0xabcu);
  EXPECT_EQ(c->fingerprint_bytes, 42u);
  EXPECT_EQ(c->path, "/logs/f10");
  EXPECT_FALSE((*again)->find(1, 12).has_value());
}

TEST(CheckpointStore, OffsetsOnlyMoveForward) {
  testing::TempDir dir;
  auto store = CheckpointStore::open(dir.path());
  ASSERT_TRUE(store.ok());
  (*store)->update(source(1, 10), 500);
  (*store)->update(source(1, 10), 100);
  EXPECT_EQ((*store)->find(1, 10)->offset, 500u);
}

TEST(CheckpointStore, ANewerGenerationOfTheSameInodeWins) {
  testing::TempDir dir;
  auto store = CheckpointStore::open(dir.path());
  ASSERT_TRUE(store.ok());
  (*store)->update(source(1, 10, 0x1), 5000);
  (*store)->update(source(2, 10, 0x2), 40);      // copytruncate: a new SourceFile, same inode
  (*store)->update(source(1, 10, 0x1), 6000);    // a late ack for the old generation
  auto c = (*store)->find(1, 10);
  EXPECT_EQ(c->offset, 40u);
  EXPECT_EQ(c->fingerprint, 0x2u);
}

TEST(CheckpointStore, CorruptFileIsAnErrorNamingIt) {
  testing::TempDir dir;
  testing::write_file(dir.file("checkpoints.json"), "{\"version\":1,\"files\":[{\"dev\":1");
  auto store = CheckpointStore::open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().find(dir.file("checkpoints.json")), std::string::npos) << store.error();
  EXPECT_NE(store.error().find("corrupt"), std::string::npos) << store.error();
}

TEST(CheckpointStore, AFlippedDigitIsCaughtByTheChecksum) {
  testing::TempDir dir;
  {
    auto store = CheckpointStore::open(dir.path());
    ASSERT_TRUE(store.ok());
    (*store)->update(source(1, 10), 123456);
    ASSERT_TRUE((*store)->persist().ok());
  }
  std::string text = testing::read_file(dir.file("checkpoints.json"));
  const auto at = text.find("123456");
  ASSERT_NE(at, std::string::npos) << text;
  text[at + 1] = '9';  // still valid JSON, a different offset
  testing::write_file(dir.file("checkpoints.json"), text);
  auto store = CheckpointStore::open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().find("checksum mismatch"), std::string::npos) << store.error();
}

TEST(CheckpointStore, VersionOneFilesWithoutChecksumStillLoad) {
  testing::TempDir dir;
  testing::write_file(dir.file("checkpoints.json"),
                      "{\"version\":1,\"files\":[\n{\"dev\":1,\"ino\":10,\"fingerprint\":\"0000000000000abc\","
                      "\"fingerprint_bytes\":42,\"offset\":77,\"path\":\"/logs/f10\"}\n]}\n");
  auto store = CheckpointStore::open(dir.path());
  ASSERT_TRUE(store.ok()) << store.error();
  EXPECT_EQ((*store)->find(1, 10)->offset, 77u);
}

TEST(CheckpointStore, EmptyFileIsCorruptToo) {
  testing::TempDir dir;
  testing::write_file(dir.file("checkpoints.json"), "");  // a crash on a file system that lost the data
  auto store = CheckpointStore::open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().find("corrupt"), std::string::npos) << store.error();
}

TEST(CheckpointStore, RestartFromBeginningMovesTheCorruptFileAsideAndStartsEmpty) {
  testing::TempDir dir;
  testing::write_file(dir.file("checkpoints.json"), "{\"version\":1,\"fi\x01\x02");
  auto store = CheckpointStore::open(dir.path(), CheckpointStore::OnCorrupt::kRestartFromBeginning);
  ASSERT_TRUE(store.ok()) << store.error();
  EXPECT_TRUE((*store)->restarted_after_corruption());
  EXPECT_TRUE((*store)->snapshot().empty());
  EXPECT_FALSE(std::filesystem::exists(dir.file("checkpoints.json")));
  int aside = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    if (e.path().filename().string().rfind("checkpoints.json.corrupt-", 0) == 0) {
      ++aside;
      EXPECT_EQ(testing::read_file(e.path().string()), "{\"version\":1,\"fi\x01\x02") << "kept as it was";
    }
  EXPECT_EQ(aside, 1);
  // A readable file is not touched by the policy.
  (*store)->update(source(1, 10), 7);
  ASSERT_TRUE((*store)->persist().ok());
  auto again = CheckpointStore::open(dir.path(), CheckpointStore::OnCorrupt::kRestartFromBeginning);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE((*again)->restarted_after_corruption());
  EXPECT_EQ((*again)->find(1, 10)->offset, 7u);
}

TEST(CheckpointStore, StateDirThatIsAFileIsAnError) {
  testing::TempDir dir;
  testing::write_file(dir.file("f"), "x");
  EXPECT_FALSE(CheckpointStore::open(dir.file("f")).ok());
}

}  // namespace
}  // namespace auditship::checkpoint
