#ifndef KILN_CONTROL_JOB_PLANNER_H_
#define KILN_CONTROL_JOB_PLANNER_H_

// The seam between the CustomJobReconciler and what a job needs before it can run: resources
// reserved for the whole job, and a launch for the runtime (jobs/ knows images, machine types
// and the variables each replica gets). LocalPlanner (local_planner.h) is the implementation;
// tests use a fake.

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/callbacks.h"
#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "runtime/runtime.h"

namespace kiln::control {

class JobPlanner {
 public:
  virtual ~JobPlanner() = default;

  // Reserves resources for the whole job (all replicas or none) and prepares its launch: key
  // (the job's id), name, replicas, a builder that turns the runtime's places into commands,
  // and the reservation as the launch's annotation (handed back to Restore after a restart).
  // RESOURCE_EXHAUSTED: it cannot start now (the message says what it waits for; the job stays
  // QUEUED and is tried again when another job ends or the planner wakes it). Any other error:
  // it cannot run here.
  virtual absl::StatusOr<runtime::JobLaunch> Plan(const google::cloud::aiplatform::v1::CustomJob& job) = 0;
  // Re-establishes a reservation recorded before a restart (the launch's annotation).
  virtual absl::Status Restore(const google::cloud::aiplatform::v1::CustomJob& job, const std::string& grant) = 0;
  // Frees what Plan or Restore reserved for the job. Idempotent.
  virtual void Release(const std::string& job_name) = 0;
  // `wake(job_name)` runs (on a planner thread) when a job Plan answered RESOURCE_EXHAUSTED for
  // may now plan (e.g. its Python environment is ready), until the Subscription is cancelled.
  [[nodiscard]] virtual Subscription OnWake(std::function<void(const std::string& job_name)> wake) = 0;
};

}  // namespace kiln::control

#endif  // KILN_CONTROL_JOB_PLANNER_H_
