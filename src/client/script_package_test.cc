#include "client/script_package.h"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kiln::client {
namespace {

namespace fs = std::filesystem;

struct Member {
  std::string contents;
  mode_t mode = 0;
  time_t mtime = 0;
  int64_t uid = -1;
};

// The archive's members in order, read back with libarchive.
std::vector<std::pair<std::string, Member>> ReadMembers(const std::string& bytes) {
  std::vector<std::pair<std::string, Member>> members;
  archive* a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK) << archive_error_string(a);
  archive_entry* entry = nullptr;
  while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
    Member m;
    m.mode = archive_entry_mode(entry);
    m.mtime = archive_entry_mtime(entry);
    m.uid = archive_entry_uid(entry);
    char buffer[4096];
    la_ssize_t n;
    while ((n = archive_read_data(a, buffer, sizeof(buffer))) > 0) m.contents.append(buffer, static_cast<size_t>(n));
    members.emplace_back(archive_entry_pathname(entry), m);
  }
  archive_read_free(a);
  return members;
}

class ScriptPackageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / absl::StrCat("kiln-script-package-", getpid(), "-",
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  fs::path dir_;
};

TEST_F(ScriptPackageTest, ArchiveHoldsTheSdistLayout) {
  const std::string script = "import sys\nprint('training', sys.argv[1:])\n";
  auto package = PackageScript(Write("train.py", script));
  ASSERT_TRUE(package.ok()) << package.status();
  EXPECT_EQ(package->file_name, "aiplatform_custom_trainer_script-0.1.tar.gz");
  EXPECT_EQ(package->python_module, "aiplatform_custom_trainer_script.task");

  auto members = ReadMembers(package->archive_bytes);
  std::vector<std::string> names;
  std::map<std::string, Member> by_name;
  for (const auto& [name, member] : members) {
    names.push_back(name);
    by_name[name] = member;
  }
  const std::string root = "aiplatform_custom_trainer_script-0.1/";
  const std::string pkg = root + "aiplatform_custom_trainer_script/";
  EXPECT_EQ(names, (std::vector<std::string>{root, root + "PKG-INFO", root + "setup.py", pkg, pkg + "__init__.py",
                                             pkg + "task.py"}));
  EXPECT_EQ(by_name[pkg + "task.py"].contents, script);
  EXPECT_EQ(by_name[pkg + "__init__.py"].contents, "");
  EXPECT_NE(by_name[root + "setup.py"].contents.find("packages=[\"aiplatform_custom_trainer_script\"]"),
            std::string::npos)
      << by_name[root + "setup.py"].contents;
  EXPECT_NE(by_name[root + "PKG-INFO"].contents.find("Name: aiplatform_custom_trainer_script\nVersion: 0.1\n"),
            std::string::npos);
  EXPECT_EQ(by_name[pkg + "task.py"].mode & 0777, 0644u);
  EXPECT_EQ(by_name[pkg].mode & 0777, 0755u);
  EXPECT_EQ(by_name[pkg + "task.py"].mtime, 315532800);
  EXPECT_EQ(by_name[pkg + "task.py"].uid, 0);
}

TEST_F(ScriptPackageTest, SameScriptSameBytes) {
  std::string path = Write("train.py", "print('x')\n");
  auto first = PackageScript(path);
  ASSERT_TRUE(first.ok()) << first.status();
  // A later mtime on the script changes nothing.
  fs::last_write_time(path, fs::file_time_type::clock::now() + std::chrono::hours(1));
  auto second = PackageScript(path);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->archive_bytes, second->archive_bytes);
  auto other = PackageScript(Write("other.py", "print('y')\n"));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(first->archive_bytes, other->archive_bytes);
}

TEST_F(ScriptPackageTest, CustomPackageName) {
  auto package = PackageScript(Write("train.py", "pass\n"), "my-trainer");
  ASSERT_TRUE(package.ok()) << package.status();
  EXPECT_EQ(package->file_name, "my-trainer-0.1.tar.gz");
  EXPECT_EQ(package->python_module, "aiplatform_custom_trainer_script.task");
  auto members = ReadMembers(package->archive_bytes);
  ASSERT_EQ(members.size(), 6u);
  EXPECT_EQ(members[5].first, "my-trainer-0.1/aiplatform_custom_trainer_script/task.py");
  EXPECT_NE(members[2].second.contents.find("name=\"my-trainer\""), std::string::npos);
}

TEST_F(ScriptPackageTest, Errors) {
  EXPECT_EQ(PackageScript((dir_ / "missing.py").string()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(PackageScript(dir_.string()).status().code(), absl::StatusCode::kInvalidArgument);
  std::string path = Write("train.py", "pass\n");
  for (const char* bad : {"", "bad name", "x\"); import os #", "-lead", "trail.", "a/b"}) {
    EXPECT_EQ(PackageScript(path, bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

// The archive installs offline with pip and the module runs the script.
TEST_F(ScriptPackageTest, PipInstallsItAndTheModuleRuns) {
  const std::string python = "/usr/bin/python3";
  if (!fs::exists(python) || std::system(absl::StrCat(python, " -c 'import setuptools' >/dev/null 2>&1 && ", python,
                                                      " -m pip --version >/dev/null 2>&1")
                                             .c_str()) != 0) {
    GTEST_SKIP() << "SKIPPED LOUDLY: " << python << " with pip and setuptools is not available; the offline "
                 << "`pip install` of the script package was NOT checked";
  }
  const std::string script =
      "import sys\n"
      "with open(sys.argv[1], 'w') as f:\n"
      "    f.write('ran:' + __name__ + ':' + ','.join(sys.argv[2:]))\n";
  auto package = PackageScript(Write("train.py", script));
  ASSERT_TRUE(package.ok()) << package.status();
  const std::string archive = (dir_ / package->file_name).string();
  std::ofstream(archive, std::ios::binary) << package->archive_bytes;
  const std::string site = (dir_ / "site").string();
  const std::string log = (dir_ / "pip.log").string();
  const std::string install = absl::StrCat("PIP_DISABLE_PIP_VERSION_CHECK=1 ", python,
                                           " -m pip install --no-index --no-build-isolation --no-cache-dir --target '",
                                           site, "' '", archive, "' >'", log, "' 2>&1");
  int rc = std::system(install.c_str());
  std::ifstream in(log);
  std::string pip_output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(rc, 0) << pip_output;
  const std::string out = (dir_ / "out.txt").string();
  const std::string run = absl::StrCat("cd '", dir_.string(), "' && PYTHONPATH='", site, "' ", python, " -m ",
                                       package->python_module, " '", out, "' --epochs 2 >>'", log, "' 2>&1");
  rc = std::system(run.c_str());
  std::ifstream result(out);
  std::string ran((std::istreambuf_iterator<char>(result)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(ran, "ran:__main__:--epochs,2");
}

}  // namespace
}  // namespace kiln::client
