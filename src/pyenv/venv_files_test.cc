#include "pyenv/venv_files.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::pyenv::internal {
namespace {

class VenvFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/kiln-venvfiles-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(VenvFilesTest, Sha256OfFileMatchesKnownVector) {
  std::ofstream(dir_ + "/f") << "abc";
  EXPECT_EQ(absl::BytesToHexString(Sha256OfFile(dir_ + "/f").value()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256OfFile(dir_ + "/missing").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(VenvFilesTest, FieldsAreLengthPrefixedAndCannotRunTogether) {
  // Venv keys on disk depend on this framing: sha256(8-byte little-endian length + bytes).
  Sha256 one;
  UpdateField(&one, "abc");
  EXPECT_EQ(one.FinalHex().value(), "ce91dc5eec0139adf091900d225971d6ad246a845bad791b5693a9d0d55dd391");
  Sha256 a, b;
  UpdateField(&a, "ab");
  UpdateField(&a, "c");
  UpdateField(&b, "a");
  UpdateField(&b, "bc");
  EXPECT_NE(a.Final().value(), b.Final().value());
}

TEST_F(VenvFilesTest, FileLockExcludesAndSurvivesUnlink) {
  const std::string path = dir_ + "/k.lock";
  absl::StatusOr<FileLock> held = FileLock::Lock(path, absl::InfiniteFuture());
  ASSERT_TRUE(held.ok()) << held.status();
  absl::StatusOr<std::optional<FileLock>> second = FileLock::TryLock(path);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->has_value());
  EXPECT_EQ(FileLock::Lock(path, absl::Now() + absl::Milliseconds(50)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  { FileLock released = std::move(*held); }
  second = FileLock::TryLock(path);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->has_value());
  // An evictor unlinks the file while holding it: the next locker gets a fresh file.
  ASSERT_EQ(std::filesystem::remove(path), true);
  absl::StatusOr<std::optional<FileLock>> third = FileLock::TryLock(path);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->has_value());
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST_F(VenvFilesTest, ReadTailAndPipErrors) {
  std::ofstream(dir_ + "/log") << "a\nb\nc\nd\n";
  EXPECT_EQ(ReadTail(dir_ + "/log", 2, 100), "c\nd");
  EXPECT_EQ(ReadTail(dir_ + "/log", 10, 100), "a\nb\nc\nd");
  EXPECT_EQ(ReadTail(dir_ + "/log", 10, 3), "c\nd");
  EXPECT_EQ(ReadTail(dir_ + "/missing", 10, 100), "");
  EXPECT_EQ(ExtractPipErrors("Processing x\nERROR: Could not find a version that satisfies "
                             "the requirement foo\nERROR: No matching distribution found for "
                             "foo\nERROR: No matching distribution found for foo\n"),
            "ERROR: Could not find a version that satisfies the requirement foo\n"
            "ERROR: No matching distribution found for foo");
}

TEST_F(VenvFilesTest, RewritePathInTextFilesOnly) {
  std::ofstream(dir_ + "/script") << "#!/build/venv/bin/python\nimport x\n";
  ::chmod((dir_ + "/script").c_str(), 0755);
  std::ofstream(dir_ + "/binary") << std::string("/build/venv\0x", 13);
  std::filesystem::create_symlink("/build/venv", dir_ + "/link");
  ASSERT_TRUE(RewritePathInTextFiles(dir_, "/build/venv", "/cache/abc").ok());
  std::ifstream script(dir_ + "/script");
  std::stringstream content;
  content << script.rdbuf();
  EXPECT_EQ(content.str(), "#!/cache/abc/bin/python\nimport x\n");
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/script").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_EQ(std::filesystem::file_size(dir_ + "/binary"), 13u);
  EXPECT_EQ(std::filesystem::read_symlink(dir_ + "/link"), "/build/venv");
}

}  // namespace
}  // namespace kiln::pyenv::internal
