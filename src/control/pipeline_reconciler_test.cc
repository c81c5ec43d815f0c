#include "control/pipeline_reconciler.h"

#include <algorithm>
#include <thread>

#include "common/mutex.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "service/job_service.h"
#include "service/repository.h"

namespace kiln::control {
namespace {

namespace v1 = google::cloud::aiplatform::v1;
using ::testing::HasSubstr;

constexpr char kPipeline[] = "projects/p/locations/l/trainingPipelines/1";

// Records uploads; with `hold` set, each upload waits until Release() (or 30 s).
class FakeUploader : public ModelUploader {
 public:
  absl::StatusOr<Uploaded> Upload(const v1::TrainingPipeline& pipeline, const std::string& uri) override {
    MutexLock lock(&mu_);
    uris.push_back(uri);
    started.push_back(pipeline.name());
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (hold && !released_ && !released_cv_.WaitWithDeadline(&mu_, deadline)) {
    }
    if (!error.ok()) return error;
    return Uploaded{"projects/p/locations/l/models/9", "1"};
  }
  void Release() {
    MutexLock lock(&mu_);
    released_ = true;
    released_cv_.SignalAll();
  }
  bool Started(const std::string& pipeline) {
    MutexLock lock(&mu_);
    return std::find(started.begin(), started.end(), pipeline) != started.end();
  }
  Mutex mu_;
  std::vector<std::string> uris;
  std::vector<std::string> started;
  absl::Status error;
  bool hold = false;

 private:
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  CondVar released_cv_;
};

class PipelineReconcilerTest : public ::testing::Test {
 protected:
  PipelineReconcilerTest() : store_(*store::Store::Open(":memory:")), reconciler_(store_.get(), &uploader_, &clock_) {}

  void Create(const std::string& extra_model_json = "", const std::string& name = kPipeline) {
    v1::TrainingPipeline p;
    auto parsed = google::protobuf::util::JsonStringToMessage(
        R"({"name": ")" + name + R"(", "displayName": "pipe", "state": "PIPELINE_STATE_QUEUED",
                        "labels": {"team": "ml"},
                        "trainingTaskDefinition": "gs://google-cloud-aiplatform/schema/trainingjob/definition/custom_task_1.0.0.yaml",
                        "trainingTaskInputs": {"workerPoolSpecs": [{"replicaCount": "1", "containerSpec": {"imageUri": "i", "command": ["true"]}}],
                                               "baseOutputDirectory": {"outputUriPrefix": "gs://b/out"}},
                        "modelToUpload": {"displayName": "m")" +
            extra_model_json + "}}",
        &p);
    ASSERT_TRUE(parsed.ok()) << parsed.ToString();
    ASSERT_TRUE(
        store_->Write([&](store::Transaction& tx) { return pipelines_.Insert(tx, "projects/p/locations/l", p); }).ok());
  }
  v1::TrainingPipeline Pipeline(const std::string& name = kPipeline) {
    v1::TrainingPipeline p;
    absl::Status s = store_->Read([&](store::Transaction& tx) -> absl::Status {
      auto got = pipelines_.Get(tx, name);
      if (got.ok()) p = *got;
      return got.status();
    });
    EXPECT_TRUE(s.ok()) << s;
    return p;
  }
  v1::CustomJob Job() {
    v1::CustomJob j;
    std::string name = BackingCustomJob(Pipeline());  // not inside the transaction below
    EXPECT_TRUE(store_
                    ->Read([&](store::Transaction& tx) -> absl::Status {
                      auto got = jobs_.Get(tx, name);
                      if (got.ok()) j = *got;
                      return got.status();
                    })
                    .ok());
    return j;
  }
  void SetJob(v1::JobState state, int code = 0, const std::string& message = "",
              const std::string& pipeline = kPipeline) {
    std::string name = BackingCustomJob(Pipeline(pipeline));  // not inside the transaction below
    ASSERT_TRUE(store_
                    ->Write([&](store::Transaction& tx) -> absl::Status {
                      auto j = jobs_.Get(tx, name);
                      if (!j.ok()) return j.status();
                      j->set_state(state);
                      if (code != 0) {
                        j->mutable_error()->set_code(code);
                        j->mutable_error()->set_message(message);
                      }
                      return jobs_.Update(tx, *j);
                    })
                    .ok());
  }
  void SetPipelineState(v1::PipelineState state) {
    ASSERT_TRUE(store_
                    ->Write([&](store::Transaction& tx) -> absl::Status {
                      auto p = pipelines_.Get(tx, kPipeline);
                      p->set_state(state);
                      return pipelines_.Update(tx, *p);
                    })
                    .ok());
  }
  void Step() { ASSERT_TRUE(reconciler_.ReconcileOnce(kPipeline).ok()); }
  // The step that starts the upload, the upload, and the step that records its outcome.
  void StepThroughUpload() {
    Step();
    reconciler_.WaitForUploads();
    Step();
  }
  // Waits (≤ 10 s) for a pipeline to reach `state` (with the reconciler's threads running).
  bool WaitFor(v1::PipelineState state, const std::string& name = kPipeline) {
    for (int i = 0; i < 1000 && Pipeline(name).state() != state; ++i) absl::SleepFor(absl::Milliseconds(10));
    return Pipeline(name).state() == state;
  }

  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  FakeUploader uploader_;
  PipelineReconciler reconciler_;
  service::Repository<v1::TrainingPipeline> pipelines_{"trainingPipelines", "TrainingPipeline"};
  service::Repository<v1::CustomJob> jobs_{"customJobs", "CustomJob"};
};

TEST_F(PipelineReconcilerTest, BackingJobThenUploadThenSucceeded) {
  Create();
  Step();
  v1::TrainingPipeline p = Pipeline();
  EXPECT_EQ(p.state(), v1::PIPELINE_STATE_PENDING);
  std::string job_name = BackingCustomJob(p);
  EXPECT_THAT(job_name, HasSubstr("projects/p/locations/l/customJobs/"));
  v1::CustomJob job = Job();
  EXPECT_EQ(job.state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(job.display_name(), "pipe-custom-job");
  EXPECT_EQ(job.labels().at("team"), "ml");
  EXPECT_EQ(job.job_spec().worker_pool_specs(0).container_spec().image_uri(), "i");
  Step();
  EXPECT_EQ(BackingCustomJob(Pipeline()), job_name) << "never a second backing job";

  SetJob(v1::JOB_STATE_RUNNING);
  Step();
  EXPECT_EQ(Pipeline().state(), v1::PIPELINE_STATE_RUNNING);
  EXPECT_TRUE(Pipeline().has_start_time());

  SetJob(v1::JOB_STATE_SUCCEEDED);
  Step();
  EXPECT_EQ(Pipeline().state(), v1::PIPELINE_STATE_RUNNING) << "the upload runs on its own thread";
  reconciler_.WaitForUploads();
  Step();
  p = Pipeline();
  EXPECT_EQ(p.state(), v1::PIPELINE_STATE_SUCCEEDED);
  EXPECT_EQ(p.model_to_upload().name(), "projects/p/locations/l/models/9");
  EXPECT_EQ(p.model_to_upload().version_id(), "1");
  EXPECT_EQ(uploader_.uris, std::vector<std::string>{"gs://b/out/model/"});
}

TEST_F(PipelineReconcilerTest, ArtifactUriWins) {
  Create(R"(, "artifactUri": "gs://elsewhere/m")");
  Step();
  SetJob(v1::JOB_STATE_SUCCEEDED);
  StepThroughUpload();
  EXPECT_EQ(uploader_.uris, std::vector<std::string>{"gs://elsewhere/m"});
}

TEST_F(PipelineReconcilerTest, MissingArtifactsFailTheUpload) {
  uploader_.error = absl::FailedPreconditionError("no model artifacts at gs://b/out/model/");
  Create();
  Step();
  SetJob(v1::JOB_STATE_SUCCEEDED);
  StepThroughUpload();
  EXPECT_EQ(Pipeline().state(), v1::PIPELINE_STATE_FAILED);
  EXPECT_THAT(Pipeline().error().message(), HasSubstr("no model artifacts at gs://b/out/model/"));
}

TEST_F(PipelineReconcilerTest, JobFailureFailsThePipelineWithItsError) {
  Create();
  Step();
  SetJob(v1::JOB_STATE_FAILED, 3, "The replica workerpool0-0 exited with a non-zero status of 1.");
  Step();
  v1::TrainingPipeline p = Pipeline();
  EXPECT_EQ(p.state(), v1::PIPELINE_STATE_FAILED);
  EXPECT_EQ(p.error().code(), 3);
  EXPECT_THAT(p.error().message(), HasSubstr("exited with a non-zero status of 1"));
  EXPECT_TRUE(uploader_.uris.empty());
}

TEST_F(PipelineReconcilerTest, CancelCancelsTheJobThenCancelled) {
  Create();
  Step();
  SetJob(v1::JOB_STATE_RUNNING);
  Step();
  SetPipelineState(v1::PIPELINE_STATE_CANCELLING);
  Step();
  EXPECT_EQ(Job().state(), v1::JOB_STATE_CANCELLING);
  EXPECT_EQ(Pipeline().state(), v1::PIPELINE_STATE_CANCELLING);
  SetJob(v1::JOB_STATE_CANCELLED);
  Step();
  EXPECT_EQ(Pipeline().state(), v1::PIPELINE_STATE_CANCELLED);
  EXPECT_EQ(Pipeline().error().code(), 1);
}

TEST_F(PipelineReconcilerTest, CancelBeforeTheJobExistsNeverCreatesIt) {
  Create();
  SetPipelineState(v1::PIPELINE_STATE_CANCELLING);
  Step();
  EXPECT_EQ(Pipeline().state(), v1::PIPELINE_STATE_CANCELLED);
  EXPECT_EQ(BackingCustomJob(Pipeline()), "");
}

TEST_F(PipelineReconcilerTest, WorkerFollowsJobCommits) {
  reconciler_.Start();
  Create();
  ASSERT_TRUE(WaitFor(v1::PIPELINE_STATE_PENDING));
  SetJob(v1::JOB_STATE_SUCCEEDED);
  ASSERT_TRUE(WaitFor(v1::PIPELINE_STATE_SUCCEEDED));
  reconciler_.Stop();
}

TEST_F(PipelineReconcilerTest, AnUploadInProgressDoesNotHoldUpOtherPipelines) {
  constexpr char kOther[] = "projects/p/locations/l/trainingPipelines/2";
  uploader_.hold = true;
  reconciler_.Start();
  Create();
  ASSERT_TRUE(WaitFor(v1::PIPELINE_STATE_PENDING));
  SetJob(v1::JOB_STATE_SUCCEEDED);
  for (int i = 0; i < 1000 && !uploader_.Started(kPipeline); ++i) absl::SleepFor(absl::Milliseconds(10));
  ASSERT_TRUE(uploader_.Started(kPipeline));
  // While that copy runs, another pipeline goes all the way.
  Create("", kOther);
  ASSERT_TRUE(WaitFor(v1::PIPELINE_STATE_PENDING, kOther));
  SetJob(v1::JOB_STATE_RUNNING, 0, "", kOther);
  ASSERT_TRUE(WaitFor(v1::PIPELINE_STATE_RUNNING, kOther));
  SetJob(v1::JOB_STATE_FAILED, 3, "boom", kOther);
  ASSERT_TRUE(WaitFor(v1::PIPELINE_STATE_FAILED, kOther));
  EXPECT_EQ(Pipeline().state(), v1::PIPELINE_STATE_PENDING);  // still uploading
  uploader_.Release();
  ASSERT_TRUE(WaitFor(v1::PIPELINE_STATE_SUCCEEDED));
  EXPECT_EQ(Pipeline().model_to_upload().name(), "projects/p/locations/l/models/9");
  reconciler_.Stop();
}

TEST_F(PipelineReconcilerTest, ACancelDuringTheUploadIsTooLate) {
  uploader_.hold = true;
  Create();
  Step();
  SetJob(v1::JOB_STATE_SUCCEEDED);
  Step();  // starts the upload
  for (int i = 0; i < 1000 && !uploader_.Started(kPipeline); ++i) absl::SleepFor(absl::Milliseconds(10));
  SetPipelineState(v1::PIPELINE_STATE_CANCELLING);
  Step();
  EXPECT_EQ(Pipeline().state(), v1::PIPELINE_STATE_CANCELLING);
  uploader_.Release();
  reconciler_.WaitForUploads();
  Step();
  EXPECT_EQ(Pipeline().state(), v1::PIPELINE_STATE_SUCCEEDED);
  EXPECT_EQ(Pipeline().model_to_upload().version_id(), "1");
}

TEST_F(PipelineReconcilerTest, StopWaitsForTheRunningUploadAndDropsQueuedOnes) {
  constexpr char kOther[] = "projects/p/locations/l/trainingPipelines/2";
  PipelineReconciler one_thread(store_.get(), &uploader_, &clock_, absl::Seconds(10), /*upload_threads=*/1);
  uploader_.hold = true;
  for (const char* name : {kPipeline, kOther}) {
    Create("", name);
    ASSERT_TRUE(one_thread.ReconcileOnce(name).ok());
    SetJob(v1::JOB_STATE_SUCCEEDED, 0, "", name);
    ASSERT_TRUE(one_thread.ReconcileOnce(name).ok());  // queues the upload
  }
  for (int i = 0; i < 1000 && !uploader_.Started(kPipeline); ++i) absl::SleepFor(absl::Milliseconds(10));
  ASSERT_EQ(one_thread.QueuedUploads(), 1);  // the other waits for the only upload thread
  std::thread stopper([&] { one_thread.Stop(); });
  // Stop drops the queued upload before it waits for the running one.
  for (int i = 0; i < 1000 && one_thread.QueuedUploads() != 0; ++i) absl::SleepFor(absl::Milliseconds(10));
  ASSERT_EQ(one_thread.QueuedUploads(), 0);
  uploader_.Release();
  stopper.join();
  EXPECT_FALSE(uploader_.Started(kOther)) << "a queued upload is left for the next kiln";
  // Started again (as after a restart), the dropped upload runs.
  ASSERT_TRUE(one_thread.ReconcileOnce(kOther).ok());
  one_thread.WaitForUploads();
  ASSERT_TRUE(one_thread.ReconcileOnce(kOther).ok());
  EXPECT_EQ(Pipeline(kOther).state(), v1::PIPELINE_STATE_SUCCEEDED);
}

}  // namespace
}  // namespace kiln::control
