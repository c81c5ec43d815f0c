#include "registry/snapshot.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "registry/registry_test_util.h"

namespace kiln::registry {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class SnapshotTest : public RegistryFixture {};

TEST_F(SnapshotTest, CopiesTreeAndDigestsContentAndPaths) {
  Put("src/a.txt", "alpha");
  Put("src/d/b.txt", "beta");
  fs::path src = root_ / "storage/src", dest = root_ / "dest";
  auto stats = SnapshotTree(src.string(), dest.string(), "gs://src");
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->files, 2);
  EXPECT_EQ(stats->bytes, 9);
  EXPECT_EQ(Read(dest / "d/b.txt"), "beta");
  EXPECT_EQ(*DigestTree(src.string()), stats->digest);  // the source has no .kiln-digest yet
  EXPECT_EQ(stats->digest.size(), 7u + 64u);

  Put("src2/a.txt", "alpha");
  Put("src2/d/c.txt", "beta");  // same bytes, other path
  EXPECT_NE(*DigestTree((root_ / "storage/src2").string()), stats->digest);
}

TEST_F(SnapshotTest, DigestFormatIsStable) {
  // Stored digests depend on it: per file in path order, the path with a NUL, its size as 8
  // little-endian bytes, then its bytes (the value below is Python's hashlib over the same).
  Put("src/a.txt", "alpha");
  Put("src/d/b.txt", "beta");
  EXPECT_EQ(*DigestTree((root_ / "storage/src").string()),
            "sha256:1c705b6cb37e8e284b674f0df9a0a0d4f9541c58ee07ce0e81d7c7c65d44fe15");
}

TEST_F(SnapshotTest, RefusesSymlinksAndEmptyFolders) {
  Put("src/a.txt", "alpha");
  fs::create_symlink("/etc/passwd", root_ / "storage/src/link");
  auto linked = SnapshotTree((root_ / "storage/src").string(), (root_ / "d1").string(), "gs://src");
  EXPECT_EQ(linked.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(linked.status().message(), HasSubstr("symlink link"));
  fs::create_directories(root_ / "storage/empty/sub");
  auto empty = SnapshotTree((root_ / "storage/empty").string(), (root_ / "d2").string(), "gs://empty");
  EXPECT_EQ(empty.status().message(), "no model artifacts at gs://empty");
  EXPECT_FALSE(fs::exists(root_ / "d2"));
}

}  // namespace
}  // namespace kiln::registry
