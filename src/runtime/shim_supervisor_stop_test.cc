// internal::ShimSupervisor integration tests: Stop, process groups, adoption after a restart, lost
// shims, pid reuse and descriptor hygiene.

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/shim_supervisor.h"
#include "runtime/shim_supervisor_test_fixture.h"

namespace kiln::runtime::testing {
namespace {

using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using State = ReplicaStatus::State;

// The pid in a "grandchild <pid>" log line; 0 if none.
pid_t GrandchildPid(const std::string& log) {
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    pid_t pid = 0;
    if (absl::ConsumePrefix(&line, "grandchild ") && absl::SimpleAtoi(line, &pid)) return pid;
  }
  return 0;
}

// fd number → readlink target for /proc/<pid>/fd.
std::vector<std::pair<int, std::string>> OpenDescriptors(pid_t pid) {
  std::vector<std::pair<int, std::string>> fds;
  std::string dir_path = absl::StrCat("/proc/", pid, "/fd");
  DIR* dir = ::opendir(dir_path.c_str());
  if (dir == nullptr) return fds;
  while (dirent* entry = ::readdir(dir)) {
    int fd = 0;
    if (!absl::SimpleAtoi(entry->d_name, &fd)) continue;
    char target[512] = {};
    ssize_t n = ::readlink(absl::StrCat(dir_path, "/", fd).c_str(), target, sizeof(target) - 1);
    fds.emplace_back(fd, n > 0 ? std::string(target, static_cast<size_t>(n)) : "");
  }
  ::closedir(dir);
  return fds;
}

TEST_F(ShimSupervisorTest, StopEscalatesToSigkillForAReplicaIgnoringSigterm) {
  ReplicaHandle handle = Launch(Spec("r", {"ignore-term", "60"}));
  ASSERT_TRUE(WaitForLog(handle, "ready\n"));
  pid_t pgid = WaitForReplicaPid(handle);
  ASSERT_GT(pgid, 0);
  ASSERT_TRUE(runtime_->Stop(handle, absl::Milliseconds(200)).ok());
  ASSERT_TRUE(WaitForExit(handle));
  ReplicaStatus status = PollOrDie(*runtime_, handle);
  EXPECT_EQ(status.state, State::kExited);
  EXPECT_EQ(status.term_signal, SIGKILL);
  EXPECT_TRUE(status.stopped_by_kiln);
  EXPECT_TRUE(GroupGone(pgid));
  EXPECT_EQ(ReadOrEmpty(handle, internal::kStopFile), "200\n");
}

TEST_F(ShimSupervisorTest, StopLetsAReplicaEndOnSigtermWithinTheGrace) {
  ReplicaHandle handle = Launch(Spec("r", {"sleep", "60"}));
  pid_t pgid = WaitForReplicaPid(handle);
  ASSERT_GT(pgid, 0);
  ASSERT_TRUE(runtime_->Stop(handle, absl::Seconds(60)).ok());
  ASSERT_TRUE(WaitForExit(handle));
  ReplicaStatus status = PollOrDie(*runtime_, handle);
  EXPECT_EQ(status.term_signal, SIGTERM);
  EXPECT_TRUE(status.stopped_by_kiln);
  EXPECT_TRUE(GroupGone(pgid));
  // Idempotent; an exited replica is left alone.
  ASSERT_TRUE(runtime_->Stop(handle, absl::ZeroDuration()).ok());
  ReplicaStatus again = PollOrDie(*runtime_, handle);
  EXPECT_EQ(again.term_signal, SIGTERM);
  EXPECT_EQ(again.end_time, status.end_time);
}

TEST_F(ShimSupervisorTest, ALaterStopShortensTheGrace) {
  ReplicaHandle handle = Launch(Spec("r", {"ignore-term", "60"}));
  ASSERT_TRUE(WaitForLog(handle, "ready\n"));
  ASSERT_TRUE(runtime_->Stop(handle, absl::Hours(1)).ok());
  ASSERT_TRUE(runtime_->Stop(handle, absl::ZeroDuration()).ok());
  ASSERT_TRUE(WaitForExit(handle));
  ReplicaStatus status = PollOrDie(*runtime_, handle);
  EXPECT_EQ(status.term_signal, SIGKILL);
  EXPECT_TRUE(status.stopped_by_kiln);
}

TEST_F(ShimSupervisorTest, StopRightAfterLaunchIsNotLost) {
  ReplicaHandle handle = Launch(Spec("r", {"sleep", "60"}));
  ASSERT_TRUE(runtime_->Stop(handle, absl::ZeroDuration()).ok());
  ASSERT_TRUE(WaitForExit(handle));
  ReplicaStatus status = PollOrDie(*runtime_, handle);
  EXPECT_EQ(status.state, State::kExited);
  EXPECT_TRUE(status.stopped_by_kiln);
  EXPECT_NE(status.term_signal, 0);
}

TEST_F(ShimSupervisorTest, StopKillsGrandchildrenToo) {
  ReplicaHandle handle = Launch(Spec("r", {"spawn-grandchild", "60"}));
  ASSERT_TRUE(WaitForLog(handle, "grandchild "));
  pid_t grandchild = GrandchildPid(Log(handle));
  pid_t pgid = WaitForReplicaPid(handle);
  ASSERT_GT(grandchild, 0);
  ASSERT_GT(pgid, 0);
  ASSERT_TRUE(runtime_->Stop(handle, absl::Seconds(60)).ok());
  ASSERT_TRUE(WaitForExit(handle));
  EXPECT_TRUE(PollOrDie(*runtime_, handle).stopped_by_kiln);
  EXPECT_TRUE(GroupGone(pgid));
  EXPECT_TRUE(ProcessGone(grandchild));
}

TEST_F(ShimSupervisorTest, WhatIsLeftOfTheGroupDiesWhenTheMainProcessExits) {
  ReplicaHandle handle = Launch(Spec("r", {"orphan-grandchild", "60"}));
  ASSERT_TRUE(WaitForExit(handle));
  pid_t grandchild = GrandchildPid(Log(handle));
  pid_t pgid = ReplicaPid(handle);
  ASSERT_GT(grandchild, 0);
  ASSERT_GT(pgid, 0);
  ReplicaStatus status = PollOrDie(*runtime_, handle);
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_FALSE(status.stopped_by_kiln);
  EXPECT_TRUE(GroupGone(pgid));
  EXPECT_TRUE(ProcessGone(grandchild));
}

TEST_F(ShimSupervisorTest, AdoptAfterARestartSeesTheExit) {
  std::string go = internal::JoinPath(root_, "go");
  ReplicaHandle handle = Launch(Spec("r", {"wait-file", go}));
  ASSERT_GT(WaitForReplicaPid(handle), 0);
  std::string saved = handle.Serialize();

  runtime_ = NewRuntime();  // "kiln restarts": the first instance is gone, the replica is not
  ASSERT_NE(runtime_, nullptr);
  absl::StatusOr<ReplicaHandle> restored = ReplicaHandle::Parse(saved);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(PollOrDie(*runtime_, *restored).state, State::kRunning);
  ASSERT_TRUE(runtime_->Adopt(*restored).ok());
  ASSERT_TRUE(runtime_->Adopt(*restored).ok());  // a no-op the second time
  EXPECT_EQ(ExitCount(handle), 0);

  ASSERT_TRUE(internal::WriteFile(go, "").ok());
  ASSERT_TRUE(WaitForExit(*restored));
  ReplicaStatus status = PollOrDie(*runtime_, *restored);
  EXPECT_EQ(status.state, State::kExited);
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_FALSE(status.stopped_by_kiln);
  runtime_.reset();
  EXPECT_EQ(ExitCount(handle), 1);
}

TEST_F(ShimSupervisorTest, StopWorksAfterARestartBeforeAdopt) {
  ReplicaHandle handle = Launch(Spec("r", {"sleep", "60"}));
  pid_t pgid = WaitForReplicaPid(handle);
  ASSERT_GT(pgid, 0);
  runtime_ = NewRuntime();
  ASSERT_NE(runtime_, nullptr);
  ASSERT_TRUE(runtime_->Stop(handle, absl::ZeroDuration()).ok());
  ASSERT_TRUE(runtime_->Adopt(handle).ok());
  ASSERT_TRUE(WaitForExit(handle));
  ReplicaStatus status = PollOrDie(*runtime_, handle);
  EXPECT_EQ(status.state, State::kExited);
  EXPECT_TRUE(status.stopped_by_kiln);
  EXPECT_TRUE(GroupGone(pgid));
}

TEST_F(ShimSupervisorTest, AdoptingAnExitedReplicaNotifiesAtOnce) {
  ReplicaHandle handle = Launch(Spec("r", {"exit", "7"}));
  ASSERT_TRUE(WaitForExit(handle));
  runtime_ = NewRuntime();
  ASSERT_NE(runtime_, nullptr);
  ASSERT_TRUE(runtime_->Adopt(handle).ok());
  ASSERT_TRUE(WaitForExit(handle, /*count=*/2));
  EXPECT_EQ(PollOrDie(*runtime_, handle).exit_code, 7);
}

TEST_F(ShimSupervisorTest, PollReportsLostWhenTheShimDiedWithoutRecordingAnExit) {
  ReplicaHandle handle = Launch(Spec("r", {"sleep", "60"}));
  ASSERT_GT(WaitForReplicaPid(handle), 0);
  ASSERT_EQ(::kill(static_cast<pid_t>(handle.shim_pid), SIGKILL), 0);
  ASSERT_TRUE(WaitForExit(handle));  // a lost replica is notified too
  EXPECT_EQ(PollOrDie(*runtime_, handle).state, State::kLost);
  EXPECT_TRUE(runtime_->Stop(handle, absl::ZeroDuration()).ok());  // nothing to stop
  // TearDown kills the orphaned replica's group.
}

TEST_F(ShimSupervisorTest, AHandleWithOtherStartTicksIsNotTreatedAsAlive) {
  ReplicaHandle handle = Launch(Spec("r", {"sleep", "60"}));
  ASSERT_GT(WaitForReplicaPid(handle), 0);
  ReplicaHandle recycled = handle;  // as if shim_pid now named another process
  recycled.shim_start_ticks += 1;
  EXPECT_EQ(PollOrDie(*runtime_, recycled).state, State::kLost);
  ASSERT_TRUE(runtime_->Stop(recycled, absl::ZeroDuration()).ok());
  EXPECT_EQ(ReadOrEmpty(handle, internal::kStopFile), "");  // the real shim was not asked

  ReplicaHandle self{
      .replica_dir = handle.replica_dir, .shim_pid = ::getpid(), .shim_start_ticks = 1, .boot_id = handle.boot_id};
  EXPECT_EQ(PollOrDie(*runtime_, self).state, State::kLost);
  ReplicaHandle other_boot = handle;
  other_boot.boot_id = "another-boot";
  EXPECT_EQ(PollOrDie(*runtime_, other_boot).state, State::kLost);

  EXPECT_EQ(PollOrDie(*runtime_, handle).state, State::kRunning);
  EXPECT_EQ(ExitCount(handle), 0);
}

TEST_F(ShimSupervisorTest, TheShimHoldsNoneOfTheParentsDescriptors) {
  int leaked[2];
  ASSERT_EQ(::pipe(leaked), 0);  // deliberately without O_CLOEXEC
  struct stat pipe_stat;
  ASSERT_EQ(::fstat(leaked[0], &pipe_stat), 0);
  std::string pipe_name = absl::StrCat("pipe:[", pipe_stat.st_ino, "]");
  // Shims started from now on (this runtime starts each at launch) see the pipe.
  runtime_ = NewRuntime(/*warm=*/0);
  ASSERT_NE(runtime_, nullptr);

  ReplicaHandle handle = Launch(Spec("r", {"ignore-term", "60"}));
  pid_t replica = WaitForReplicaPid(handle);
  ASSERT_TRUE(WaitForLog(handle, "ready\n"));  // exec'd: no longer the forked shim
  ::close(leaked[0]);
  ::close(leaked[1]);
  ASSERT_GT(replica, 0);

  std::vector<std::pair<int, std::string>> shim_fds = OpenDescriptors(static_cast<pid_t>(handle.shim_pid));
  std::vector<std::string> unexpected;
  std::vector<std::string> shim_pipes;  // the read ends of the replica's stdout and stderr
  for (const auto& [fd, target] : shim_fds) {
    bool own_pipe = absl::StartsWith(target, "pipe:[") && target != pipe_name;
    if (own_pipe) shim_pipes.push_back(target);
    bool expected = fd <= 2 || own_pipe || target == "anon_inode:[signalfd]" ||
                    target == internal::JoinPath(handle.replica_dir, internal::kLogFile) ||
                    target == internal::JoinPath(handle.replica_dir, internal::kLogIndexFile) ||
                    target == internal::JoinPath(handle.replica_dir, internal::kExitTempFile);
    if (!expected) unexpected.push_back(absl::StrCat(fd, " -> ", target));
  }
  EXPECT_THAT(unexpected, IsEmpty());
  EXPECT_GE(shim_fds.size(), 3u);
  ASSERT_THAT(shim_pipes, SizeIs(2));

  // The replica: stdin from /dev/null, stdout and stderr two pipes the shim reads, nothing else.
  std::vector<std::pair<int, std::string>> replica_fds = OpenDescriptors(replica);
  std::sort(replica_fds.begin(), replica_fds.end());
  ASSERT_THAT(replica_fds, SizeIs(3));
  EXPECT_EQ(replica_fds[0], std::make_pair(0, std::string("/dev/null")));
  EXPECT_THAT(shim_pipes, Contains(replica_fds[1].second));
  EXPECT_THAT(shim_pipes, Contains(replica_fds[2].second));
  EXPECT_NE(replica_fds[1].second, replica_fds[2].second);
}

}  // namespace
}  // namespace kiln::runtime::testing
