// LocalRuntime, the job-level seam, with real kiln-shims and runtime_test_helper replicas: places
// and commands, all-or-nothing launches (a failure injected at every replica), recovery from a
// crash at every step of a launch, notifications, logs and removal. Every wait is bounded.

#include "runtime/local_runtime.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/replica_files.h"

namespace kiln::runtime {
namespace {

using ::testing::HasSubstr;
using Phase = ReplicaState::Phase;
using Step = LocalRuntime::LaunchStep;

constexpr std::chrono::seconds kWaitLimit(10);

class LocalRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = internal::JoinPath(::testing::TempDir(), "kiln-local-runtime-XXXXXX");
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    runtime_ = NewRuntime();
    ASSERT_NE(runtime_, nullptr);
  }

  void TearDown() override {
    // Nothing a test started may outlive it: stop every job this root holds, then wait.
    std::unique_ptr<LocalRuntime> cleaner = runtime_ != nullptr ? std::move(runtime_) : NewRuntime();
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(internal::JoinPath(root_, "jobs"), error)) {
      absl::StatusOr<std::optional<FoundJob>> found = cleaner->FindJob(entry.path().filename().string());
      if (!found.ok() || !found->has_value()) continue;
      (void)cleaner->Adopt((*found)->handle);
      (void)cleaner->Stop((*found)->handle, absl::ZeroDuration());
      WaitFinal(*cleaner, (*found)->handle);
    }
    subscription_.Cancel();
    cleaner.reset();
    std::filesystem::remove_all(root_, error);
  }

  std::unique_ptr<LocalRuntime> NewRuntime(std::function<absl::Status(Step, int)> fault = nullptr) {
    absl::StatusOr<std::unique_ptr<LocalRuntime>> runtime =
        LocalRuntime::Create({.shim_path = KILN_SHIM_PATH,
                              .jobs_root = internal::JoinPath(root_, "jobs"),
                              .slot_root = internal::JoinPath(root_, "slots"),
                              .fault = std::move(fault)});
    if (!runtime.ok()) {
      ADD_FAILURE() << runtime.status();
      return nullptr;
    }
    subscription_ = (*runtime)->Subscribe([this](const std::string& name) {
      std::lock_guard<std::mutex> lock(mu_);
      notified_.push_back(name);
      cv_.notify_all();
    });
    return *std::move(runtime);
  }

  // A job `key` of `tasks`, each running runtime_test_helper `args`, with ADDRS (every
  // replica's host:port, in order) and ME (its own folder) in its environment.
  JobLaunch Launch(const std::string& key, std::vector<std::string> tasks, std::vector<std::string> args) {
    JobLaunch launch;
    launch.key = key;
    launch.name = "job-" + key;
    launch.annotation = "grant-" + key;
    launch.stop_grace = absl::Seconds(5);
    for (const std::string& t : tasks) launch.replicas.push_back({.task = t, .ports = 1});
    launch.build = [args](const std::vector<ReplicaPlace>& places) {
      std::vector<std::string> addresses;
      for (const ReplicaPlace& p : places) addresses.push_back(absl::StrCat(p.host, ":", p.ports.at(0)));
      std::vector<ReplicaCommand> commands;
      for (const ReplicaPlace& p : places) {
        ReplicaCommand c;
        c.argv.push_back(KILN_TEST_HELPER);
        c.argv.insert(c.argv.end(), args.begin(), args.end());
        c.env = {"PATH=/usr/bin:/bin", "ADDRS=" + absl::StrJoin(addresses, ","), "ME=" + p.dir};
        commands.push_back(std::move(c));
      }
      return commands;
    };
    return launch;
  }

  // Waits (≤ kWaitLimit), woken by notifications, until every replica of `handle` is final.
  bool WaitFinal(Runtime& runtime, const std::string& handle) {
    auto give_up = std::chrono::steady_clock::now() + kWaitLimit;
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      size_t seen = notified_.size();
      lock.unlock();
      absl::StatusOr<JobStatus> status = runtime.Status(handle);
      lock.lock();
      if (!status.ok() || status->final()) return status.ok();
      // Re-checked at least every 100 ms: a notification may come between Status and the wait.
      cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return notified_.size() > seen; });
      if (std::chrono::steady_clock::now() > give_up) return false;
    }
  }

  static std::string Log(Runtime& runtime, const std::string& handle, const std::string& task) {
    absl::StatusOr<std::unique_ptr<LogReader>> log = runtime.OpenLog(handle, task);
    if (!log.ok()) return "";
    absl::StatusOr<std::string> bytes = (*log)->Read(0, 1 << 20);
    return bytes.ok() ? *bytes : "";
  }

  bool WaitForLog(const std::string& handle, const std::string& task, const std::string& text) {
    auto give_up = std::chrono::steady_clock::now() + kWaitLimit;
    while (!absl::StrContains(Log(*runtime_, handle, task), text)) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      absl::StatusOr<std::unique_ptr<LogReader>> log = runtime_->OpenLog(handle, task);
      if (log.ok()) (*log)->WaitForChange((*log)->Size(), absl::Milliseconds(100));
    }
    return true;
  }

  std::string Marks(const std::string& name) { return internal::JoinPath(root_, name); }
  static int Lines(const std::string& path) {
    absl::StatusOr<std::string> text = internal::ReadFile(path);
    return text.ok() ? static_cast<int>(std::count(text->begin(), text->end(), '\n')) : 0;
  }

  std::string root_;
  std::unique_ptr<LocalRuntime> runtime_;
  Subscription subscription_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> notified_;
};

TEST_F(LocalRuntimeTest, EveryReplicaRunsWhatItsPlaceWasBuiltInto) {
  absl::StatusOr<std::string> handle =
      runtime_->LaunchJob(Launch("7", {"workerpool0-0", "workerpool1-0"}, {"print-env-all"}));
  ASSERT_TRUE(handle.ok()) << handle.status();
  ASSERT_TRUE(WaitFinal(*runtime_, *handle));
  absl::StatusOr<JobStatus> status = runtime_->Status(*handle);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->replicas.size(), 2u);
  std::vector<std::string> addresses;
  std::set<int> ports;
  for (const ReplicaState& r : status->replicas) {
    EXPECT_EQ(r.phase, Phase::kExited);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.place.host, "127.0.0.1");
    ASSERT_EQ(r.place.ports.size(), 1u);
    EXPECT_GE(r.place.ports[0], 20000);
    EXPECT_LE(r.place.ports[0], 29999) << "kiln's range, outside the kernel's ephemeral ports";
    ports.insert(r.place.ports[0]);
    addresses.push_back(absl::StrCat(r.place.host, ":", r.place.ports[0]));
    EXPECT_EQ(r.place.dir, internal::JoinPath(internal::JoinPath(root_, "jobs/7"), r.task));
  }
  EXPECT_EQ(ports.size(), 2u) << "distinct ports";
  for (const ReplicaState& r : status->replicas) {
    std::string log = Log(*runtime_, *handle, r.task);
    EXPECT_THAT(log, HasSubstr("ADDRS=" + absl::StrJoin(addresses, ",")));
    EXPECT_THAT(log, HasSubstr("ME=" + r.place.dir));
  }
  EXPECT_EQ(runtime_->ports_held(), 0) << "a final job's ports are free again";
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_FALSE(notified_.empty());
    for (const std::string& name : notified_) EXPECT_EQ(name, "job-7");
  }
  // Found by its key, with its annotation, by this runtime and by a new one.
  absl::StatusOr<std::optional<FoundJob>> found = NewRuntime()->FindJob("7");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->handle, *handle);
  EXPECT_EQ((*found)->annotation, "grant-7");
}

TEST_F(LocalRuntimeTest, ALaunchFailingAtAnyReplicaStopsTheStartedOnesAndStartsNoMore) {
  const std::vector<std::string> tasks = {"workerpool0-0", "workerpool1-0", "workerpool1-1"};
  for (int fail = 0; fail < 3; ++fail) {
    SCOPED_TRACE(absl::StrCat("failing replica ", fail));
    subscription_.Cancel();
    runtime_ = NewRuntime([fail](Step step, int index) {
      if (step == Step::kReplicaStarting && index == fail) return absl::UnavailableError("no shim left");
      return absl::OkStatus();
    });
    std::string key = absl::StrCat("f", fail);
    absl::StatusOr<std::string> handle = runtime_->LaunchJob(Launch(key, tasks, {"sleep", "30"}));
    ASSERT_TRUE(handle.ok()) << handle.status();
    absl::StatusOr<JobStatus> status = runtime_->Status(*handle);
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(status->launch_error.message(),
              absl::StrCat("Replica ", tasks[fail], " could not be started: no shim left"));
    ASSERT_TRUE(WaitFinal(*runtime_, *handle)) << "the started replicas are stopped";
    status = runtime_->Status(*handle);
    for (int i = 0; i < 3; ++i) {
      const ReplicaState& r = status->replicas[i];
      if (i < fail) {
        EXPECT_EQ(r.phase, Phase::kExited) << r.task;
        EXPECT_TRUE(r.stopped_by_kiln) << r.task;
      } else {
        EXPECT_EQ(r.phase, Phase::kNotStarted) << r.task;
      }
    }
    EXPECT_EQ(runtime_->ports_held(), 0);
    // The failure is durable: a new runtime reports the same.
    subscription_.Cancel();
    runtime_ = NewRuntime();
    EXPECT_EQ(runtime_->Status(*handle)->launch_error.message(), status->launch_error.message());
    EXPECT_TRUE(runtime_->Remove(*handle).ok());
    EXPECT_FALSE(std::filesystem::exists(internal::JoinPath(root_, "jobs/" + key)));
  }
}

// kiln dies inside LaunchJob at every step; a new runtime adopts the job and ends where an
// uninterrupted launch ends: every replica running, each started exactly once.
TEST_F(LocalRuntimeTest, ACrashAtAnyStepOfALaunchIsFinishedByAdopt) {
  const std::vector<std::string> tasks = {"workerpool0-0", "workerpool1-0", "workerpool1-1"};
  struct Crash {
    Step step;
    int index;
  };
  const std::vector<Crash> crashes = {{Step::kManifestWritten, -1},
                                      {Step::kReplicaStarting, 0},
                                      {Step::kReplicaStarted, 0},
                                      {Step::kReplicaStarting, 2},
                                      {Step::kReplicaStarted, 2}};
  for (size_t c = 0; c < crashes.size(); ++c) {
    SCOPED_TRACE(absl::StrCat("crash ", c));
    subscription_.Cancel();
    Crash crash = crashes[c];
    runtime_ = NewRuntime([crash](Step step, int index) {
      return step == crash.step && index == crash.index ? absl::AbortedError("crash") : absl::OkStatus();
    });
    std::string key = absl::StrCat("c", c);
    std::string marks = Marks(key);
    EXPECT_TRUE(absl::IsAborted(runtime_->LaunchJob(Launch(key, tasks, {"mark", marks, "30"})).status()));
    // The process dies: its runtime goes, the replicas it started do not.
    subscription_.Cancel();
    runtime_ = NewRuntime();
    absl::StatusOr<std::optional<FoundJob>> found = runtime_->FindJob(key);
    ASSERT_TRUE(found.ok() && found->has_value()) << "the manifest is written before anything starts";
    ASSERT_TRUE(runtime_->Adopt((*found)->handle).ok());
    absl::StatusOr<JobStatus> status = runtime_->Status((*found)->handle);
    ASSERT_TRUE(status.ok());
    EXPECT_TRUE(status->running());
    for (const std::string& task : tasks) EXPECT_TRUE(WaitForLog((*found)->handle, task, "marked")) << task;
    EXPECT_EQ(Lines(marks), 3) << "three replicas, each started once";
    ASSERT_TRUE(runtime_->Stop((*found)->handle, absl::ZeroDuration()).ok());
    ASSERT_TRUE(WaitFinal(*runtime_, (*found)->handle));
  }
}

TEST_F(LocalRuntimeTest, ACrashAfterAFailedLaunchIsRecordedGoesOnStoppingAfterAdopt) {
  runtime_ = NewRuntime([](Step step, int index) {
    if (step == Step::kReplicaStarting && index == 1) return absl::UnavailableError("no shim left");
    if (step == Step::kLaunchFailed) return absl::AbortedError("crash");
    return absl::OkStatus();
  });
  EXPECT_TRUE(
      absl::IsAborted(runtime_->LaunchJob(Launch("9", {"workerpool0-0", "workerpool1-0"}, {"sleep", "30"})).status()));
  subscription_.Cancel();
  runtime_ = NewRuntime();
  absl::StatusOr<std::optional<FoundJob>> found = runtime_->FindJob("9");
  ASSERT_TRUE(found.ok() && found->has_value());
  ASSERT_TRUE(runtime_->Adopt((*found)->handle).ok());
  ASSERT_TRUE(WaitFinal(*runtime_, (*found)->handle)) << "the adopting runtime stops what the failed launch started";
  absl::StatusOr<JobStatus> status = runtime_->Status((*found)->handle);
  EXPECT_THAT(status->launch_error.message(), HasSubstr("Replica workerpool1-0 could not be started"));
  EXPECT_TRUE(status->replicas[0].stopped_by_kiln);
  EXPECT_EQ(status->replicas[1].phase, Phase::kNotStarted);
}

TEST_F(LocalRuntimeTest, WhatFailsBeforeAnythingStartsKeepsNothing) {
  JobLaunch launch = Launch("3", {"workerpool0-0"}, {"exit", "0"});
  launch.build = [](const std::vector<ReplicaPlace>&) -> absl::StatusOr<std::vector<ReplicaCommand>> {
    return absl::InvalidArgumentError("jobSpec.workerPoolSpecs[0].containerSpec.imageUri: no image map entry");
  };
  EXPECT_EQ(runtime_->LaunchJob(launch).status().message(),
            "jobSpec.workerPoolSpecs[0].containerSpec.imageUri: no image map entry");
  EXPECT_FALSE(std::filesystem::exists(internal::JoinPath(root_, "jobs/3")));
  EXPECT_FALSE(runtime_->FindJob("3")->has_value());
  EXPECT_EQ(runtime_->ports_held(), 0);
  // The key is free again, and a second launch of a key is refused.
  ASSERT_TRUE(runtime_->LaunchJob(Launch("3", {"workerpool0-0"}, {"exit", "0"})).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(runtime_->LaunchJob(Launch("3", {"workerpool0-0"}, {"exit", "0"})).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(runtime_->LaunchJob(Launch("../3", {"workerpool0-0"}, {})).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(runtime_->Status("slurm:123").status()));
  EXPECT_TRUE(absl::IsNotFound(runtime_->Status("local:/nowhere").status()));
}

TEST_F(LocalRuntimeTest, RemoveRefusesARunningJobThenDeletesEverything) {
  absl::StatusOr<std::string> handle = runtime_->LaunchJob(Launch("5", {"workerpool0-0"}, {"sleep", "30"}));
  ASSERT_TRUE(handle.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(runtime_->Remove(*handle)));
  EXPECT_EQ(runtime_->ports_held(), 1);
  ASSERT_TRUE(runtime_->Stop(*handle, absl::ZeroDuration()).ok());
  ASSERT_TRUE(WaitFinal(*runtime_, *handle));
  ASSERT_TRUE(runtime_->Remove(*handle).ok());
  EXPECT_FALSE(std::filesystem::exists(internal::JoinPath(root_, "jobs/5")));
  EXPECT_TRUE(runtime_->Remove(*handle).ok()) << "idempotent";
  EXPECT_TRUE(absl::IsNotFound(runtime_->OpenLog(*handle, "workerpool0-0").status()));
}

TEST_F(LocalRuntimeTest, ACancelledSubscriptionHearsNothingMore) {
  subscription_.Cancel();
  absl::StatusOr<std::string> handle = runtime_->LaunchJob(Launch("6", {"workerpool0-0"}, {"exit", "0"}));
  ASSERT_TRUE(handle.ok());
  ASSERT_TRUE(WaitFinal(*runtime_, *handle));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_TRUE(notified_.empty());
}

// A job folder an earlier kiln made (replica folders with spec.json, no job.json) is found by its
// key and reported from its replicas' exit records.
TEST_F(LocalRuntimeTest, AFolderOfAnEarlierKilnIsFoundAndReported) {
  std::string dir = internal::JoinPath(root_, "jobs/11/workerpool0-0");
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(internal::WriteFile(internal::JoinPath(dir, "spec.json"),
                                  R"({"argv":["true"],"env":["PATH=/bin"],"working_dir":"",)"
                                  R"("shim":{"pid":999999999,"start_ticks":1,"boot_id":"old-boot"}})")
                  .ok());
  ASSERT_TRUE(internal::WriteFile(internal::JoinPath(dir, "exit.json"),
                                  R"({"exit_code":0,"signal":0,"stopped_by_kiln":false,)"
                                  R"("end_time":"2026-01-01T00:00:00+00:00"})")
                  .ok());
  ASSERT_TRUE(internal::WriteFile(internal::JoinPath(dir, "replica.log"), "old output\n").ok());
  absl::StatusOr<std::optional<FoundJob>> found = runtime_->FindJob("11");
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  ASSERT_TRUE(runtime_->Adopt((*found)->handle).ok());
  absl::StatusOr<JobStatus> status = runtime_->Status((*found)->handle);
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_EQ(status->replicas.size(), 1u);
  EXPECT_EQ(status->replicas[0].task, "workerpool0-0");
  EXPECT_EQ(status->replicas[0].phase, Phase::kExited);
  EXPECT_EQ(Log(*runtime_, (*found)->handle, "workerpool0-0"), "old output\n");
  EXPECT_TRUE(std::filesystem::exists(internal::JoinPath(root_, "jobs/11/job.json"))) << "described once";
  EXPECT_FALSE(runtime_->FindJob("12")->has_value());
}

}  // namespace
}  // namespace kiln::runtime
