#ifndef KILN_CONTROL_JOB_RECORDS_H_
#define KILN_CONTROL_JOB_RECORDS_H_

// What kiln keeps about a CustomJob beside the resource itself: where the runtime runs it (its
// opaque job handle), what was reserved for it, and how it is going to end. Written by the
// CustomJobReconciler; read by whoever shows a job's replicas and logs (job extensions, Cloud
// Logging's entries:list), always through this API, never by key layout.
//
// Kept in the store's meta table, inside the caller's transaction. Thread-safe (stateless).

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/cloud/aiplatform/v1/job_state.pb.h"
#include "store/store.h"

namespace kiln::control {

struct JobRecord {
  // The runtime's handle of the launched job; "" before the launch is recorded. Kept after the
  // job ends (its logs are read through it) until the job is deleted.
  std::string runtime_handle = {};
  // The reservation (scheduling::Grant as JSON) while the job holds one; "" once released.
  std::string grant = {};
  // The decision of how the job ends, taken at the first decisive event and kept until the
  // job's final state is committed (its replicas are being stopped meanwhile).
  struct Outcome {
    google::cloud::aiplatform::v1::JobState state = google::cloud::aiplatform::v1::JOB_STATE_UNSPECIFIED;
    absl::Status error;
  };
  std::optional<Outcome> outcome = std::nullopt;
};

// The record of `job_name`; NOT_FOUND when there is none. DATA_LOSS naming the job when the
// stored record does not parse.
absl::StatusOr<JobRecord> GetJobRecord(store::Transaction& tx, absl::string_view job_name);
// Creates or replaces the record of `job_name`.
absl::Status PutJobRecord(store::Transaction& tx, absl::string_view job_name, const JobRecord& record);
// Removes it; OK when there is none.
absl::Status DeleteJobRecord(store::Transaction& tx, absl::string_view job_name);

// GetJobRecord in a read transaction of its own; nullopt when there is none.
absl::StatusOr<std::optional<JobRecord>> ReadJobRecord(store::Store& store, absl::string_view job_name);

}  // namespace kiln::control

#endif  // KILN_CONTROL_JOB_RECORDS_H_
