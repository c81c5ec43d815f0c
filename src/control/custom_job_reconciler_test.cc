#include "control/custom_job_reconciler.h"

#include <set>

#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "runtime/fake_runtime.h"
#include "service/job_service.h"
#include "service/repository.h"

namespace kiln::control {
namespace {

namespace v1 = google::cloud::aiplatform::v1;
using ::testing::HasSubstr;
using State = runtime::ReplicaStatus::State;

constexpr char kJob[] = "projects/p/locations/l/customJobs/1";

// Plans `tasks` replicas named as given, or fails with `error`.
class FakePlanner : public ReplicaPlanner {
 public:
  absl::StatusOr<Planned> Plan(const v1::CustomJob& job) override {
    ++calls;
    if (!error.ok()) return error;
    held.insert(job.name());
    Planned out;
    out.grant = "grant-of-" + job.name();
    for (const std::string& t : tasks) {
      Replica r;
      r.task_name = t;
      r.spec.replica_dir = "/jobs/1/" + t;
      r.spec.argv = {"true"};
      out.replicas.push_back(r);
    }
    return out;
  }
  absl::Status Restore(const v1::CustomJob& job, const std::string& grant) override {
    restored.push_back(grant);
    held.insert(job.name());
    return absl::OkStatus();
  }
  void Release(const std::string& job) override { held.erase(job); }
  std::vector<std::string> tasks = {"workerpool0-0"};
  std::set<std::string> held;
  std::vector<std::string> restored;
  absl::Status error;
  int calls = 0;
};

runtime::ReplicaStatus Exited(int code, absl::Time at, bool stopped = false, int signal = 0) {
  runtime::ReplicaStatus s;
  s.state = State::kExited;
  s.exit_code = code;
  s.term_signal = signal;
  s.stopped_by_kiln = stopped;
  s.end_time = at;
  return s;
}

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest() {
    store_ = *store::Store::Open(":memory:");
    reconciler_ = MakeReconciler();
  }

  std::unique_ptr<CustomJobReconciler> MakeReconciler() {
    CustomJobReconciler::Options options;
    options.stop_grace = absl::Seconds(3);
    return std::make_unique<CustomJobReconciler>(store_.get(), &runtime_, &planner_, &clock_, options);
  }

  void CreateJob(int64_t timeout_seconds = 0) {
    v1::CustomJob job;
    job.set_name(kJob);
    job.set_display_name("j");
    job.set_state(v1::JOB_STATE_QUEUED);
    if (timeout_seconds > 0)
      job.mutable_job_spec()->mutable_scheduling()->mutable_timeout()->set_seconds(timeout_seconds);
    ASSERT_TRUE(
        store_->Write([&](store::Transaction& tx) { return repo_.Insert(tx, "projects/p/locations/l", job); }).ok());
  }

  v1::CustomJob Job() {
    v1::CustomJob job;
    EXPECT_TRUE(store_
                    ->Read([&](store::Transaction& tx) -> absl::Status {
                      auto got = repo_.Get(tx, kJob);
                      if (!got.ok()) return got.status();
                      job = *got;
                      return absl::OkStatus();
                    })
                    .ok());
    return job;
  }

  void SetState(v1::JobState state) {
    ASSERT_TRUE(store_
                    ->Write([&](store::Transaction& tx) -> absl::Status {
                      auto got = repo_.Get(tx, kJob);
                      got->set_state(state);
                      return repo_.Update(tx, *got);
                    })
                    .ok());
  }

  // Steps until the job stops changing state (bounded).
  void Settle() {
    for (int i = 0; i < 10; ++i) {
      v1::JobState before = Job().state();
      ASSERT_TRUE(reconciler_->ReconcileOnce(kJob).ok());
      if (Job().state() == before) return;
    }
  }

  runtime::ReplicaHandle HandleOf(const std::string& task) {
    for (const auto& h : runtime_.handles()) {
      if (h.replica_dir == "/jobs/1/" + task) return h;
    }
    ADD_FAILURE() << "no replica " << task;
    return {};
  }

  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  runtime::FakeRuntime runtime_;
  FakePlanner planner_;
  service::Repository<v1::CustomJob> repo_{"customJobs", "CustomJob"};
  std::unique_ptr<CustomJobReconciler> reconciler_;
};

TEST_F(ReconcilerTest, PrimaryExitZeroSucceeds) {
  CreateJob();
  ASSERT_TRUE(reconciler_->ReconcileOnce(kJob).ok());
  EXPECT_EQ(Job().state(), v1::JOB_STATE_RUNNING) << "planned, launched and recorded in one step";
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_RUNNING);
  EXPECT_TRUE(Job().has_start_time());
  ASSERT_EQ(runtime_.launches().size(), 1u);

  clock_.Advance(absl::Seconds(5));
  runtime_.SetStatus(HandleOf("workerpool0-0"), Exited(0, clock_.Now()));
  Settle();
  v1::CustomJob job = Job();
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_FALSE(job.has_error());
  EXPECT_EQ(job.end_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(runtime_.launches().size(), 1u) << "never launched twice";
  EXPECT_TRUE(planner_.held.empty()) << "resources are released when the job ends";
}

TEST_F(ReconcilerTest, FailingWorkerFailsTheJobAndStopsThePrimary) {
  planner_.tasks = {"workerpool0-0", "workerpool1-0"};
  CreateJob();
  Settle();
  runtime_.SetStatus(HandleOf("workerpool1-0"), Exited(3, clock_.Now()));
  Settle();
  // The primary still runs: it is asked to stop, and the job waits for it.
  ASSERT_EQ(runtime_.stops().size(), 1u);
  EXPECT_EQ(Job().state(), v1::JOB_STATE_RUNNING);
  // kiln's SIGTERM is not the primary's failure.
  runtime_.SetStatus(HandleOf("workerpool0-0"), Exited(0, clock_.Now() + absl::Seconds(1), true, SIGTERM));
  Settle();
  v1::CustomJob job = Job();
  EXPECT_EQ(job.state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(job.error().code(), 3);
  EXPECT_THAT(job.error().message(), HasSubstr("The replica workerpool1-0 exited with a non-zero status of 3"));
}

TEST_F(ReconcilerTest, SignalsKilnSendsAfterSuccessDoNotFailTheJob) {
  planner_.tasks = {"workerpool0-0", "workerpool1-0"};
  CreateJob();
  Settle();
  runtime_.SetStatus(HandleOf("workerpool0-0"), Exited(0, clock_.Now()));
  Settle();
  EXPECT_EQ(runtime_.stops().size(), 1u) << "the worker still running is stopped";
  runtime_.SetStatus(HandleOf("workerpool1-0"), Exited(0, clock_.Now() + absl::Seconds(2), true, SIGKILL));
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_SUCCEEDED);
}

TEST_F(ReconcilerTest, KilledBySignalNamesTheSignal) {
  CreateJob();
  Settle();
  runtime_.SetStatus(HandleOf("workerpool0-0"), Exited(0, clock_.Now(), false, SIGSEGV));
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(Job().error().message(), HasSubstr("was killed by signal 11"));
}

TEST_F(ReconcilerTest, LostReplicaFailsTheJob) {
  CreateJob();
  Settle();
  runtime::ReplicaStatus lost;
  lost.state = State::kLost;
  runtime_.SetStatus(HandleOf("workerpool0-0"), lost);
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(Job().error().message(), HasSubstr("was lost"));
}

TEST_F(ReconcilerTest, CancelStopsReplicasThenCancelled) {
  CreateJob();
  Settle();
  SetState(v1::JOB_STATE_CANCELLING);
  Settle();
  ASSERT_EQ(runtime_.stops().size(), 1u);
  EXPECT_EQ(Job().state(), v1::JOB_STATE_CANCELLING);
  runtime_.SetStatus(HandleOf("workerpool0-0"), Exited(0, clock_.Now(), true, SIGTERM));
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(Job().error().code(), 1);
}

TEST_F(ReconcilerTest, CancelBeforeLaunchNeverStartsAnything) {
  CreateJob();
  SetState(v1::JOB_STATE_CANCELLING);
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_CANCELLED);
  EXPECT_TRUE(runtime_.launches().empty());
}

TEST_F(ReconcilerTest, TimeoutFailsWithDeadlineExceeded) {
  CreateJob(/*timeout_seconds=*/60);
  Settle();
  clock_.Advance(absl::Seconds(59));
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_RUNNING);
  clock_.Advance(absl::Seconds(2));
  Settle();
  ASSERT_EQ(runtime_.stops().size(), 1u);
  runtime_.SetStatus(HandleOf("workerpool0-0"), Exited(0, clock_.Now(), true, SIGTERM));
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(Job().error().code(), static_cast<int>(absl::StatusCode::kDeadlineExceeded));
  EXPECT_THAT(Job().error().message(), HasSubstr("scheduling.timeout"));
}

TEST_F(ReconcilerTest, PlanErrorFailsTheJobWithItsMessage) {
  planner_.error = absl::FailedPreconditionError("no image map entry for foo");
  CreateJob();
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(Job().error().message(), "no image map entry for foo");
}

TEST_F(ReconcilerTest, JobsLeftPendingByAnEarlierKilnAreLaunched) {
  CreateJob();
  ASSERT_TRUE(reconciler_->ReconcileOnce(kJob).ok());
  auto handle = HandleOf("workerpool0-0");
  // Rewind to what an earlier kiln stored: PENDING, the replica recorded without a handle.
  SetState(v1::JOB_STATE_PENDING);
  ASSERT_TRUE(
      store_
          ->Write([&](store::Transaction& tx) {
            return tx.PutMeta(
                "replicas/" + std::string(kJob) + "/workerpool0-0",
                R"({"task":"workerpool0-0","spec":{"replica_dir":"/jobs/1/workerpool0-0","argv":["true"]},"handle":""})");
          })
          .ok());
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(runtime_.launches().size(), 1u) << "its folder already had a shim: adopted";
  runtime_.SetStatus(handle, Exited(0, clock_.Now()));
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_SUCCEEDED);
}

TEST_F(ReconcilerTest, LaunchFailureFailsTheJob) {
  runtime_.FailNextLaunch(absl::UnavailableError("posix_spawn: out of processes"));
  CreateJob();
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(Job().error().message(), HasSubstr("could not be started: posix_spawn: out of processes"));
}

TEST_F(ReconcilerTest, RestartAdoptsRunningReplicasAndFinishes) {
  CreateJob();
  Settle();
  ASSERT_EQ(Job().state(), v1::JOB_STATE_RUNNING);
  // kiln restarts: a new reconciler over the same store and runtime.
  reconciler_ = MakeReconciler();
  ASSERT_TRUE(reconciler_->ReconcileOnce(kJob).ok());
  EXPECT_EQ(runtime_.adopted().size(), 1u);
  EXPECT_EQ(planner_.restored, std::vector<std::string>{"grant-of-" + std::string(kJob)});
  runtime_.SetStatus(HandleOf("workerpool0-0"), Exited(0, clock_.Now()));
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(runtime_.launches().size(), 1u);
}

TEST_F(ReconcilerTest, WaitsQueuedWithAReasonWhileResourcesAreBusy) {
  planner_.error = absl::ResourceExhaustedError("waiting for 1 NVIDIA_TESLA_T4 (0 of 1 free)");
  CreateJob();
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(reconciler_->QueueReason(kJob), "waiting for 1 NVIDIA_TESLA_T4 (0 of 1 free)");
  planner_.error = absl::OkStatus();
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(reconciler_->QueueReason(kJob), "");
}

TEST_F(ReconcilerTest, CrashBetweenLaunchAndRecordAdoptsInsteadOfRelaunching) {
  CreateJob();
  // The replica was launched, but kiln died before the commit that records it: the job is
  // still QUEUED and nothing about the replica is stored.
  runtime::ReplicaSpec spec;
  spec.replica_dir = "/jobs/1/workerpool0-0";
  spec.argv = {"true"};
  ASSERT_TRUE(runtime_.Launch(spec).ok());
  reconciler_ = MakeReconciler();
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(runtime_.launches().size(), 1u) << "adopted, not launched again";
  EXPECT_EQ(runtime_.adopted().size(), 1u);
}

TEST_F(ReconcilerTest, WorkerLoopWakesOnStoreCommitsAndExits) {
  // The threaded path: Start, then only events (a commit, an exit callback) drive the job.
  reconciler_->Start();
  CreateJob();
  auto wait_for = [&](v1::JobState state) {
    for (int i = 0; i < 1000 && Job().state() != state; ++i) absl::SleepFor(absl::Milliseconds(10));
    return Job().state() == state;
  };
  ASSERT_TRUE(wait_for(v1::JOB_STATE_RUNNING));
  runtime_.Finish(HandleOf("workerpool0-0"), Exited(0, clock_.Now()));
  ASSERT_TRUE(wait_for(v1::JOB_STATE_SUCCEEDED));
  reconciler_->Stop();
}

}  // namespace
}  // namespace kiln::control
