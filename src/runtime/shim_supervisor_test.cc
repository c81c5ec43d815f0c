// internal::ShimSupervisor integration tests: launching, exit statuses, environment, argv, logs.
// (Stop, adoption, loss and descriptors: local_runtime_stop_test.cc.)

#include "runtime/shim_supervisor.h"

#include <signal.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/shim_supervisor_test_fixture.h"

namespace kiln::runtime::testing {
namespace {

using ::testing::HasSubstr;
using State = ReplicaStatus::State;

TEST_F(ShimSupervisorTest, ExitZero) {
  absl::Time before = absl::Now();
  ReplicaHandle handle = Launch(Spec("r", {"exit", "0"}));
  EXPECT_TRUE(absl::StartsWith(handle.replica_dir, "/"));
  EXPECT_GT(handle.shim_pid, 0);
  EXPECT_GT(handle.shim_start_ticks, 0);
  EXPECT_FALSE(handle.boot_id.empty());
  ASSERT_TRUE(WaitForExit(handle));
  ReplicaStatus status = PollOrDie(*runtime_, handle);
  EXPECT_EQ(status.state, State::kExited);
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.term_signal, 0);
  EXPECT_FALSE(status.stopped_by_kiln);
  EXPECT_GE(status.end_time, before);
}

TEST_F(ShimSupervisorTest, ExitThree) {
  ReplicaHandle handle = Launch(Spec("r", {"exit", "3"}));
  ASSERT_TRUE(WaitForExit(handle));
  ReplicaStatus status = PollOrDie(*runtime_, handle);
  EXPECT_EQ(status.state, State::kExited);
  EXPECT_EQ(status.exit_code, 3);
  EXPECT_EQ(status.term_signal, 0);
}

TEST_F(ShimSupervisorTest, KilledByASignalItSendsItself) {
  ReplicaHandle handle = Launch(Spec("r", {"kill-self", absl::StrCat(SIGUSR1)}));
  ASSERT_TRUE(WaitForExit(handle));
  ReplicaStatus status = PollOrDie(*runtime_, handle);
  EXPECT_EQ(status.state, State::kExited);
  EXPECT_EQ(status.term_signal, SIGUSR1);
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_FALSE(status.stopped_by_kiln);
}

TEST_F(ShimSupervisorTest, EnvironmentIsExactlyTheSpecs) {
  ASSERT_EQ(::setenv("KILN_RUNTIME_TEST_LEAK", "leaked", 1), 0);
  ReplicaSpec spec = Spec("r", {"print-env-all"});
  spec.env = {"PATH=/usr/bin:/bin", "FOO=bar baz", "EMPTY="};
  ReplicaHandle handle = Launch(spec);
  ASSERT_TRUE(WaitForExit(handle));
  EXPECT_EQ(Log(handle), "PATH=/usr/bin:/bin\nFOO=bar baz\nEMPTY=\n");

  ReplicaHandle leak = Launch(Spec("leak", {"print-env", "KILN_RUNTIME_TEST_LEAK"}));
  ASSERT_TRUE(WaitForExit(leak));
  EXPECT_EQ(Log(leak), "KILN_RUNTIME_TEST_LEAK unset\n");
  ::unsetenv("KILN_RUNTIME_TEST_LEAK");
}

TEST_F(ShimSupervisorTest, ArgvIsPassedVerbatimWithoutAShell) {
  std::vector<std::string> args = {"$(whoami); rm -rf x", "a b", "'q' \"d\"", "", "*", "~", "`id`", "x > y"};
  std::vector<std::string> helper_args = {"print-args"};
  helper_args.insert(helper_args.end(), args.begin(), args.end());
  ReplicaHandle handle = Launch(Spec("r", helper_args));
  ASSERT_TRUE(WaitForExit(handle));
  std::string expected;
  for (const std::string& arg : args) absl::StrAppend(&expected, "[", arg, "]\n");
  EXPECT_EQ(Log(handle), expected);
  EXPECT_EQ(PollOrDie(*runtime_, handle).exit_code, 0);
}

TEST_F(ShimSupervisorTest, LogCapturesStdoutAndStderr) {
  ReplicaHandle handle = Launch(Spec("r", {"write-both", "hello"}));
  ASSERT_TRUE(WaitForExit(handle));
  EXPECT_EQ(Log(handle), "out:hello\nerr:hello\n");
}

TEST_F(ShimSupervisorTest, ExecFailureExits127WithTheReasonInTheLog) {
  ReplicaSpec spec = Spec("r", {});
  spec.argv = {"kiln-no-such-program", "arg"};
  ReplicaHandle handle = Launch(spec);
  ASSERT_TRUE(WaitForExit(handle));
  ReplicaStatus status = PollOrDie(*runtime_, handle);
  EXPECT_EQ(status.state, State::kExited);
  EXPECT_EQ(status.exit_code, 127);
  EXPECT_THAT(Log(handle), HasSubstr("kiln-shim: cannot run 'kiln-no-such-program': No such file or directory"));
}

TEST_F(ShimSupervisorTest, ExecOfANonExecutableFileExits127) {
  ReplicaSpec spec = Spec("r", {});
  spec.argv = {"./spec.json"};  // written by Launch, mode 0644, in the working dir
  ReplicaHandle handle = Launch(spec);
  ASSERT_TRUE(WaitForExit(handle));
  EXPECT_EQ(PollOrDie(*runtime_, handle).exit_code, 127);
  EXPECT_THAT(Log(handle), HasSubstr("kiln-shim: cannot run './spec.json': Permission denied"));
}

TEST_F(ShimSupervisorTest, Argv0IsLookedUpInTheSpecsPath) {
  std::string helper = KILN_TEST_HELPER;
  std::string helper_dir = helper.substr(0, helper.rfind('/'));
  ReplicaSpec spec = Spec("r", {"exit", "5"});
  spec.argv[0] = "runtime_test_helper";
  spec.env = {absl::StrCat("PATH=/kiln-nonexistent:", helper_dir)};
  ReplicaHandle handle = Launch(spec);
  ASSERT_TRUE(WaitForExit(handle));
  EXPECT_EQ(PollOrDie(*runtime_, handle).exit_code, 5) << Log(handle);
}

TEST_F(ShimSupervisorTest, WorkingDirDefaultsToTheReplicaDir) {
  ReplicaHandle handle = Launch(Spec("r", {"print-cwd"}));
  ReplicaSpec spec = Spec("other", {"print-cwd"});
  spec.working_dir = root_;
  ReplicaHandle other = Launch(spec);
  ASSERT_TRUE(WaitForExit(handle));
  ASSERT_TRUE(WaitForExit(other));
  EXPECT_EQ(Log(handle), handle.replica_dir + "\n");
  EXPECT_EQ(Log(other), root_ + "\n");
}

TEST_F(ShimSupervisorTest, MissingWorkingDirExits127) {
  ReplicaSpec spec = Spec("r", {"exit", "0"});
  spec.working_dir = "/kiln-no-such-dir";
  ReplicaHandle handle = Launch(spec);
  ASSERT_TRUE(WaitForExit(handle));
  EXPECT_EQ(PollOrDie(*runtime_, handle).exit_code, 127);
  EXPECT_THAT(Log(handle), HasSubstr("chdir /kiln-no-such-dir: No such file or directory"));
}

TEST_F(ShimSupervisorTest, LaunchCreatesMissingParentsAndWritesItsFiles) {
  ReplicaHandle handle = Launch(Spec("jobs/123/workerpool0-0", {"exit", "0"}));
  ASSERT_TRUE(WaitForExit(handle));
  EXPECT_EQ(handle.replica_dir, root_ + "/jobs/123/workerpool0-0");
  for (const char* name : {internal::kSpecFile, internal::kReplicaPidFile, internal::kLogFile, internal::kExitFile}) {
    EXPECT_TRUE(internal::ReadFile(internal::JoinPath(handle.replica_dir, name)).ok()) << name;
  }
  EXPECT_FALSE(internal::ReadFile(internal::JoinPath(handle.replica_dir, internal::kExitTempFile)).ok());
  absl::StatusOr<ReplicaHandle> named =
      internal::ShimOfSpec(ReadOrEmpty(handle, internal::kSpecFile), handle.replica_dir);
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(*named, handle);
  EXPECT_GT(ReplicaPid(handle), 0);
}

TEST_F(ShimSupervisorTest, LaunchRejectsAnEmptyArgvOrReplicaDir) {
  ReplicaSpec spec = Spec("r", {});
  spec.argv.clear();
  EXPECT_EQ(runtime_->Launch(spec).status().code(), absl::StatusCode::kInvalidArgument);
  spec = Spec("r", {"exit", "0"});
  spec.replica_dir = "";
  EXPECT_EQ(runtime_->Launch(spec).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ShimSupervisorTest, CreateRejectsAMissingShim) {
  EXPECT_EQ(internal::ShimSupervisor::Create({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(internal::ShimSupervisor::Create({.shim_path = "/kiln-no-such-shim"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ShimSupervisorTest, AReusedReplicaDirDoesNotReportThePreviousExit) {
  ReplicaHandle first = Launch(Spec("r", {"exit", "3"}));
  ASSERT_TRUE(WaitForExit(first));
  ReplicaHandle second = Launch(Spec("r", {"exit", "4"}));
  ReplicaStatus early = PollOrDie(*runtime_, second);
  EXPECT_NE(early.exit_code, 3);
  ASSERT_TRUE(WaitForExit(second, /*count=*/2));
  EXPECT_EQ(PollOrDie(*runtime_, second).exit_code, 4);
}

TEST_F(ShimSupervisorTest, ExitCallbackFiresOncePerReplicaWithoutPolling) {
  std::vector<ReplicaHandle> handles;
  for (int i = 0; i < 5; ++i) handles.push_back(Launch(Spec(absl::StrCat("r", i), {"exit", "0"})));
  for (const ReplicaHandle& handle : handles) ASSERT_TRUE(WaitForExit(handle));
  runtime_.reset();  // joins the watcher: any duplicate notification would have run by now
  for (const ReplicaHandle& handle : handles) EXPECT_EQ(ExitCount(handle), 1);
}

TEST_F(ShimSupervisorTest, FindReturnsTheShimStartedForAFolder) {
  // kiln may die between Launch and recording the handle; Find must give the same replica back.
  ReplicaHandle handle = Launch(Spec("found", {"sleep", "30"}));
  auto found = runtime_->Find(handle.replica_dir);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->shim_pid, handle.shim_pid);
  EXPECT_EQ((*found)->shim_start_ticks, handle.shim_start_ticks);
  auto status = runtime_->Poll(**found);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state, State::kRunning);
  ASSERT_TRUE(runtime_->Stop(handle, absl::ZeroDuration()).ok());
  ASSERT_TRUE(WaitForExit(handle));
  status = runtime_->Poll(**runtime_->Find(handle.replica_dir));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state, State::kExited);

  auto nothing = runtime_->Find(internal::JoinPath(root_, "never-launched"));
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(nothing->has_value());
}

}  // namespace
}  // namespace kiln::runtime::testing
