#ifndef KILN_CONTROL_CUSTOM_JOB_RECONCILER_H_
#define KILN_CONTROL_CUSTOM_JOB_RECONCILER_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/callbacks.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "control/job_planner.h"
#include "control/job_records.h"
#include "control/work_loop.h"
#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "runtime/runtime.h"
#include "store/store.h"

namespace kiln::control {

// Drives every unfinished CustomJob one idempotent step at a time, from what the store and the
// runtime say:
//
//   QUEUED ──(1) plan + launch──▶ RUNNING ──(3) outcome──▶ SUCCEEDED | FAILED
//     │   └──(placed later)──▶ PENDING ──(2)──┘   │
//     │                                           │
//     └────────────(4) cancel─────────────────────┴──▶ CANCELLING ──(5)──▶ CANCELLED
//
// (1) The planner reserves resources for the whole job and prepares its launch
//     (RESOURCE_EXHAUSTED: the job stays QUEUED with a reason, retried when a job ends; another
//     error fails it). The runtime launches every replica or none. The job's record (runtime
//     handle, reservation) and its new state are committed in one transaction: RUNNING when
//     every replica runs, PENDING while the runtime has not placed it, unchanged with a FAILED
//     outcome when the launch failed (the runtime stops the replicas it had started).
//     Should kiln die before that commit, the next step finds the launch by the job's key
//     (Runtime::FindJob), re-reserves exactly what was reserved (the launch's annotation),
//     adopts it — the runtime finishes a launch the crash interrupted — and commits then:
//     nothing is launched twice.
// (2) A job the runtime places later moves to RUNNING when all its replicas run.
// (3) The first decisive event is recorded durably as the job's outcome: the primary
//     (workerpool0-0) exiting 0 → success; a launch failure, or any replica failing or lost →
//     failure naming it, its exit code or signal and the last lines of its log;
//     scheduling.timeout passing → DEADLINE_EXCEEDED. The runtime then stops the rest (SIGTERM,
//     grace, SIGKILL); stops kiln sends never count as failures.
// (4) CancelCustomJob (the service) sets CANCELLING; (5) replicas are stopped, then CANCELLED
//     with error.code = 1.
// The final state is committed only once the runtime reports every replica final (nothing of
// the job runs any more); only then is the reservation released, so devices and ports are never
// handed to the next job while a replica may still use them.
// A deleted job's runtime files (logs included) and its record go when the deletion's commit is
// seen.
//
// Wake-ups, no polling on the hot path: store commits naming a CustomJob, runtime notifications,
// planner wake-ups and the nearest timeout. A slow periodic resync (and one at start, which
// re-adopts launched jobs after a restart) is the safety net.
//
// Threading: one worker thread runs every step; Start/Stop from the owner's thread. Stop
// cancels every registration (store, runtime, planner) and joins the worker, so no callback
// into this object runs after it returns; Start may follow again.
class CustomJobReconciler {
 public:
  struct Options {
    absl::Duration stop_grace = absl::Seconds(10);
    absl::Duration resync_interval = absl::Seconds(10);
    int log_tail_lines = 20;
  };

  CustomJobReconciler(store::Store* store, runtime::Runtime* runtime, JobPlanner* planner, const Clock* clock,
                      Options options);
  ~CustomJobReconciler();  // Stop()

  // Registers the wake-ups and starts the worker; enqueues every unfinished job.
  void Start();
  // Cancels the registrations and stops the worker after its current step (replicas keep
  // running; a later Start re-adopts them). Idempotent.
  void Stop();

  // Runs one step for `job_name` on the caller's thread (tests drive the machine with it).
  absl::Status ReconcileOnce(const std::string& job_name);

  // Why a QUEUED job has not started ("" when it is not waiting). Thread-safe.
  std::string QueueReason(const std::string& job_name) const;

 private:
  // Unfinished jobs in creation order (the loop's resync).
  std::vector<std::string> Unfinished();

  absl::Status Start(const google::cloud::aiplatform::v1::CustomJob& job);
  absl::Status Supervise(const google::cloud::aiplatform::v1::CustomJob& job, JobRecord record);
  // The launch's commit: the record and the state the runtime's status calls for.
  absl::Status CommitLaunch(const std::string& job_name, const JobRecord& record, const runtime::JobStatus& status);
  // The outcome `status` decides for `job`, if any.
  std::optional<JobRecord::Outcome> Decide(const google::cloud::aiplatform::v1::CustomJob& job,
                                           const std::string& handle, const runtime::JobStatus& status);
  absl::Status Finish(const std::string& job_name, google::cloud::aiplatform::v1::JobState state,
                      const absl::Status& error);
  // After DeleteCustomJob: the runtime's files of the job and its record.
  absl::Status CleanUp(const std::string& job_name);
  // After a restart, once per job: re-reserve what its record holds and adopt it.
  absl::Status RecoverOnce(const google::cloud::aiplatform::v1::CustomJob& job, const JobRecord& record);
  void ForgetLocked(const std::string& job_name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  store::Store* store_;
  runtime::Runtime* runtime_;
  JobPlanner* planner_;
  const Clock* clock_;
  Options options_;

  mutable Mutex mu_;
  std::map<std::string, std::string> queue_reasons_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> recovered_ ABSL_GUARDED_BY(mu_);  // jobs this process launched or adopted
  std::vector<Subscription> subscriptions_;               // owner's thread only
  WorkLoop loop_;
};

}  // namespace kiln::control

#endif  // KILN_CONTROL_CUSTOM_JOB_RECONCILER_H_
