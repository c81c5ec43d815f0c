#include "pyenv/run_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::pyenv {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class RunProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/kiln-runprocess-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
    log_ = dir_ + "/out.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // True once `pid` no longer runs (gone, or a zombie awaiting its new parent), waiting at
  // most 10 s: the wait is bounded, the assertion is not about speed.
  static bool Dead(pid_t pid) {
    for (int i = 0; i < 1000; ++i) {
      std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
      if (stat.empty()) return true;
      size_t paren = stat.rfind(')');
      if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z') {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  std::string dir_;
  std::string log_;
};

TEST_F(RunProcessTest, ReturnsExitCodes) {
  EXPECT_EQ(RunProcess({"/bin/true"}, {}, "", log_, absl::Seconds(30)).value(), 0);
  EXPECT_EQ(RunProcess({"/bin/sh", "-c", "exit 3"}, {}, "", log_, absl::Seconds(30)).value(), 3);
  EXPECT_EQ(RunProcess({"/bin/sh", "-c", "kill -TERM $$"}, {}, "", log_, absl::Seconds(30)).value(), 128 + SIGTERM);
}

TEST_F(RunProcessTest, NoShellInterpretation) {
  const std::string tricky = "$HOME; echo injected `id` * > /tmp/x | cat";
  ASSERT_EQ(RunProcess({"/bin/echo", tricky}, {}, "", log_, absl::Seconds(30)).value(), 0);
  EXPECT_EQ(ReadFile(log_), tricky + "\n");
}

TEST_F(RunProcessTest, ExactEnvironmentWorkingDirAndAppendedLog) {
  ASSERT_EQ(RunProcess({"/usr/bin/env"}, {"ONLY=this"}, "", log_, absl::Seconds(30)).value(), 0);
  EXPECT_EQ(ReadFile(log_), "ONLY=this\n");
  ASSERT_EQ(RunProcess({"/bin/pwd"}, {}, dir_, log_, absl::Seconds(30)).value(), 0);
  EXPECT_EQ(ReadFile(log_), absl::StrCat("ONLY=this\n", dir_, "\n"));
  ASSERT_EQ(RunProcess({"/bin/sh", "-c", "echo to-stderr >&2"}, {}, "", log_, absl::Seconds(30)).value(), 0);
  EXPECT_THAT(ReadFile(log_), HasSubstr("to-stderr"));
}

TEST_F(RunProcessTest, InheritsNoStrayDescriptors) {
  UniqueFd leaky(::open("/dev/null", O_RDONLY));  // deliberately without O_CLOEXEC
  ASSERT_GE(leaky.get(), 3);
  ASSERT_EQ(RunProcess({"/bin/sh", "-c", "ls /proc/$$/fd"}, {}, "", log_, absl::Seconds(30)).value(), 0);
  std::string fds = ReadFile(log_);
  EXPECT_THAT(fds, HasSubstr("0\n1\n2\n"));
  EXPECT_THAT(fds, Not(HasSubstr(absl::StrCat("\n", leaky.get(), "\n"))));
}

TEST_F(RunProcessTest, Errors) {
  EXPECT_EQ(RunProcess({}, {}, "", log_, absl::Seconds(1)).status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<int> missing = RunProcess({dir_ + "/nope"}, {}, "", log_, absl::Seconds(1));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("nope"));
  std::ofstream(dir_ + "/not-executable") << "#!/bin/sh\n";
  EXPECT_EQ(RunProcess({dir_ + "/not-executable"}, {}, "", log_, absl::Seconds(1)).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(RunProcess({"/bin/true"}, {}, dir_ + "/no-dir", log_, absl::Seconds(1)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(RunProcessTest, TimeoutKillsTheWholeGroup) {
  const std::string pid_file = dir_ + "/bg.pid";
  absl::StatusOr<int> result =
      RunProcess({"/bin/sh", "-c", absl::StrCat("sleep 60 & echo $! > ", pid_file, "; sleep 60")}, {}, "", log_,
                 absl::Milliseconds(300));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded);
  pid_t background = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(pid_file)), &background));
  EXPECT_TRUE(Dead(background)) << "background sleep " << background << " survived";
}

TEST_F(RunProcessTest, StragglersAreKilledAfterANormalExit) {
  const std::string pid_file = dir_ + "/bg.pid";
  absl::StatusOr<int> result =
      RunProcess({"/bin/sh", "-c", absl::StrCat("sleep 60 & echo $! > ", pid_file)}, {}, "", log_, absl::Seconds(30));
  ASSERT_EQ(result.value(), 0);
  pid_t background = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(pid_file)), &background));
  EXPECT_TRUE(Dead(background)) << "background sleep " << background << " survived";
}

}  // namespace
}  // namespace kiln::pyenv
