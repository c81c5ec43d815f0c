#include "runtime/fake_runtime.h"

#include <signal.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::runtime {
namespace {

using ::testing::ElementsAre;
using Phase = ReplicaState::Phase;

JobLaunch Launch(std::string key, std::vector<std::string> tasks) {
  JobLaunch launch;
  launch.key = key;
  launch.name = "job-" + key;
  launch.annotation = "grant";
  for (const std::string& t : tasks) launch.replicas.push_back({.task = t, .ports = 1});
  launch.build = [](const std::vector<ReplicaPlace>& places) {
    std::vector<ReplicaCommand> commands;
    for (const ReplicaPlace& p : places) commands.push_back({.argv = {"run", p.host, std::to_string(p.ports[0])}});
    return commands;
  };
  return launch;
}

TEST(FakeRuntimeTest, LaunchesPlacesBuildsAndNotifiesWhatTheTestEnds) {
  FakeRuntime runtime;
  std::vector<std::string> notified;
  Subscription s = runtime.Subscribe([&](const std::string& name) { notified.push_back(name); });
  absl::StatusOr<std::string> handle = runtime.LaunchJob(Launch("1", {"workerpool0-0", "workerpool1-0"}));
  ASSERT_TRUE(handle.ok()) << handle.status();
  FakeRuntime::Job job = *runtime.job(*handle);
  EXPECT_THAT(job.commands[1].argv, ElementsAre("run", "10.0.0.2", "30001"));
  EXPECT_TRUE(runtime.Status(*handle)->running());
  EXPECT_TRUE(notified.empty()) << "LaunchJob does not notify";
  EXPECT_TRUE(absl::IsAlreadyExists(runtime.LaunchJob(Launch("1", {"workerpool0-0"})).status()));

  runtime.Finish(*handle, "workerpool1-0", {.phase = Phase::kExited, .exit_code = 3});
  EXPECT_THAT(notified, ElementsAre("job-1"));
  EXPECT_EQ(runtime.Status(*handle)->Find("workerpool1-0")->exit_code, 3);
  EXPECT_TRUE(absl::IsFailedPrecondition(runtime.Remove(*handle))) << "the primary still runs";
  ASSERT_TRUE(runtime.Stop(*handle, absl::Seconds(1)).ok());
  EXPECT_EQ(runtime.ExitStopped(), 1);
  EXPECT_TRUE(runtime.Status(*handle)->final());
  EXPECT_TRUE(runtime.Remove(*handle).ok());
  s.Cancel();
  EXPECT_FALSE(runtime.FindJob("1")->has_value());
}

TEST(FakeRuntimeTest, AFailedLaunchStopsWhatStartedAndStartsNothingElse) {
  FakeRuntime runtime;
  runtime.FailLaunchAt(1, absl::UnavailableError("no shim"));
  absl::StatusOr<std::string> handle = runtime.LaunchJob(Launch("1", {"a", "b", "c"}));
  ASSERT_TRUE(handle.ok());
  JobStatus status = *runtime.Status(*handle);
  EXPECT_EQ(status.launch_error.message(), "Replica b could not be started: no shim");
  EXPECT_EQ(status.replicas[0].phase, Phase::kRunning);
  EXPECT_EQ(status.replicas[1].phase, Phase::kNotStarted);
  EXPECT_EQ(status.replicas[2].phase, Phase::kNotStarted);
  ASSERT_EQ(runtime.stops().size(), 1u);
  EXPECT_EQ(runtime.stops()[0].task, "a");
}

TEST(FakeRuntimeTest, ACrashedLaunchIsFoundAndAdoptFinishesIt) {
  FakeRuntime runtime;
  runtime.CrashLaunchAt(FakeRuntime::Step::kBeforeReplica, 1);
  EXPECT_TRUE(absl::IsAborted(runtime.LaunchJob(Launch("1", {"a", "b"})).status()));
  absl::StatusOr<std::optional<FoundJob>> found = runtime.FindJob("1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->annotation, "grant");
  EXPECT_EQ(runtime.Status((*found)->handle)->replicas[1].phase, Phase::kPending);
  ASSERT_TRUE(runtime.Adopt((*found)->handle).ok());
  EXPECT_TRUE(runtime.Status((*found)->handle)->running());
  EXPECT_EQ(runtime.adopted().size(), 1u);
}

TEST(FakeRuntimeTest, RejectsMalformedLaunches) {
  FakeRuntime runtime;
  JobLaunch bad = Launch("../x", {"a"});
  EXPECT_TRUE(absl::IsInvalidArgument(runtime.LaunchJob(bad).status()));
  bad = Launch("1", {"a", "a"});
  EXPECT_EQ(runtime.LaunchJob(bad).status().message(), "job launch: task a appears twice");
  bad = Launch("1", {});
  EXPECT_EQ(runtime.LaunchJob(bad).status().message(), "job launch: no replicas");
  bad = Launch("1", {"a"});
  bad.build = nullptr;
  EXPECT_EQ(runtime.LaunchJob(bad).status().message(), "job launch: no command builder");
}

}  // namespace
}  // namespace kiln::runtime
