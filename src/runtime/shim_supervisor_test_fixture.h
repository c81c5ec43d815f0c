#ifndef KILN_RUNTIME_SHIM_SUPERVISOR_TEST_FIXTURE_H_
#define KILN_RUNTIME_SHIM_SUPERVISOR_TEST_FIXTURE_H_

// Shared fixture of the internal::ShimSupervisor integration tests: real kiln-shim, real
// runtime_test_helper replicas in a fresh temporary folder. Every wait is bounded by
// kWaitLimit, and TearDown kills every process group the test started, so a failing test
// leaves nothing running behind.

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/shim_supervisor.h"
#include "runtime/replica_files.h"

namespace kiln::runtime::testing {

inline constexpr std::chrono::seconds kWaitLimit(10);

inline ReplicaStatus PollOrDie(internal::ShimSupervisor& runtime, const ReplicaHandle& handle) {
  absl::StatusOr<ReplicaStatus> status = runtime.Poll(handle);
  EXPECT_TRUE(status.ok()) << status.status();
  return status.ok() ? *status : ReplicaStatus{.state = ReplicaStatus::State::kLost, .exit_code = -1};
}

class ShimSupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = internal::JoinPath(::testing::TempDir(), "kiln-runtime-XXXXXX");
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    runtime_ = NewRuntime();
    ASSERT_NE(runtime_, nullptr);
  }

  void TearDown() override {
    for (const ReplicaHandle& handle : launched_) KillEverything(handle);
    runtime_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  std::string SlotRoot() const { return internal::JoinPath(root_, "slots"); }

  // A internal::ShimSupervisor (with a warm pool of `warm`, slots in SlotRoot()) whose exit callback
  // counts exits per replica_dir into exits_.
  std::unique_ptr<internal::ShimSupervisor> NewRuntime(int warm = 1) {
    absl::StatusOr<std::unique_ptr<internal::ShimSupervisor>> runtime =
        internal::ShimSupervisor::Create({.shim_path = KILN_SHIM_PATH, .slot_root = SlotRoot(), .warm = warm});
    if (!runtime.ok()) {
      ADD_FAILURE() << runtime.status();
      return nullptr;
    }
    (*runtime)->SetExitCallback([this](const ReplicaHandle& handle) {
      std::lock_guard<std::mutex> lock(mu_);
      ++exits_[handle.replica_dir];
      cv_.notify_all();
    });
    return *std::move(runtime);
  }

  // runtime_test_helper <args...> in <root>/<name>, with only PATH in its environment.
  ReplicaSpec Spec(const std::string& name, std::vector<std::string> args) {
    ReplicaSpec spec;
    spec.replica_dir = internal::JoinPath(root_, name);
    spec.argv.push_back(KILN_TEST_HELPER);
    for (std::string& arg : args) spec.argv.push_back(std::move(arg));
    spec.env = {"PATH=/usr/bin:/bin"};
    return spec;
  }

  // Launches and records the handle for TearDown.
  ReplicaHandle Launch(const ReplicaSpec& spec) {
    absl::StatusOr<ReplicaHandle> handle = runtime_->Launch(spec);
    EXPECT_TRUE(handle.ok()) << handle.status();
    if (!handle.ok()) return ReplicaHandle{};
    launched_.push_back(*handle);
    return *handle;
  }

  // Waits (≤ kWaitLimit) for the exit callback to have fired for `handle`.
  bool WaitForExit(const ReplicaHandle& handle, int count = 1) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWaitLimit, [&] { return exits_[handle.replica_dir] >= count; });
  }

  int ExitCount(const ReplicaHandle& handle) {
    std::lock_guard<std::mutex> lock(mu_);
    return exits_[handle.replica_dir];
  }

  // For state the runtime does not notify (files the shim or replica writes): re-checks
  // `done` every few milliseconds, for at most kWaitLimit.
  static bool Eventually(const std::function<bool()>& done) {
    auto give_up = std::chrono::steady_clock::now() + kWaitLimit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  static std::string ReadOrEmpty(const ReplicaHandle& handle, const char* name) {
    absl::StatusOr<std::string> text = internal::ReadFile(internal::JoinPath(handle.replica_dir, name));
    return text.ok() ? *text : std::string();
  }

  static std::string Log(const ReplicaHandle& handle) { return ReadOrEmpty(handle, internal::kLogFile); }

  // The replica's pid (= process group id) from replica.pid; 0 if not written.
  static pid_t ReplicaPid(const ReplicaHandle& handle) {
    pid_t pid = 0;
    std::string text = ReadOrEmpty(handle, internal::kReplicaPidFile);
    return absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid) ? pid : 0;
  }

  // Waits for replica.pid (the shim has set up and started the replica).
  static pid_t WaitForReplicaPid(const ReplicaHandle& handle) {
    pid_t pid = 0;
    Eventually([&] { return (pid = ReplicaPid(handle)) > 0; });
    return pid;
  }

  static bool WaitForLog(const ReplicaHandle& handle, const std::string& text) {
    return Eventually([&] { return absl::StrContains(Log(handle), text); });
  }

  // Ready slots (folders in SlotRoot()).
  std::vector<std::string> Slots() const {
    std::vector<std::string> slots;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(SlotRoot(), error)) {
      slots.push_back(entry.path().string());
    }
    return slots;
  }

  // Idle kiln-shims: this process's kiln-shim children that were never handed a replica.
  static std::vector<pid_t> IdleShims(const std::vector<ReplicaHandle>& launched) {
    std::vector<pid_t> idle;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
      pid_t pid = 0;
      if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
      absl::StatusOr<std::string> comm = internal::ReadFile(absl::StrCat("/proc/", pid, "/comm"));
      absl::StatusOr<internal::ProcStat> stat = internal::ReadProcStat(pid);
      if (!comm.ok() || *comm != "kiln-shim\n" || !stat.ok() || stat->parent_pid != ::getpid() || stat->zombie) {
        continue;
      }
      bool handed = false;
      for (const ReplicaHandle& h : launched) handed = handed || h.shim_pid == pid;
      if (!handed) idle.push_back(pid);
    }
    return idle;
  }

  static bool GroupGone(pid_t pgid) { return ::kill(-pgid, 0) != 0 && errno == ESRCH; }
  static bool ProcessGone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

  static bool ShimIsSameProcess(const ReplicaHandle& handle) {
    absl::StatusOr<internal::ProcStat> stat = internal::ReadProcStat(static_cast<pid_t>(handle.shim_pid));
    return stat.ok() && stat->start_ticks == handle.shim_start_ticks;
  }

  // Asks the shim to SIGKILL the group, waits a bounded time, then SIGKILLs the group and the
  // shim directly (covers shims the test killed and shims that never started the replica).
  void KillEverything(const ReplicaHandle& handle) {
    if (handle.shim_pid <= 0) return;
    if (runtime_ != nullptr && ShimIsSameProcess(handle)) {
      (void)runtime_->Stop(handle, absl::ZeroDuration());
      Eventually([&] { return !ShimIsSameProcess(handle) || ShimIsZombie(handle); });
    }
    if (pid_t pgid = ReplicaPid(handle); pgid > 0) ::kill(-pgid, SIGKILL);
    if (ShimIsSameProcess(handle)) ::kill(static_cast<pid_t>(handle.shim_pid), SIGKILL);
    ::waitpid(static_cast<pid_t>(handle.shim_pid), nullptr, WNOHANG);
  }

  static bool ShimIsZombie(const ReplicaHandle& handle) {
    absl::StatusOr<internal::ProcStat> stat = internal::ReadProcStat(static_cast<pid_t>(handle.shim_pid));
    return stat.ok() && stat->zombie;
  }

  std::string root_;
  std::unique_ptr<internal::ShimSupervisor> runtime_;
  std::vector<ReplicaHandle> launched_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int> exits_;  // exit callbacks per replica_dir; guarded by mu_
};

}  // namespace kiln::runtime::testing

#endif  // KILN_RUNTIME_SHIM_SUPERVISOR_TEST_FIXTURE_H_
