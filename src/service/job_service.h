#ifndef KILN_SERVICE_JOB_SERVICE_H_
#define KILN_SERVICE_JOB_SERVICE_H_

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "google/cloud/aiplatform/v1/job_service.pb.h"
#include "google/longrunning/operations.pb.h"
#include "google/protobuf/empty.pb.h"
#include "jobs/validation.h"
#include "service/operations_service.h"
#include "service/repository.h"
#include "store/store.h"

namespace kiln::service {

// google.cloud.aiplatform.v1.JobService, the CustomJob RPCs: validate, persist the desired
// state, return at once. Execution belongs to the reconcilers, which read the same store.
// Thread-safe: all state is in the store.
//
// States, as Vertex's JobState (the reconciler drives every edge but the first and cancel):
//   (create) → QUEUED → PENDING → RUNNING → SUCCEEDED | FAILED
//   QUEUED | PENDING | RUNNING --cancel--> CANCELLING → CANCELLED
class JobService {
 public:
  // `jobs_config` (nullable: API-level checks only) adds the checks against this kiln: machine
  // types, images it can map, accelerators it can ever provide, mappable URIs.
  JobService(store::Store* store, OperationsService* operations, const Clock* clock,
             const jobs::JobsConfig* jobs_config = nullptr);

  absl::StatusOr<google::cloud::aiplatform::v1::CustomJob> CreateCustomJob(
      const google::cloud::aiplatform::v1::CreateCustomJobRequest& request) const;
  absl::StatusOr<google::cloud::aiplatform::v1::CustomJob> GetCustomJob(
      const google::cloud::aiplatform::v1::GetCustomJobRequest& request) const;
  absl::StatusOr<google::cloud::aiplatform::v1::ListCustomJobsResponse> ListCustomJobs(
      const google::cloud::aiplatform::v1::ListCustomJobsRequest& request) const;
  // Only a job in a final state may be deleted (FAILED_PRECONDITION otherwise: cancel first).
  absl::StatusOr<google::longrunning::Operation> DeleteCustomJob(
      const google::cloud::aiplatform::v1::DeleteCustomJobRequest& request) const;
  // Moves a job that has not finished to CANCELLING; FAILED_PRECONDITION once it has.
  absl::StatusOr<google::protobuf::Empty> CancelCustomJob(
      const google::cloud::aiplatform::v1::CancelCustomJobRequest& request) const;

 private:
  store::Store* store_;
  OperationsService* operations_;
  const Clock* clock_;
  const jobs::JobsConfig* jobs_config_;
  Repository<google::cloud::aiplatform::v1::CustomJob> jobs_;
};

// The API-level rules of a CustomJobSpec (pools, replica counts, one task per pool); `path` is
// the spec's field path ("customJob.jobSpec", "trainingTaskInputs").
absl::Status ValidateJobSpec(absl::string_view path, const google::cloud::aiplatform::v1::CustomJobSpec& spec);

// Validates a CustomJob as submitted (field paths relative to `path`, e.g. "customJob").
absl::Status ValidateCustomJob(absl::string_view path, const google::cloud::aiplatform::v1::CustomJob& job);

bool IsFinalJobState(google::cloud::aiplatform::v1::JobState state);

}  // namespace kiln::service

#endif  // KILN_SERVICE_JOB_SERVICE_H_
