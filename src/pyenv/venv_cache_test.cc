#include "pyenv/venv_cache.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pyenv/run_process.h"

namespace kiln::pyenv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kPython[] = "/usr/bin/python3";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteFile(const std::string& path, const std::string& content, bool executable = false) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << content;
  if (executable) ::chmod(path.c_str(), 0755);
}

const std::vector<std::string> kEnv = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1"};

// Shared across the suite (venv creation and pip take seconds): the sdists, and one cache
// holding the trainer venv.
class VenvCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    skip_reason_ = new std::string;
    if (::access(kPython, X_OK) != 0) {
      *skip_reason_ = "/usr/bin/python3 is missing";
    } else if (RunProcess({kPython, "-c", "import venv, ensurepip"}, kEnv, "", "", absl::Seconds(60)).value_or(1) !=
               0) {
      *skip_reason_ = "python3's venv module is unavailable (apt-get install python3-venv)";
    }
    if (!skip_reason_->empty()) return;
    char templ[] = "/tmp/kiln-venvcache-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    work_ = new std::string(templ);
    trainer_ = new std::string(BuildSdist("trainer_pkg", "KILN-MARKER-1", ""));
    trainer_changed_ = new std::string(BuildSdist("trainer_pkg", "KILN-MARKER-2", ""));
    broken_ = new std::string(BuildSdist("broken_pkg", "never", "install_requires=['definitely-not-on-disk-pkg'],"));
    cache_ = new VenvCache({.root = *work_ + "/shared-venvs"});
  }

  static void TearDownTestSuite() {
    delete cache_;
    if (work_ != nullptr) fs::remove_all(*work_);
    delete work_;
    delete trainer_;
    delete trainer_changed_;
    delete broken_;
    delete skip_reason_;
    cache_ = nullptr;
    work_ = trainer_ = trainer_changed_ = broken_ = skip_reason_ = nullptr;
  }

  void SetUp() override {
    if (!skip_reason_->empty()) {
      std::cerr << "\n*** SKIPPING pyenv venv tests: " << *skip_reason_ << " ***\n\n";
      GTEST_SKIP() << *skip_reason_;
    }
  }

  // Writes a setuptools project `name` whose trainer.task prints `marker`, runs
  // `python3 setup.py sdist`, and returns the .tar.gz (in its own folder).
  static std::string BuildSdist(const std::string& name, const std::string& marker,
                                const std::string& extra_setup_args) {
    const std::string src = absl::StrCat(*work_, "/src-", name, "-", marker);
    WriteFile(src + "/setup.py",
              absl::StrCat("from setuptools import setup\n"
                           "setup(name='",
                           name, "', version='0.1', packages=['trainer'], ", extra_setup_args,
                           "entry_points={'console_scripts': ['trainer-cli=trainer.task:main']})\n"));
    WriteFile(src + "/trainer/__init__.py", "");
    WriteFile(src + "/trainer/task.py", absl::StrCat("import sys\n"
                                                     "def main():\n"
                                                     "    print('",
                                                     marker,
                                                     "', 'prefix=' + sys.prefix)\n"
                                                     "    try:\n"
                                                     "        import numpy\n"
                                                     "        print('numpy', numpy.__version__)\n"
                                                     "    except ImportError:\n"
                                                     "        print('numpy unavailable')\n"
                                                     "if __name__ == '__main__':\n"
                                                     "    main()\n"));
    absl::StatusOr<int> exit =
        RunProcess({kPython, "setup.py", "sdist"}, kEnv, src, src + "/sdist.log", absl::Seconds(60));
    EXPECT_EQ(exit.value_or(-1), 0) << ReadFile(src + "/sdist.log");
    return absl::StrCat(src, "/dist/", name, "-0.1.tar.gz");
  }

  // The trainer venv in the shared cache, built once.
  static std::string TrainerPython() {
    static std::string* python = nullptr;
    if (python == nullptr) {
      absl::StatusOr<std::string> prepared = cache_->Prepare(kPython, {*trainer_});
      EXPECT_TRUE(prepared.ok()) << prepared.status();
      python = new std::string(prepared.value_or(""));
    }
    return *python;
  }

  static std::string VenvDir(const std::string& python) {
    return fs::path(python).parent_path().parent_path().string();
  }

  static inline std::string* skip_reason_ = nullptr;
  static inline std::string* work_ = nullptr;
  static inline std::string* trainer_ = nullptr;
  static inline std::string* trainer_changed_ = nullptr;
  static inline std::string* broken_ = nullptr;
  static inline VenvCache* cache_ = nullptr;
};

TEST_F(VenvCacheTest, InstalledModuleAndConsoleScriptRun) {
  const std::string python = TrainerPython();
  ASSERT_FALSE(python.empty());
  EXPECT_EQ(python, VenvDir(python) + "/bin/python");
  const std::string log = *work_ + "/run-module.log";
  // Run from elsewhere so `trainer` can only come from the venv.
  ASSERT_EQ(RunProcess({python, "-m", "trainer.task"}, kEnv, *work_, log, absl::Seconds(60)).value(), 0)
      << ReadFile(log);
  EXPECT_THAT(ReadFile(log), HasSubstr("KILN-MARKER-1 prefix=" + VenvDir(python)));
  // The console script's shebang names the final venv, not the build folder.
  const std::string cli_log = *work_ + "/run-cli.log";
  ASSERT_EQ(RunProcess({VenvDir(python) + "/bin/trainer-cli"}, kEnv, *work_, cli_log, absl::Seconds(60)).value(), 0)
      << ReadFile(cli_log);
  EXPECT_THAT(ReadFile(cli_log), HasSubstr("KILN-MARKER-1"));
  EXPECT_THAT(ReadFile(VenvDir(python) + "/install.log"), HasSubstr("Successfully installed"));
}

TEST_F(VenvCacheTest, SameInputsReuseChangedFileGetsNewVenv) {
  const std::string python = TrainerPython();
  ASSERT_FALSE(python.empty());
  struct stat before, after;
  ASSERT_EQ(::stat((VenvDir(python) + "/install.log").c_str(), &before), 0);
  absl::StatusOr<std::string> again = cache_->Prepare(kPython, {*trainer_});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, python);
  ASSERT_EQ(::stat((VenvDir(python) + "/install.log").c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  EXPECT_EQ(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
  EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);

  // Same file name and version, different bytes.
  absl::StatusOr<std::string> changed = cache_->Prepare(kPython, {*trainer_changed_});
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_NE(*changed, python);
  const std::string log = *work_ + "/run-changed.log";
  ASSERT_EQ(RunProcess({*changed, "-m", "trainer.task"}, kEnv, *work_, log, absl::Seconds(60)).value(), 0);
  EXPECT_THAT(ReadFile(log), HasSubstr("KILN-MARKER-2"));
  EXPECT_TRUE(fs::exists(python));
}

TEST_F(VenvCacheTest, UnsatisfiableRequirementIsFailedPreconditionWithPipsReason) {
  absl::StatusOr<std::string> result = cache_->Prepare(kPython, {*broken_});
  ASSERT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition) << result.status();
  EXPECT_THAT(result.status().message(), HasSubstr("definitely-not-on-disk-pkg"));
  EXPECT_THAT(result.status().message(), HasSubstr("No matching distribution found for definitely-not-on-disk-pkg"));
  EXPECT_THAT(result.status().message(), HasSubstr("last lines of install.log"));
  for (const auto& entry : fs::directory_iterator(*work_ + "/shared-venvs")) {
    EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr(".build-")));
  }
}

TEST_F(VenvCacheTest, MissingFileIsNotFoundBadNameIsInvalid) {
  absl::StatusOr<std::string> result = cache_->Prepare(kPython, {*trainer_, *work_ + "/nowhere/pkg-1.0.tar.gz"});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("nowhere/pkg-1.0.tar.gz"));
  EXPECT_EQ(cache_->Prepare(kPython, {*work_ + "/setup.py"}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cache_->Prepare(*work_ + "/no-python", {}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(VenvCacheTest, MissingVenvModuleAndTimeout) {
  // Stand-ins for a python without python3-venv, and one that hangs.
  const std::string no_venv = *work_ + "/fake/no-venv-python";
  WriteFile(no_venv,
            "#!/bin/sh\necho 'The virtual environment was not successfully created because "
            "ensurepip is not available.'\nexit 1\n",
            true);
  const std::string hangs = *work_ + "/fake/hanging-python";
  WriteFile(hangs, "#!/bin/sh\nsleep 60\n", true);
  VenvCache cache({.root = *work_ + "/fake-venvs", .install_timeout = absl::Milliseconds(300)});
  absl::StatusOr<std::string> result = cache.Prepare(no_venv, {*trainer_});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("python3-venv"));
  result = cache.Prepare(hangs, {*trainer_});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded) << result.status();
  EXPECT_TRUE(cache.ListForTest().empty());
}

TEST_F(VenvCacheTest, ConcurrentPreparesOfOneKeyBuildOnce) {
  // A base python that counts how often a venv is created.
  const std::string counter = *work_ + "/concurrent-count";
  const std::string counting = *work_ + "/fake/counting-python";
  WriteFile(counting,
            absl::StrCat("#!/bin/sh\n[ \"$2\" = venv ] && echo venv >> ", counter, "\nexec /usr/bin/python3 \"$@\"\n"),
            true);
  VenvCache cache({.root = *work_ + "/concurrent-venvs"});
  absl::StatusOr<std::string> results[2];
  std::thread first([&] { results[0] = cache.Prepare(counting, {*trainer_}); });
  std::thread second([&] { results[1] = cache.Prepare(counting, {*trainer_}); });
  first.join();
  second.join();
  ASSERT_TRUE(results[0].ok()) << results[0].status();
  ASSERT_TRUE(results[1].ok()) << results[1].status();
  EXPECT_EQ(*results[0], *results[1]);
  EXPECT_EQ(ReadFile(counter), "venv\n");
  EXPECT_EQ(cache.ListForTest().size(), 1u);
}

TEST_F(VenvCacheTest, EvictsLeastRecentlyUsedButNeverAcquired) {
  // Distinct keys without pip: the base python's path is part of the key.
  const std::string a = kPython, b = "/usr/bin/../bin/python3", c = "/usr/bin/./python3", d = "/usr//bin/python3";
  VenvCache cache({.root = *work_ + "/evict-venvs", .max_entries = 2, .eviction_grace = absl::ZeroDuration()});
  absl::StatusOr<std::string> venv_a = cache.Prepare(a, {});
  ASSERT_TRUE(venv_a.ok()) << venv_a.status();
  cache.Acquire(*venv_a);
  absl::StatusOr<std::string> venv_b = cache.Prepare(b, {});
  ASSERT_TRUE(venv_b.ok()) << venv_b.status();
  absl::StatusOr<std::string> venv_c = cache.Prepare(c, {});
  ASSERT_TRUE(venv_c.ok()) << venv_c.status();
  // a is the least recently used but acquired: b goes.
  EXPECT_THAT(cache.ListForTest(), UnorderedElementsAre(*venv_a, *venv_c));

  cache.Release(*venv_a);  // a's last use is now after c's
  absl::StatusOr<std::string> venv_d = cache.Prepare(d, {});
  ASSERT_TRUE(venv_d.ok()) << venv_d.status();
  EXPECT_THAT(cache.ListForTest(), UnorderedElementsAre(*venv_a, *venv_d));
  EXPECT_FALSE(fs::exists(VenvDir(*venv_c)));
  for (const auto& entry : fs::directory_iterator(*work_ + "/evict-venvs")) {
    EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr(".trash-")));
  }
}

}  // namespace
}  // namespace kiln::pyenv
