// The warm pool (idle shims and prepared slots) on its own and as internal::ShimSupervisor uses it, with
// the real kiln-shim: hand-off, dismissal, a shim killed while idle, folders in use, Find.

#include "runtime/warm_pool.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/replica_files.h"
#include "runtime/shim_supervisor_test_fixture.h"

namespace kiln::runtime::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using State = ReplicaStatus::State;

bool Alive(pid_t pid) { return ::kill(pid, 0) == 0; }

// Waits (bounded) for a shim that is our child to exit, and reaps it; its exit status.
int ReapExitStatus(pid_t pid) {
  int status = -1;
  for (int i = 0; i < 2000; ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    ::usleep(5000);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

using WarmPoolTest = ShimSupervisorTest;

TEST_F(WarmPoolTest, RefillStartsIdleShimsAndMakesSlots) {
  internal::WarmPool pool({.shim_path = KILN_SHIM_PATH, .slot_root = internal::JoinPath(root_, "pool"), .size = 2});
  EXPECT_FALSE(pool.TakeSlot().has_value());
  pool.Refill();
  for (int i = 0; i < 2; ++i) {
    std::optional<std::string> slot = pool.TakeSlot();
    ASSERT_TRUE(slot.has_value());
    for (const char* name :
         {internal::kSpecFile, internal::kReplicaPidFile, internal::kLogFile, internal::kExitTempFile}) {
      absl::StatusOr<std::string> content = internal::ReadFile(internal::JoinPath(*slot, name));
      ASSERT_TRUE(content.ok()) << name;
      EXPECT_EQ(*content, "") << name;
    }
  }
  EXPECT_FALSE(pool.TakeSlot().has_value());
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<internal::IdleShim> shim = pool.TakeShim();
    ASSERT_TRUE(shim.ok()) << shim.status();
    pid_t pid = static_cast<pid_t>(shim->identity.shim_pid);
    EXPECT_TRUE(Alive(pid));
    EXPECT_EQ(::getsid(pid), pid);  // its own session
    internal::Dismiss(*shim);
    EXPECT_FALSE(Alive(pid));  // reaped
  }
}

TEST_F(WarmPoolTest, ADismissedShimExitsHavingDoneNothing) {
  absl::StatusOr<internal::IdleShim> shim = internal::StartIdleShim(KILN_SHIM_PATH);
  ASSERT_TRUE(shim.ok()) << shim.status();
  pid_t pid = static_cast<pid_t>(shim->identity.shim_pid);
  ::close(shim->control_fd);  // as if kiln died
  EXPECT_EQ(ReapExitStatus(pid), 0);
  ::close(shim->pidfd);
}

TEST_F(WarmPoolTest, HandOffToAKilledShimIsUnavailable) {
  absl::StatusOr<internal::IdleShim> shim = internal::StartIdleShim(KILN_SHIM_PATH);
  ASSERT_TRUE(shim.ok()) << shim.status();
  pid_t pid = static_cast<pid_t>(shim->identity.shim_pid);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ReapExitStatus(pid);
  shim->identity.shim_pid = 0;  // reaped here
  absl::Status status = internal::HandOff(*shim, internal::JoinPath(root_, "r"));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  internal::Dismiss(*shim);
}

TEST_F(WarmPoolTest, TheShimRefusesASpecNamingAnotherShim) {
  absl::StatusOr<internal::IdleShim> shim = internal::StartIdleShim(KILN_SHIM_PATH);
  ASSERT_TRUE(shim.ok()) << shim.status();
  std::string dir = internal::JoinPath(root_, "other");
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ReplicaHandle other = shim->identity;
  other.shim_pid += 1;
  ASSERT_TRUE(internal::WriteFile(internal::JoinPath(dir, internal::kSpecFile),
                                  internal::SpecToJson(Spec("other", {"exit", "0"}), other))
                  .ok());
  ASSERT_TRUE(internal::HandOff(*shim, dir).ok());
  pid_t pid = static_cast<pid_t>(shim->identity.shim_pid);
  EXPECT_EQ(ReapExitStatus(pid), 0);
  ::close(shim->pidfd);
  absl::StatusOr<std::string> exit = internal::ReadFile(internal::JoinPath(dir, internal::kExitFile));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(internal::ExitRecordFromJson(*exit)->exit_code, 127);
  absl::StatusOr<std::string> log = internal::ReadFile(internal::JoinPath(dir, internal::kLogFile));
  ASSERT_TRUE(log.ok());
  EXPECT_THAT(*log, HasSubstr(absl::StrCat("names shim ", other.shim_pid, ", not this one")));
}

TEST_F(WarmPoolTest, DestroyingThePoolDismissesItsShimsAndRemovesItsSlots) {
  runtime_.reset();  // its own idle shim would make the count racy
  std::string slot_root = internal::JoinPath(root_, "pool");
  std::vector<pid_t> before = IdleShims({});
  {
    internal::WarmPool pool({.shim_path = KILN_SHIM_PATH, .slot_root = slot_root, .size = 2});
    pool.Refill();
    EXPECT_THAT(IdleShims({}), SizeIs(before.size() + 2));
  }
  EXPECT_THAT(IdleShims({}), SizeIs(before.size()));
  EXPECT_TRUE(std::filesystem::is_empty(slot_root));
}

TEST_F(WarmPoolTest, SlotsLeftByAGoneProcessAreRemovedAndOthersKept) {
  std::string slot_root = internal::JoinPath(root_, "pool");
  int64_t pid_max = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(*internal::ReadFile("/proc/sys/kernel/pid_max")), &pid_max));
  std::string gone = internal::JoinPath(slot_root, absl::StrCat(pid_max + 1, "-0-0"));
  std::string live = internal::JoinPath(slot_root, absl::StrCat(::getpid(), "-999-0"));
  std::string foreign = internal::JoinPath(slot_root, "not-a-slot");
  for (const std::string& dir : {gone, live, foreign}) std::filesystem::create_directories(dir);
  internal::WarmPool pool({.shim_path = KILN_SHIM_PATH, .slot_root = slot_root, .size = 0});
  EXPECT_FALSE(std::filesystem::exists(gone));
  EXPECT_TRUE(std::filesystem::exists(live));
  EXPECT_TRUE(std::filesystem::exists(foreign));
}

// internal::ShimSupervisor with its pool.

TEST_F(ShimSupervisorTest, LaunchRenamesAReadySlotIntoPlaceAndTheRefillReplacesIt) {
  ASSERT_TRUE(Eventually([&] { return Slots().size() == 1 && IdleShims(launched_).size() == 1; }));
  std::string slot = Slots()[0];
  pid_t idle = IdleShims(launched_)[0];
  ReplicaHandle handle = Launch(Spec("jobs/1/r", {"exit", "0"}));
  EXPECT_EQ(handle.shim_pid, idle);  // the warm shim runs it
  EXPECT_FALSE(std::filesystem::exists(slot));
  ASSERT_TRUE(WaitForExit(handle));
  EXPECT_EQ(PollOrDie(*runtime_, handle).exit_code, 0);
  ASSERT_TRUE(Eventually([&] { return Slots().size() == 1 && IdleShims(launched_).size() == 1; }));
  EXPECT_NE(Slots()[0], slot);
}

TEST_F(ShimSupervisorTest, AFolderInUseIsKeptAndTheSlotGoesBack) {
  ReplicaHandle first = Launch(Spec("r", {"write-both", "first"}));
  ASSERT_TRUE(WaitForExit(first));
  ASSERT_TRUE(Eventually([&] { return Slots().size() == 1; }));
  ReplicaHandle second = Launch(Spec("r", {"write-both", "second"}));
  ASSERT_TRUE(WaitForExit(second, /*count=*/2));
  EXPECT_THAT(Log(second), HasSubstr("out:first"));  // appended to, not replaced
  EXPECT_THAT(Log(second), HasSubstr("out:second"));
  EXPECT_THAT(Slots(), SizeIs(1));
}

TEST_F(ShimSupervisorTest, WithoutAWarmPoolEachLaunchStartsItsShim) {
  runtime_ = NewRuntime(/*warm=*/0);
  ASSERT_NE(runtime_, nullptr);
  EXPECT_THAT(IdleShims(launched_), IsEmpty());
  ReplicaHandle handle = Launch(Spec("jobs/2/r", {"exit", "5"}));
  ASSERT_TRUE(WaitForExit(handle));
  EXPECT_EQ(PollOrDie(*runtime_, handle).exit_code, 5);
  EXPECT_THAT(IdleShims(launched_), IsEmpty());
}

TEST_F(ShimSupervisorTest, AnIdleShimKilledBeforeTheLaunchIsReplaced) {
  ASSERT_TRUE(Eventually([&] { return IdleShims(launched_).size() == 1; }));
  pid_t idle = IdleShims(launched_)[0];
  ASSERT_EQ(::kill(idle, SIGKILL), 0);
  // SIGKILL is delivered asynchronously: until the shim has exited, its end of the control
  // socket is open and a hand-off would still be accepted (and the replica then be lost, as
  // for a shim dying just after a hand-off). This test is about a shim already gone.
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<internal::ProcStat> stat = internal::ReadProcStat(idle);
    return !stat.ok() || stat->zombie;
  }));
  ReplicaHandle handle = Launch(Spec("r", {"exit", "0"}));
  EXPECT_NE(handle.shim_pid, idle);
  ASSERT_TRUE(WaitForExit(handle));
  EXPECT_EQ(PollOrDie(*runtime_, handle).exit_code, 0);
}

TEST_F(ShimSupervisorTest, FindNamesTheShimOfTheSpecEvenWhenItNeverGotTheFolder) {
  // kiln died between writing spec.json and the hand-off: the shim exited at end of file and
  // never ran anything. Find gives its handle; it is lost, never launched twice.
  absl::StatusOr<internal::IdleShim> shim = internal::StartIdleShim(KILN_SHIM_PATH);
  ASSERT_TRUE(shim.ok()) << shim.status();
  std::string dir = internal::JoinPath(root_, "orphan");
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ReplicaHandle named = shim->identity;
  named.replica_dir = dir;
  ASSERT_TRUE(internal::WriteFile(internal::JoinPath(dir, internal::kSpecFile),
                                  internal::SpecToJson(Spec("orphan", {"exit", "0"}), named))
                  .ok());
  internal::Dismiss(*shim);
  absl::StatusOr<std::optional<ReplicaHandle>> found = runtime_->Find(dir);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, named);
  EXPECT_EQ(PollOrDie(*runtime_, named).state, State::kLost);
}

TEST_F(ShimSupervisorTest, FindSeesNothingInAnUnwrittenSlotAndRejectsABadSpec) {
  std::string slot_like = internal::JoinPath(root_, "slot-like");
  ASSERT_EQ(::mkdir(slot_like.c_str(), 0755), 0);
  ASSERT_TRUE(internal::WriteFile(internal::JoinPath(slot_like, internal::kSpecFile), "").ok());
  absl::StatusOr<std::optional<ReplicaHandle>> found = runtime_->Find(slot_like);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_FALSE(found->has_value());

  for (const char* spec : {R"({"argv": ["x"], "env": []})", R"({"shim": {"pid": "1"}})", "[1]"}) {
    ASSERT_TRUE(internal::WriteFile(internal::JoinPath(slot_like, internal::kSpecFile), spec).ok());
    EXPECT_EQ(runtime_->Find(slot_like).status().code(), absl::StatusCode::kDataLoss) << spec;
  }
}

}  // namespace
}  // namespace kiln::runtime::testing
