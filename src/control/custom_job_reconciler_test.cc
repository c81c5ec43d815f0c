#include "control/custom_job_reconciler.h"

#include <signal.h>

#include <set>

#include "common/status_macros.h"
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
using Phase = runtime::ReplicaState::Phase;
using Step = runtime::FakeRuntime::Step;

constexpr char kJob[] = "projects/p/locations/l/customJobs/1";
constexpr char kHandle[] = "fake:1";

// Plans `tasks` replicas that run `true`, or fails with `error`. `held` is what it reserved.
class FakePlanner : public JobPlanner {
 public:
  absl::StatusOr<runtime::JobLaunch> Plan(const v1::CustomJob& job) override {
    ++calls;
    if (!error.ok()) return error;
    held.insert(job.name());
    runtime::JobLaunch launch;
    launch.key = job.name().substr(job.name().rfind('/') + 1);
    launch.name = job.name();
    launch.annotation = "grant-of-" + job.name();
    for (const std::string& t : tasks) launch.replicas.push_back({.task = t, .ports = 1});
    launch.build = [](const std::vector<runtime::ReplicaPlace>& places) {
      std::vector<runtime::ReplicaCommand> commands;
      for (const runtime::ReplicaPlace& p : places) {
        commands.push_back({.argv = {"true"}, .env = {"MASTER_ADDR=" + places[0].host, "HOME=" + p.dir}});
      }
      return commands;
    };
    return launch;
  }
  absl::Status Restore(const v1::CustomJob& job, const std::string& grant) override {
    restored.push_back(grant);
    held.insert(job.name());
    return absl::OkStatus();
  }
  void Release(const std::string& job) override { held.erase(job); }
  Subscription OnWake(std::function<void(const std::string&)> wake) override { return wakes.Add(std::move(wake)); }

  std::vector<std::string> tasks = {"workerpool0-0"};
  std::set<std::string> held;
  std::vector<std::string> restored;
  absl::Status error;
  int calls = 0;
  CallbackList<const std::string&> wakes;
};

runtime::FakeRuntime::ReplicaEnd Exited(int code, absl::Time at, bool stopped = false, int signal = 0) {
  return {
      .phase = Phase::kExited, .exit_code = code, .term_signal = signal, .stopped_by_kiln = stopped, .end_time = at};
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
    return std::make_unique<CustomJobReconciler>(store_.get(), runtime_.get(), &planner_, &clock_, options);
  }

  // kiln dies and starts again: what it held in memory (the reconciler, the ledger, which jobs
  // the runtime watches) is gone; the store and the replicas are not.
  void Restart() {
    reconciler_.reset();
    runtime_->Restart();
    planner_.held.clear();
    reconciler_ = MakeReconciler();
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
    absl::StatusOr<v1::CustomJob> job = service::Get(*store_, repo_, kJob);
    EXPECT_TRUE(job.ok()) << job.status();
    return job.ok() ? *job : v1::CustomJob();
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
      absl::Status s = reconciler_->ReconcileOnce(kJob);
      ASSERT_TRUE(s.ok()) << s;
      if (Job().state() == before) return;
    }
  }

  Phase PhaseOf(const std::string& task) {
    absl::StatusOr<runtime::JobStatus> status = runtime_->Status(kHandle);
    EXPECT_TRUE(status.ok()) << status.status();
    const runtime::ReplicaState* r = status.ok() ? status->Find(task) : nullptr;
    return r == nullptr ? Phase::kLost : r->phase;
  }

  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<runtime::FakeRuntime> runtime_ = std::make_unique<runtime::FakeRuntime>();
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
  ASSERT_EQ(runtime_->jobs().size(), 1u);
  EXPECT_EQ(runtime_->jobs()[0].commands[0].env[0], "MASTER_ADDR=10.0.0.1") << "built from the runtime's places";

  clock_.Advance(absl::Seconds(5));
  runtime_->Finish(kHandle, "workerpool0-0", Exited(0, clock_.Now()));
  Settle();
  v1::CustomJob job = Job();
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_FALSE(job.has_error());
  EXPECT_EQ(job.end_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(runtime_->launch_calls(), 1) << "never launched twice";
  EXPECT_TRUE(planner_.held.empty()) << "resources are released when the job ends";
  // The record keeps the handle (logs are read through it), not the reservation.
  absl::StatusOr<std::optional<JobRecord>> record = ReadJobRecord(*store_, kJob);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->runtime_handle, kHandle);
  EXPECT_EQ((*record)->grant, "");
}

TEST_F(ReconcilerTest, FailingWorkerFailsTheJobAndStopsThePrimary) {
  planner_.tasks = {"workerpool0-0", "workerpool1-0"};
  runtime_->SetLog(kHandle, "workerpool1-0", "loading\nTraceback: boom\n");
  CreateJob();
  Settle();
  runtime_->Finish(kHandle, "workerpool1-0", Exited(3, clock_.Now()));
  Settle();
  // The primary still runs: it is asked to stop, and the job waits for it.
  ASSERT_EQ(runtime_->stops().size(), 1u);
  EXPECT_EQ(runtime_->stops()[0].task, "workerpool0-0");
  EXPECT_EQ(runtime_->stops()[0].grace, absl::Seconds(3));
  EXPECT_EQ(Job().state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(planner_.held.size(), 1u) << "held while a replica may run";
  // kiln's SIGTERM is not the primary's failure.
  runtime_->Finish(kHandle, "workerpool0-0", Exited(0, clock_.Now() + absl::Seconds(1), true, SIGTERM));
  Settle();
  v1::CustomJob job = Job();
  EXPECT_EQ(job.state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(job.error().code(), 3);
  EXPECT_THAT(job.error().message(), HasSubstr("The replica workerpool1-0 exited with a non-zero status of 3"));
  EXPECT_THAT(job.error().message(), HasSubstr("Last lines of its log:\nloading\nTraceback: boom"));
  EXPECT_TRUE(planner_.held.empty());
}

TEST_F(ReconcilerTest, SignalsKilnSendsAfterSuccessDoNotFailTheJob) {
  planner_.tasks = {"workerpool0-0", "workerpool1-0"};
  CreateJob();
  Settle();
  runtime_->Finish(kHandle, "workerpool0-0", Exited(0, clock_.Now()));
  Settle();
  EXPECT_EQ(runtime_->stops().size(), 1u) << "the worker still running is stopped";
  runtime_->Finish(kHandle, "workerpool1-0", Exited(0, clock_.Now() + absl::Seconds(2), true, SIGKILL));
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_SUCCEEDED);
}

TEST_F(ReconcilerTest, KilledBySignalNamesTheSignal) {
  CreateJob();
  Settle();
  runtime_->Finish(kHandle, "workerpool0-0", Exited(0, clock_.Now(), false, SIGSEGV));
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(Job().error().message(), HasSubstr("was killed by signal 11"));
}

TEST_F(ReconcilerTest, LostReplicaFailsTheJob) {
  CreateJob();
  Settle();
  runtime_->Finish(kHandle, "workerpool0-0", {.phase = Phase::kLost});
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(Job().error().message(), HasSubstr("was lost"));
}

TEST_F(ReconcilerTest, CancelStopsReplicasThenCancelled) {
  CreateJob();
  Settle();
  SetState(v1::JOB_STATE_CANCELLING);
  Settle();
  ASSERT_EQ(runtime_->stops().size(), 1u);
  EXPECT_EQ(Job().state(), v1::JOB_STATE_CANCELLING);
  EXPECT_EQ(runtime_->ExitStopped(), 1);
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(Job().error().code(), 1);
}

TEST_F(ReconcilerTest, CancelBeforeLaunchNeverStartsAnything) {
  CreateJob();
  SetState(v1::JOB_STATE_CANCELLING);
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(runtime_->launch_calls(), 0);
  EXPECT_EQ(planner_.calls, 0);
}

TEST_F(ReconcilerTest, TimeoutFailsWithDeadlineExceeded) {
  CreateJob(/*timeout_seconds=*/60);
  Settle();
  clock_.Advance(absl::Seconds(59));
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_RUNNING);
  clock_.Advance(absl::Seconds(2));
  Settle();
  ASSERT_EQ(runtime_->stops().size(), 1u);
  runtime_->ExitStopped();
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

TEST_F(ReconcilerTest, ALaunchThatStartsNothingFailsTheJobAndReleases) {
  runtime_->RefuseNextLaunch(absl::InvalidArgumentError("replica workerpool0-0: empty argv"));
  CreateJob();
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(Job().error().message(), "replica workerpool0-0: empty argv");
  EXPECT_TRUE(planner_.held.empty());
}

TEST_F(ReconcilerTest, NoFreePortsWaitsQueuedAndReleases) {
  runtime_->RefuseNextLaunch(absl::ResourceExhaustedError("no 1 free ports left in kiln's range 20000-29999"));
  CreateJob();
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_QUEUED);
  EXPECT_THAT(reconciler_->QueueReason(kJob), HasSubstr("free ports"));
  EXPECT_TRUE(planner_.held.empty()) << "nothing is held while it waits";
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_RUNNING);
}

TEST_F(ReconcilerTest, AJobPlacedLaterIsPendingThenRunning) {
  runtime_->PlaceLater("Resources");
  CreateJob();
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_PENDING);
  EXPECT_FALSE(Job().has_start_time());
  runtime_->Place(kHandle);
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_RUNNING);
  EXPECT_TRUE(Job().has_start_time());
}

TEST_F(ReconcilerTest, CancellingAJobNotYetPlacedWithdrawsIt) {
  runtime_->PlaceLater("Priority");
  CreateJob();
  Settle();
  SetState(v1::JOB_STATE_CANCELLING);
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(PhaseOf("workerpool0-0"), Phase::kNotStarted);
}

// All or nothing: a launch that fails at replica i stops replicas 0..i-1, fails the job naming
// replica i, and releases the reservation only once they have exited.
TEST_F(ReconcilerTest, ALaunchFailingAtAnyReplicaStopsTheOthersBeforeReleasing) {
  const std::vector<std::string> tasks = {"workerpool0-0", "workerpool1-0", "workerpool1-1"};
  for (int fail = 0; fail < static_cast<int>(tasks.size()); ++fail) {
    SCOPED_TRACE(absl::StrCat("failing replica ", fail));
    runtime::FakeRuntime runtime;
    FakePlanner planner;
    planner.tasks = tasks;
    auto store = *store::Store::Open(":memory:");
    v1::CustomJob job;
    job.set_name(kJob);
    job.set_state(v1::JOB_STATE_QUEUED);
    ASSERT_TRUE(
        store->Write([&](store::Transaction& tx) { return repo_.Insert(tx, "projects/p/locations/l", job); }).ok());
    CustomJobReconciler reconciler(store.get(), &runtime, &planner, &clock_, {});
    auto state = [&] { return service::Get(*store, repo_, kJob)->state(); };

    runtime.FailLaunchAt(fail, absl::UnavailableError("posix_spawn: out of processes"));
    ASSERT_TRUE(reconciler.ReconcileOnce(kJob).ok());
    std::vector<runtime::FakeRuntime::StopRequest> stops = runtime.stops();
    ASSERT_EQ(stops.size(), static_cast<size_t>(fail)) << "every replica started before it is stopped";
    for (int i = 0; i < fail; ++i) EXPECT_EQ(stops[i].task, tasks[i]);
    if (fail > 0) {
      EXPECT_EQ(state(), v1::JOB_STATE_QUEUED) << "not final while started replicas may run";
      EXPECT_EQ(planner.held.size(), 1u) << "nothing is released while they may run";
      EXPECT_EQ(runtime.ExitStopped(), fail);
      ASSERT_TRUE(reconciler.ReconcileOnce(kJob).ok());
    }
    v1::CustomJob failed = *service::Get(*store, repo_, kJob);
    EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
    EXPECT_EQ(failed.error().message(),
              absl::StrCat("Replica ", tasks[fail], " could not be started: posix_spawn: out of processes"));
    EXPECT_TRUE(planner.held.empty());
    absl::StatusOr<runtime::JobStatus> status = runtime.Status(kHandle);
    ASSERT_TRUE(status.ok());
    EXPECT_TRUE(status->final());
    for (int i = fail; i < static_cast<int>(tasks.size()); ++i)
      EXPECT_EQ(status->replicas[i].phase, Phase::kNotStarted);
  }
}

// A kiln crash at any step of a launch recovers to the same end: every replica started exactly
// once, the reservation re-made from what was recorded with the launch, the job RUNNING.
TEST_F(ReconcilerTest, ACrashAtAnyStepOfALaunchRecoversToTheSameEnd) {
  planner_.tasks = {"workerpool0-0", "workerpool1-0", "workerpool1-1"};
  // Steps: before replica 0, 1, 2 starts; and after the whole launch, before its commit.
  for (int step = 0; step <= 3; ++step) {
    SCOPED_TRACE(absl::StrCat("crash at step ", step));
    store_ = *store::Store::Open(":memory:");
    reconciler_.reset();
    runtime_ = std::make_unique<runtime::FakeRuntime>();
    planner_.restored.clear();
    planner_.held.clear();
    reconciler_ = MakeReconciler();
    CreateJob();
    // The reconciler's launch is Plan, LaunchJob, commit; kiln dies inside LaunchJob (or just
    // after it), so the commit never happens.
    absl::StatusOr<runtime::JobLaunch> launch = planner_.Plan(Job());
    ASSERT_TRUE(launch.ok());
    if (step < 3) {
      runtime_->CrashLaunchAt(Step::kBeforeReplica, step);
      EXPECT_TRUE(absl::IsAborted(runtime_->LaunchJob(*launch).status()));
    } else {
      ASSERT_TRUE(runtime_->LaunchJob(*launch).ok());
    }
    EXPECT_EQ(Job().state(), v1::JOB_STATE_QUEUED) << "nothing was committed";
    Restart();
    Settle();
    EXPECT_EQ(Job().state(), v1::JOB_STATE_RUNNING);
    EXPECT_EQ(runtime_->jobs().size(), 1u) << "the launch was found, not made again";
    for (const std::string& task : planner_.tasks) EXPECT_EQ(PhaseOf(task), Phase::kRunning);
    EXPECT_EQ(planner_.restored, std::vector<std::string>{"grant-of-" + std::string(kJob)});
    EXPECT_EQ(planner_.held.size(), 1u);
    runtime_->Finish(kHandle, "workerpool0-0", Exited(0, clock_.Now()));
    Settle();
    runtime_->ExitStopped();
    Settle();
    EXPECT_EQ(Job().state(), v1::JOB_STATE_SUCCEEDED);
    EXPECT_TRUE(planner_.held.empty());
  }
}

TEST_F(ReconcilerTest, ACrashWhileAFailedLaunchStopsItsReplicasGoesOnStopping) {
  planner_.tasks = {"workerpool0-0", "workerpool1-0", "workerpool1-1"};
  runtime_->FailLaunchAt(2, absl::UnavailableError("no shim"));
  runtime_->CrashLaunchAt(Step::kAfterFailure, 0);
  CreateJob();
  absl::StatusOr<runtime::JobLaunch> launch = planner_.Plan(Job());
  ASSERT_TRUE(launch.ok());
  EXPECT_TRUE(absl::IsAborted(runtime_->LaunchJob(*launch).status()));  // kiln dies in there
  EXPECT_TRUE(runtime_->stops().empty()) << "kiln died before it stopped anything";
  Restart();
  Settle();
  ASSERT_EQ(runtime_->stops().size(), 2u) << "the restarted kiln stops what the failed launch started";
  EXPECT_EQ(Job().state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(planner_.held.size(), 1u);
  runtime_->ExitStopped();
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(Job().error().message(), HasSubstr("Replica workerpool1-1 could not be started: no shim"));
  EXPECT_TRUE(planner_.held.empty());
}

TEST_F(ReconcilerTest, RestartAdoptsRunningJobsAndFinishes) {
  CreateJob();
  Settle();
  ASSERT_EQ(Job().state(), v1::JOB_STATE_RUNNING);
  Restart();
  ASSERT_TRUE(reconciler_->ReconcileOnce(kJob).ok());
  EXPECT_EQ(runtime_->adopted(), std::vector<std::string>{kHandle});
  EXPECT_EQ(planner_.restored, std::vector<std::string>{"grant-of-" + std::string(kJob)});
  runtime_->Finish(kHandle, "workerpool0-0", Exited(0, clock_.Now()));
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(runtime_->launch_calls(), 1);
}

TEST_F(ReconcilerTest, ADecidedOutcomeSurvivesARestart) {
  planner_.tasks = {"workerpool0-0", "workerpool1-0"};
  CreateJob();
  Settle();
  runtime_->Finish(kHandle, "workerpool1-0", Exited(2, clock_.Now()));
  Settle();  // decided FAILED, the primary is being stopped
  Restart();
  runtime_->Finish(kHandle, "workerpool0-0", Exited(0, clock_.Now(), true, SIGTERM));
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(Job().error().message(), HasSubstr("workerpool1-0 exited with a non-zero status of 2"));
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

TEST_F(ReconcilerTest, ADeletedJobsFilesAndRecordGo) {
  CreateJob();
  Settle();
  runtime_->Finish(kHandle, "workerpool0-0", Exited(0, clock_.Now()));
  Settle();
  ASSERT_TRUE(store_->Write([&](store::Transaction& tx) { return repo_.Delete(tx, kJob); }).ok());
  ASSERT_TRUE(reconciler_->ReconcileOnce(kJob).ok());
  EXPECT_EQ(runtime_->removed(), std::vector<std::string>{kHandle});
  absl::StatusOr<std::optional<JobRecord>> record = ReadJobRecord(*store_, kJob);
  ASSERT_TRUE(record.ok());
  EXPECT_FALSE(record->has_value());
}

TEST_F(ReconcilerTest, WorkerLoopWakesOnStoreCommitsAndRuntimeEvents) {
  // The threaded path: Start, then only events (a commit, a runtime notification) drive the job.
  reconciler_->Start();
  CreateJob();
  auto wait_for = [&](v1::JobState state) {
    for (int i = 0; i < 1000 && Job().state() != state; ++i) absl::SleepFor(absl::Milliseconds(10));
    return Job().state() == state;
  };
  ASSERT_TRUE(wait_for(v1::JOB_STATE_RUNNING));
  runtime_->Finish(kHandle, "workerpool0-0", Exited(0, clock_.Now()));
  ASSERT_TRUE(wait_for(v1::JOB_STATE_SUCCEEDED));
  reconciler_->Stop();
}

TEST_F(ReconcilerTest, StopCancelsEveryRegistrationAndStartMayFollow) {
  reconciler_->Start();
  reconciler_->Stop();
  EXPECT_TRUE(planner_.wakes.empty()) << "the planner's wake-up is unregistered";
  CreateJob();
  runtime_->Finish(kHandle, "workerpool0-0", Exited(0, clock_.Now()));  // nobody listens: no call into it
  EXPECT_EQ(Job().state(), v1::JOB_STATE_QUEUED);
  reconciler_->Start();  // again: the initial resync picks the job up
  for (int i = 0; i < 1000 && Job().state() != v1::JOB_STATE_RUNNING; ++i) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(Job().state(), v1::JOB_STATE_RUNNING);
  reconciler_->Stop();
}

// Records of an earlier kiln (one meta entry per replica, grant/ and outcome/) become one job
// record at start, with the runtime's handle for the job's folder.
TEST_F(ReconcilerTest, RecordsOfAnEarlierKilnAreUpgradedAtStart) {
  CreateJob();
  absl::StatusOr<runtime::JobLaunch> launch = planner_.Plan(Job());
  ASSERT_TRUE(launch.ok());
  ASSERT_TRUE(runtime_->LaunchJob(*launch).ok());  // the folder that kiln left
  SetState(v1::JOB_STATE_RUNNING);
  const std::string job = kJob;
  ASSERT_TRUE(store_
                  ->Write([&](store::Transaction& tx) -> absl::Status {
                    KILN_RETURN_IF_ERROR(
                        tx.PutMeta("replicas/" + job + "/workerpool0-0", R"({"task":"workerpool0-0"})"));
                    KILN_RETURN_IF_ERROR(tx.PutMeta("grant/" + job, "old-grant"));
                    return tx.PutMeta("outcome/" + job, R"({"state":5,"code":3,"message":"The replica failed."})");
                  })
                  .ok());
  Restart();
  reconciler_->Start();
  reconciler_->Stop();
  absl::StatusOr<std::optional<JobRecord>> record = ReadJobRecord(*store_, kJob);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->runtime_handle, kHandle);
  EXPECT_EQ((*record)->grant, "old-grant");
  ASSERT_TRUE((*record)->outcome.has_value());
  EXPECT_EQ((*record)->outcome->state, v1::JOB_STATE_FAILED);
  EXPECT_EQ((*record)->outcome->error.message(), "The replica failed.");
  ASSERT_TRUE(store_
                  ->Read([&](store::Transaction& tx) -> absl::Status {
                    EXPECT_TRUE(tx.ListMeta("replicas/")->empty());
                    EXPECT_TRUE(absl::IsNotFound(tx.GetMeta("grant/" + job).status()));
                    return absl::OkStatus();
                  })
                  .ok());
  // The upgraded job ends as the old kiln had decided, once its replica has exited.
  runtime_->ExitStopped();
  Settle();
  EXPECT_EQ(runtime_->stops().size(), 1u);
  runtime_->ExitStopped();
  Settle();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(Job().error().message(), "The replica failed.");
}

}  // namespace
}  // namespace kiln::control
