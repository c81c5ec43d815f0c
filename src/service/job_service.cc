#include "service/job_service.h"

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "google/cloud/aiplatform/v1/operation.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/time_util.h"
#include "protojson/proto_time.h"
#include "service/lifecycle.h"
#include "service/resource_name.h"
#include "service/validation.h"

namespace kiln::service {
namespace {

namespace v1 = google::cloud::aiplatform::v1;

const std::vector<filter::FieldSpec>& CustomJobFilterFields() {
  static const auto* kFields = new std::vector<filter::FieldSpec>{
      {"display_name", "display_name"}, {"state", "state"},   {"create_time", "create_time"},
      {"update_time", "update_time"},   {"labels", "labels"},
  };
  return *kFields;
}

// JobState for the shared Cancel and Delete flows (service/lifecycle.h).
struct JobStates {
  static bool IsFinal(v1::JobState s) { return IsFinalJobState(s); }
  static std::string Name(v1::JobState s) { return v1::JobState_Name(s); }
  static v1::JobState Cancelling() { return v1::JOB_STATE_CANCELLING; }
};

}  // namespace

bool IsFinalJobState(v1::JobState state) {
  return state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_FAILED || state == v1::JOB_STATE_CANCELLED ||
         state == v1::JOB_STATE_EXPIRED || state == v1::JOB_STATE_PARTIALLY_SUCCEEDED;
}

absl::Status ValidateJobSpec(absl::string_view path, const v1::CustomJobSpec& spec) {
  std::string pools_path = absl::StrCat(path, ".workerPoolSpecs");
  if (spec.worker_pool_specs_size() == 0) return FieldError(pools_path, "at least one worker pool is required");
  for (int i = 0; i < spec.worker_pool_specs_size(); ++i) {
    const v1::WorkerPoolSpec& pool = spec.worker_pool_specs(i);
    std::string where = absl::StrCat(pools_path, "[", i, "]");
    bool empty = pool.ByteSizeLong() == 0;
    if (empty && i == 0) return FieldError(where, "the first worker pool (the primary replica) must not be empty");
    if (empty) continue;  // Interior pools may be {} (the SDK keeps them as placeholders).
    if (pool.replica_count() < 1) return FieldError(absl::StrCat(where, ".replicaCount"), "must be ≥ 1");
    if (pool.task_case() == v1::WorkerPoolSpec::TASK_NOT_SET) {
      return FieldError(where, "one of containerSpec or pythonPackageSpec is required");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateCustomJob(absl::string_view path, const v1::CustomJob& job) {
  auto at = [&](absl::string_view field) { return absl::StrCat(path, ".", field); };
  if (absl::Status s = ValidateDisplayName(at("displayName"), job.display_name()); !s.ok()) return s;
  if (absl::Status s = ValidateLabels(at("labels"), job.labels()); !s.ok()) return s;
  if (!job.has_job_spec()) return FieldError(at("jobSpec"), "is required");
  return ValidateJobSpec(at("jobSpec"), job.job_spec());
}

JobService::JobService(store::Store* store, OperationsService* operations, const Clock* clock,
                       const jobs::JobsConfig* jobs_config)
    : store_(store),
      operations_(operations),
      clock_(clock),
      jobs_config_(jobs_config),
      jobs_("customJobs", "CustomJob") {}

absl::StatusOr<v1::CustomJob> JobService::CreateCustomJob(const v1::CreateCustomJobRequest& request) const {
  absl::StatusOr<LocationName> parent = LocationName::Parse(request.parent());
  if (!parent.ok()) return parent.status();
  if (!request.has_custom_job()) return FieldError("customJob", "is required");
  if (absl::Status s = ValidateCustomJob("customJob", request.custom_job()); !s.ok()) return s;
  if (jobs_config_ != nullptr) {
    if (absl::Status s =
            jobs::ValidateCustomJobSpec("customJob.jobSpec", request.custom_job().job_spec(), *jobs_config_);
        !s.ok()) {
      return s;
    }
  }

  v1::CustomJob job = request.custom_job();
  // Output-only fields are the server's to set, whatever the client sent.
  job.clear_state();
  job.clear_error();
  job.clear_start_time();
  job.clear_end_time();
  job.clear_web_access_uris();
  google::protobuf::Timestamp now = protojson::ToTimestamp(clock_->Now());
  *job.mutable_create_time() = now;
  *job.mutable_update_time() = now;
  job.set_state(v1::JOB_STATE_QUEUED);

  absl::Status s = store_->Write([&](store::Transaction& tx) -> absl::Status {
    absl::StatusOr<int64_t> id = tx.NextId("resources");
    if (!id.ok()) return id.status();
    job.set_name(absl::StrCat(parent->ToString(), "/customJobs/", *id));
    return jobs_.Insert(tx, parent->ToString(), job);
  });
  if (!s.ok()) return s;
  return job;
}

absl::StatusOr<v1::CustomJob> JobService::GetCustomJob(const v1::GetCustomJobRequest& request) const {
  absl::StatusOr<ResourceName> name = ResourceName::Parse(request.name(), "customJobs");
  if (!name.ok()) return name.status();
  return service::Get(*store_, jobs_, request.name());
}

absl::StatusOr<v1::ListCustomJobsResponse> JobService::ListCustomJobs(const v1::ListCustomJobsRequest& request) const {
  absl::StatusOr<LocationName> parent = LocationName::Parse(request.parent());
  if (!parent.ok()) return parent.status();
  if (request.has_read_mask() &&
      !google::protobuf::util::FieldMaskUtil::IsValidFieldMask<v1::CustomJob>(request.read_mask())) {
    return FieldError("readMask", "names a field CustomJob does not have");
  }
  absl::StatusOr<Page<v1::CustomJob>> page = List(*store_, jobs_, parent->ToString(), request.filter(),
                                                  request.page_size(), request.page_token(), CustomJobFilterFields());
  if (!page.ok()) return page.status();
  v1::ListCustomJobsResponse response;
  for (v1::CustomJob& job : page->items) {
    if (request.has_read_mask()) google::protobuf::util::FieldMaskUtil::TrimMessage(request.read_mask(), &job);
    *response.add_custom_jobs() = std::move(job);
  }
  response.set_next_page_token(page->next_page_token);
  return response;
}

absl::StatusOr<google::longrunning::Operation> JobService::DeleteCustomJob(
    const v1::DeleteCustomJobRequest& request) const {
  absl::StatusOr<ResourceName> name = ResourceName::Parse(request.name(), "customJobs");
  if (!name.ok()) return name.status();
  return DeleteFinished<JobStates>(*store_, *operations_, *clock_, jobs_, request.name(), name->location.ToString());
}

absl::StatusOr<google::protobuf::Empty> JobService::CancelCustomJob(const v1::CancelCustomJobRequest& request) const {
  absl::StatusOr<ResourceName> name = ResourceName::Parse(request.name(), "customJobs");
  if (!name.ok()) return name.status();
  if (absl::Status s = RequestCancel<JobStates>(*store_, *clock_, jobs_, request.name()); !s.ok()) return s;
  return google::protobuf::Empty();
}

}  // namespace kiln::service
