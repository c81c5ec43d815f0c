#include "runtime/fake_runtime.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::runtime {
namespace {

using State = ReplicaStatus::State;

TEST(FakeRuntimeTest, RecordsLaunchesAndReportsWhatTheTestSets) {
  FakeRuntime runtime;
  std::vector<std::string> exited;
  runtime.SetExitCallback([&](const ReplicaHandle& h) { exited.push_back(h.replica_dir); });

  absl::StatusOr<ReplicaHandle> a = runtime.Launch({.replica_dir = "/r/a", .argv = {"x"}});
  absl::StatusOr<ReplicaHandle> b = runtime.Launch({.replica_dir = "/r/b", .argv = {"y"}});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->shim_pid, b->shim_pid);
  ASSERT_EQ(runtime.launches().size(), 2u);
  EXPECT_EQ(runtime.launches()[1].argv, std::vector<std::string>{"y"});
  EXPECT_EQ(runtime.handles()[0], *a);
  EXPECT_EQ(runtime.Poll(*a)->state, State::kRunning);

  runtime.Finish(*a, {.state = State::kExited, .exit_code = 3});
  EXPECT_EQ(exited, std::vector<std::string>{"/r/a"});
  EXPECT_EQ(runtime.Poll(*a)->exit_code, 3);
  EXPECT_EQ(runtime.Poll(*b)->state, State::kRunning);

  ASSERT_TRUE(runtime.Stop(*b, absl::Seconds(5)).ok());
  ASSERT_EQ(runtime.stops().size(), 1u);
  EXPECT_EQ(runtime.stops()[0].grace, absl::Seconds(5));
  runtime.SetStatus(*b, {.state = State::kLost});
  EXPECT_EQ(runtime.Poll(*b)->state, State::kLost);
  EXPECT_EQ(exited.size(), 1u);  // SetStatus alone fires nothing
}

TEST(FakeRuntimeTest, FailNextLaunchFailsOnce) {
  FakeRuntime runtime;
  runtime.FailNextLaunch(absl::ResourceExhaustedError("no"));
  EXPECT_EQ(runtime.Launch({.replica_dir = "/r", .argv = {"x"}}).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(runtime.Launch({.replica_dir = "/r", .argv = {"x"}}).ok());
  EXPECT_EQ(runtime.launches().size(), 1u);
}

TEST(FakeRuntimeTest, AdoptKnowsUnknownReplicasAsRunning) {
  FakeRuntime runtime;
  ReplicaHandle handle{.replica_dir = "/old", .shim_pid = 7, .shim_start_ticks = 8};
  EXPECT_TRUE(absl::IsNotFound(runtime.Poll(handle).status()));
  ASSERT_TRUE(runtime.Adopt(handle).ok());
  EXPECT_EQ(runtime.Poll(handle)->state, State::kRunning);
  EXPECT_EQ(runtime.adopted(), std::vector<ReplicaHandle>{handle});
}

}  // namespace
}  // namespace kiln::runtime
