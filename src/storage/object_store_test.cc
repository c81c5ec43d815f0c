#include "storage/object_store.h"

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A fresh temporary folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "kiln-storage-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void ExpectInvalid(const ObjectStore& store, absl::string_view uri, absl::string_view want) {
  absl::StatusOr<std::string> got = store.ToLocalPath(uri, "job.packageUris[0]");
  ASSERT_FALSE(got.ok()) << uri << " mapped to " << *got;
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << uri;
  EXPECT_THAT(got.status().message(), HasSubstr("job.packageUris[0]: ")) << uri;
  EXPECT_THAT(got.status().message(), HasSubstr(want)) << uri;
}

TEST(ObjectStoreTest, MapsGsUrisUnderTheRoot) {
  ObjectStore store("/kiln/storage");
  EXPECT_EQ(*store.ToLocalPath("gs://my-bucket/a/b.txt", "f"), "/kiln/storage/my-bucket/a/b.txt");
  EXPECT_EQ(*store.ToLocalPath("gs://my-bucket", "f"), "/kiln/storage/my-bucket");
  EXPECT_EQ(*store.ToLocalPath("gs://my-bucket/", "f"), "/kiln/storage/my-bucket/");
}

TEST(ObjectStoreTest, KeepsTrailingSlash) {
  ObjectStore store("/kiln/storage/");  // the root's own trailing slash is dropped
  EXPECT_EQ(*store.ToLocalPath("gs://b12/out/model/", "f"), "/kiln/storage/b12/out/model/");
  EXPECT_EQ(*store.ToLocalPath("gs://b12/out/model", "f"), "/kiln/storage/b12/out/model");
}

TEST(ObjectStoreTest, MapsFileUris) {
  ObjectStore store("/kiln/storage");
  EXPECT_EQ(*store.ToLocalPath("file:///tmp/pkg.tar.gz", "f"), "/tmp/pkg.tar.gz");
  EXPECT_EQ(*store.ToLocalPath("file:///tmp/dir/", "f"), "/tmp/dir/");
  EXPECT_EQ(*store.ToLocalPath("file://localhost/tmp/x", "f"), "/tmp/x");
  ExpectInvalid(store, "file://host/tmp/x", "file:///ABSOLUTE/PATH");
  ExpectInvalid(store, "file://tmp", "file:///ABSOLUTE/PATH");
  ExpectInvalid(store, "file:///tmp/../etc/passwd", "'..' path segment");
}

TEST(ObjectStoreTest, RejectsOtherSchemesAndNonUris) {
  ObjectStore store("/kiln/storage");
  ExpectInvalid(store, "", "is required");
  ExpectInvalid(store, "s3://bucket/x", "unsupported URI scheme 's3://'");
  ExpectInvalid(store, "https://storage.googleapis.com/b/x", "unsupported URI scheme 'https://'");
  ExpectInvalid(store, "/abs/path", "is not a URI");
  ExpectInvalid(store, "GS://bucket/x", "unsupported URI scheme 'GS://'");
}

TEST(ObjectStoreTest, RejectsBadBucketNames) {
  ObjectStore store("/kiln/storage");
  ExpectInvalid(store, "gs://", "has no bucket name");
  ExpectInvalid(store, "gs:///x", "has no bucket name");
  ExpectInvalid(store, "gs://ab/x", "not a valid bucket name");
  ExpectInvalid(store, "gs://" + std::string(64, 'a') + "/x", "not a valid bucket name");
  ExpectInvalid(store, "gs://Upper/x", "not a valid bucket name");
  ExpectInvalid(store, "gs://-abc/x", "not a valid bucket name");
  ExpectInvalid(store, "gs://abc-/x", "not a valid bucket name");
  ExpectInvalid(store, "gs://a b c/x", "not a valid bucket name");
  ExpectInvalid(store, "gs://../x", "not a valid bucket name");
  ExpectInvalid(store, "gs://%2e%2e/x", "not a valid bucket name");
  EXPECT_TRUE(store.ToLocalPath("gs://" + std::string(63, 'a'), "f").ok());
  EXPECT_TRUE(store.ToLocalPath("gs://a.b_c-d/x", "f").ok());
  EXPECT_TRUE(IsValidBucketName("abc"));
  EXPECT_FALSE(IsValidBucketName("a.."));
}

TEST(ObjectStoreTest, RejectsEveryEscapeTrick) {
  ObjectStore store("/kiln/storage");
  ExpectInvalid(store, "gs://bucket/../other/x", "'..' path segment");
  ExpectInvalid(store, "gs://bucket/a/../../x", "'..' path segment");
  ExpectInvalid(store, "gs://bucket/..", "'..' path segment");
  ExpectInvalid(store, "gs://bucket/./x", "'.' path segment");
  ExpectInvalid(store, "gs://bucket/%2e%2e/x", "'..' path segment");
  ExpectInvalid(store, "gs://bucket/%2E%2E/x", "'..' path segment");
  ExpectInvalid(store, "gs://bucket/.%2e/x", "'..' path segment");
  ExpectInvalid(store, "gs://bucket/a%2f..%2fx", "'..' path segment");
  ExpectInvalid(store, "gs://bucket/..\\x", "backslash");
  ExpectInvalid(store, "gs://bucket/a%5cb", "backslash");
  ExpectInvalid(store, std::string("gs://bucket/a\0b", 14), "NUL");
  ExpectInvalid(store, "gs://bucket/a%00b", "NUL");
  // Dots inside names are fine, and so are stray percent signs.
  EXPECT_EQ(*store.ToLocalPath("gs://bucket/a..b/.hidden/x.", "f"), "/kiln/storage/bucket/a..b/.hidden/x.");
  EXPECT_EQ(*store.ToLocalPath("gs://bucket/100%/%zz", "f"), "/kiln/storage/bucket/100%/%zz");
}

TEST(ObjectStoreTest, RejectsSymlinksThatLeaveTheBucket) {
  TempDir tmp;
  std::string root = tmp.path() + "/storage";
  fs::create_directories(root + "/bucket/inside");
  fs::create_directories(tmp.path() + "/outside");
  fs::create_directory_symlink(tmp.path() + "/outside", root + "/bucket/escape");
  fs::create_directory_symlink("../../outside", root + "/bucket/relative-escape");
  fs::create_directory_symlink("inside", root + "/bucket/ok-link");
  fs::create_symlink(tmp.path() + "/outside/not-yet", root + "/bucket/dangling");
  ObjectStore store(root);

  ExpectInvalid(store, "gs://bucket/escape/x", "outside the bucket's folder");
  ExpectInvalid(store, "gs://bucket/escape", "outside the bucket's folder");
  ExpectInvalid(store, "gs://bucket/relative-escape/x", "outside the bucket's folder");
  ExpectInvalid(store, "gs://bucket/dangling", "outside the bucket's folder");
  EXPECT_EQ(*store.ToLocalPath("gs://bucket/ok-link/x", "f"), root + "/bucket/ok-link/x");
  EXPECT_EQ(*store.ToLocalPath("gs://bucket/missing/deeper/", "f"), root + "/bucket/missing/deeper/");
}

TEST(ObjectStoreTest, BucketRootMayItselfBeASymlink) {
  TempDir tmp;
  fs::create_directories(tmp.path() + "/real/data");
  fs::create_directories(tmp.path() + "/storage");
  fs::create_directory_symlink(tmp.path() + "/real", tmp.path() + "/storage/linked");
  ObjectStore store(tmp.path() + "/storage");
  EXPECT_EQ(*store.ToLocalPath("gs://linked/data/x", "f"), tmp.path() + "/storage/linked/data/x");
}

TEST(ObjectStoreTest, BucketOverrides) {
  ObjectStore store("/kiln/storage", {{"datasets", "/srv/datasets/"}, {"scratch", "/scratch"}});
  EXPECT_EQ(*store.ToLocalPath("gs://datasets/x/y.csv", "f"), "/srv/datasets/x/y.csv");
  EXPECT_EQ(*store.ToLocalPath("gs://datasets/", "f"), "/srv/datasets/");
  EXPECT_EQ(*store.ToLocalPath("gs://other/x", "f"), "/kiln/storage/other/x");
  ExpectInvalid(store, "gs://datasets/../x", "'..' path segment");
  EXPECT_EQ(*store.ToUri("/srv/datasets/x/y.csv"), "gs://datasets/x/y.csv");
  EXPECT_EQ(*store.ToUri("/scratch"), "gs://scratch");
  EXPECT_EQ(*store.ToUri("/scratch/"), "gs://scratch/");
  // <root>/<overridden bucket> is not where that bucket lives.
  EXPECT_EQ(store.ToUri("/kiln/storage/datasets/x"), std::nullopt);
}

TEST(ObjectStoreTest, ToUriInvertsToLocalPath) {
  ObjectStore store("/kiln/storage");
  for (const char* uri : {"gs://bucket", "gs://bucket/", "gs://bucket/a/b.txt", "gs://bucket/a/b/"}) {
    EXPECT_EQ(*store.ToUri(*store.ToLocalPath(uri, "f")), uri);
  }
  EXPECT_EQ(*store.ToUri("/kiln/storage/bucket/a/./b//c"), "gs://bucket/a/b/c");
  EXPECT_EQ(store.ToUri("/kiln/storage"), std::nullopt);
  EXPECT_EQ(store.ToUri("/kiln/storage/"), std::nullopt);
  EXPECT_EQ(store.ToUri("/kiln/storage/UP/x"), std::nullopt);
  EXPECT_EQ(store.ToUri("/kiln/storagex/bucket"), std::nullopt);
  EXPECT_EQ(store.ToUri("/kiln/storage/bucket/../../etc"), std::nullopt);
  EXPECT_EQ(store.ToUri("relative/path"), std::nullopt);
  EXPECT_EQ(store.ToUri("/tmp/x"), std::nullopt);
}

TEST(ObjectStoreTest, RelativeRootIsMadeAbsolute) {
  ObjectStore store("relative/storage");
  EXPECT_TRUE(fs::path(store.root()).is_absolute());
  EXPECT_EQ(*store.ToLocalPath("gs://bucket/x", "f"), store.root() + "/bucket/x");
}

}  // namespace
}  // namespace kiln::storage
