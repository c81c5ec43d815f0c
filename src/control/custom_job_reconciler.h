#ifndef KILN_CONTROL_CUSTOM_JOB_RECONCILER_H_
#define KILN_CONTROL_CUSTOM_JOB_RECONCILER_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "control/work_loop.h"
#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "runtime/runtime.h"
#include "store/store.h"

namespace kiln::control {

// Turns a CustomJob into replicas: validation beyond the API's, the replicas' argv and env.
// The seam between the reconciler and jobs/ (which knows images, machine types and variables).
class ReplicaPlanner {
 public:
  struct Replica {
    std::string task_name;  // "workerpool0-0"
    int pool = 0;
    runtime::ReplicaSpec spec;
  };
  struct Planned {
    std::vector<Replica> replicas;
    std::string grant;  // what the planner reserved, opaque; handed back to Restore after a restart
  };
  virtual ~ReplicaPlanner() = default;
  // Reserves resources for the whole job (all replicas or none) and plans its replicas.
  // RESOURCE_EXHAUSTED: it cannot start now (the message says what it waits for; the job stays
  // QUEUED and is tried again when another job ends). Any other error: it cannot run here.
  virtual absl::StatusOr<Planned> Plan(const google::cloud::aiplatform::v1::CustomJob& job) = 0;
  // Re-establishes a reservation recorded before a restart.
  virtual absl::Status Restore(const google::cloud::aiplatform::v1::CustomJob& job, const std::string& grant) {
    return absl::OkStatus();
  }
  // Frees what Plan or Restore reserved for the job. Idempotent.
  virtual void Release(const std::string& job_name) {}
  // Where the planner reports that a job it answered RESOURCE_EXHAUSTED for may now plan
  // (e.g. its Python environment is ready). Called from the planner's own threads.
  virtual void SetWakeCallback(std::function<void(const std::string& job_name)> wake) {}
};

// A replica as the reconciler recorded it (for status pages and logs).
struct ReplicaRecordView {
  std::string task_name;    // "workerpool0-0"
  std::string replica_dir;  // its folder: replica.log lives there
  std::string handle;       // serialized runtime::ReplicaHandle; "" until launched
};
// The replicas recorded for `job_name`, in task order (empty before it is planned).
absl::StatusOr<std::vector<ReplicaRecordView>> ListReplicaRecords(store::Store& store, absl::string_view job_name);

// Drives every unfinished CustomJob one idempotent step at a time, from what the store says:
//
//   QUEUED ──(1) plan + (2) launch──▶ RUNNING ──(3) outcome──▶ SUCCEEDED | FAILED
//     │                                  │
//     └──────────(4) cancel──────────────┴──▶ CANCELLING ──(5)──▶ CANCELLED
//
// (1) The planner reserves resources and expands worker pools into replicas (RESOURCE_EXHAUSTED:
//     the job stays QUEUED with a reason, retried when a job ends; another error fails it).
// (2) Every replica is launched, then the grant, the replicas (meta table, `replicas/<job>/<task>`)
//     with their handles and the RUNNING state are committed in one transaction. A replica folder
//     that already has a supervisor (kiln died between launch and commit) is adopted, never
//     launched twice. PENDING appears only for jobs a kiln of an earlier version left there.
// (3) The first decisive event is recorded durably as the job's outcome: the primary
//     (workerpool0-0) exiting 0 → success; any replica failing or lost → failure naming it, its
//     exit code or signal and the last lines of its log; scheduling.timeout passing → failure with
//     DEADLINE_EXCEEDED. The other replicas are then stopped (SIGTERM, grace, SIGKILL); stops kiln
//     sends never count as failures. The job reaches its final state once every replica has exited.
// (4) CancelCustomJob (the service) sets CANCELLING; (5) replicas are stopped, then CANCELLED with
//     error.code = 1.
// A deleted job's folder (logs included) and its records are removed when the deletion's commit
// is seen.
//
// Wake-ups, no polling on the hot path: store commits naming a CustomJob, replica exits reported
// by the runtime, and the nearest timeout. A slow periodic resync (and one at start, which
// re-adopts running replicas after a restart) is the safety net.
//
// Threading: one worker thread runs every step; Start/Stop from the owner's thread.
class CustomJobReconciler {
 public:
  struct Options {
    absl::Duration stop_grace = absl::Seconds(10);
    absl::Duration resync_interval = absl::Seconds(10);
    int log_tail_lines = 20;
  };

  CustomJobReconciler(store::Store* store, runtime::Runtime* runtime, ReplicaPlanner* planner, const Clock* clock,
                      Options options);
  ~CustomJobReconciler();

  // Registers the wake-ups and starts the worker; enqueues every unfinished job.
  void Start();
  // Stops the worker (replicas keep running; a later Start re-adopts them). Idempotent.
  void Stop();

  // Runs one step for `job_name` on the caller's thread (tests drive the machine with it).
  absl::Status ReconcileOnce(const std::string& job_name);

  // Why a QUEUED job has not started ("" when it is not waiting). Thread-safe.
  std::string QueueReason(const std::string& job_name) const;

 private:
  struct ReplicaRecord;
  struct Outcome;

  // Unfinished jobs in creation order (the loop's resync).
  std::vector<std::string> Unfinished();
  // After a restart: hands the job's recorded grant back to the planner, once.
  void RestoreOnce(const google::cloud::aiplatform::v1::CustomJob& job);

  absl::Status Plan(google::cloud::aiplatform::v1::CustomJob job);
  absl::Status Launch(google::cloud::aiplatform::v1::CustomJob job);
  absl::Status Supervise(google::cloud::aiplatform::v1::CustomJob job);
  // Launches (or, after a crash, adopts) every replica without a handle, filling the handles.
  absl::Status LaunchAll(const std::string& job_name, std::vector<ReplicaRecord>& records);
  // Stores the launched replicas' handles and, with `running`, moves the job to RUNNING, in
  // one transaction.
  absl::Status SaveLaunched(const std::string& job_name, const std::vector<ReplicaRecord>& records, bool running);
  absl::Status Finish(const std::string& job_name, google::cloud::aiplatform::v1::JobState state,
                      const absl::Status& error);
  // After DeleteCustomJob: removes the job's folder (logs included) and its records.
  absl::Status CleanUp(const std::string& job_name);
  std::string LogTail(const std::string& replica_dir) const;

  store::Store* store_;
  runtime::Runtime* runtime_;
  ReplicaPlanner* planner_;
  const Clock* clock_;
  Options options_;

  mutable Mutex mu_;
  std::map<std::string, std::string> job_of_replica_dir_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> queue_reasons_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> restored_ ABSL_GUARDED_BY(mu_);
  bool listening_ = false;
  WorkLoop loop_;
};

}  // namespace kiln::control

#endif  // KILN_CONTROL_CUSTOM_JOB_RECONCILER_H_
