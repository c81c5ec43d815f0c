#ifndef KILN_CONTROL_PIPELINE_RECONCILER_H_
#define KILN_CONTROL_PIPELINE_RECONCILER_H_

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/callbacks.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "control/work_loop.h"
#include "google/cloud/aiplatform/v1/training_pipeline.pb.h"
#include "store/store.h"

namespace kiln::control {

// The seam to the model registry.
class ModelUploader {
 public:
  struct Uploaded {
    std::string model_name;  // projects/p/locations/l/models/{id}
    std::string version_id;  // "1", "2", ...
  };
  virtual ~ModelUploader() = default;
  // Uploads `pipeline`'s modelToUpload (as a new model, or a version of parentModel) from the
  // artifacts at `artifact_uri`. Idempotent per pipeline: after a crash the retry returns the
  // version already made. FAILED_PRECONDITION when there are no artifacts there.
  virtual absl::StatusOr<Uploaded> Upload(const google::cloud::aiplatform::v1::TrainingPipeline& pipeline,
                                          const std::string& artifact_uri) = 0;
};

// Runs custom-task TrainingPipelines: one backing CustomJob (run by the CustomJobReconciler),
// then the model upload.
//
//   QUEUED ──(1)──▶ PENDING ──(2)──▶ RUNNING ──(3)──▶ SUCCEEDED | FAILED
//     │               │                 │
//     └───────(4) cancel────────────────┴──▶ CANCELLING ──(5)──▶ CANCELLED
//
// (1) The backing CustomJob is created in the same transaction that moves the pipeline to
//     PENDING and names it in trainingTaskMetadata.backingCustomJob: never two jobs per pipeline.
// (2) The job runs: the pipeline is RUNNING (startTime).
// (3) The job succeeded: the model is uploaded from modelToUpload.artifactUri, else
//     <baseOutputDirectory>/model/ (missing or empty artifacts fail the pipeline naming the URI),
//     then the pipeline SUCCEEDS with modelToUpload.name and .versionId filled. The job failed:
//     the pipeline fails with the job's error.
//     Uploads copy artifacts, which may take minutes, so they run on their own threads
//     (`upload_threads`, started on first use): the step that finds the job succeeded starts the
//     upload and returns, and the upload's end enqueues the pipeline, whose next step records
//     the outcome. Other pipelines' steps never wait for a copy. A cancel that arrives once the
//     upload has started is too late: the pipeline still SUCCEEDS with its model.
// (4)(5) Cancelling the pipeline cancels its job; once the job has ended the pipeline is
//     CANCELLED with error.code 1.
// Woken by commits of pipelines and of their backing jobs; a 10 s resync is the safety net.
// Threading: one worker thread (WorkLoop) plus the upload threads; Start/Stop from the owner's
// thread. Stop waits for uploads in progress to end (they are idempotent, so a kill -9 instead
// is safe too: the next kiln uploads again and gets the same version).
class PipelineReconciler {
 public:
  PipelineReconciler(store::Store* store, ModelUploader* uploader, const Clock* clock,
                     absl::Duration resync_interval = absl::Seconds(10), int upload_threads = 2);
  ~PipelineReconciler();

  void Start();
  void Stop();
  // One step for `name` on the caller's thread (tests drive the machine with it).
  absl::Status ReconcileOnce(const std::string& name);
  // Blocks until no upload is queued or running (tests, with ReconcileOnce).
  void WaitForUploads();
  // Uploads queued and not started yet (tests).
  int QueuedUploads();

 private:
  std::vector<std::string> Unfinished();
  absl::Status CreateBackingJob(google::cloud::aiplatform::v1::TrainingPipeline pipeline);
  absl::Status Follow(google::cloud::aiplatform::v1::TrainingPipeline pipeline, const std::string& job_name);
  absl::Status Finish(const std::string& name, google::cloud::aiplatform::v1::PipelineState state,
                      const absl::Status& error, const ModelUploader::Uploaded* model = nullptr);
  // The outcome of `pipeline`'s upload once it has ended (and forgets it); nullopt while it
  // runs, after starting it if it was not.
  std::optional<absl::StatusOr<ModelUploader::Uploaded>> UploadOutcome(
      const google::cloud::aiplatform::v1::TrainingPipeline& pipeline, const std::string& artifact_uri);
  bool UploadStarted(const std::string& pipeline);
  void RunUploads();
  void StopUploads();

  struct PendingUpload {
    google::cloud::aiplatform::v1::TrainingPipeline pipeline;
    std::string artifact_uri;
  };

  store::Store* store_;
  ModelUploader* uploader_;
  const Clock* clock_;
  Mutex mu_;
  std::map<std::string, std::string> pipeline_of_job_ ABSL_GUARDED_BY(mu_);
  Subscription listening_;  // commits of pipelines and their jobs; owner's thread only
  WorkLoop loop_;

  const int upload_threads_wanted_;
  Mutex upload_mu_;
  std::deque<PendingUpload> upload_queue_ ABSL_GUARDED_BY(upload_mu_);
  // Per pipeline: nullopt while queued or running, then its outcome until a step takes it.
  std::map<std::string, std::optional<absl::StatusOr<ModelUploader::Uploaded>>> uploads_ ABSL_GUARDED_BY(upload_mu_);
  int uploads_running_ ABSL_GUARDED_BY(upload_mu_) = 0;
  bool uploads_stopping_ ABSL_GUARDED_BY(upload_mu_) = false;
  std::vector<std::thread> upload_threads_ ABSL_GUARDED_BY(upload_mu_);
  CondVar upload_queued_;  // signalled when upload_queue_ gains an upload or uploads_stopping_ is set
  CondVar uploads_idle_;   // signalled when the queue is empty and nothing runs
};

// The backing CustomJob named in a pipeline's trainingTaskMetadata ("" if none yet).
std::string BackingCustomJob(const google::cloud::aiplatform::v1::TrainingPipeline& pipeline);

}  // namespace kiln::control

#endif  // KILN_CONTROL_PIPELINE_RECONCILER_H_
