#include "control/pipeline_reconciler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "google/protobuf/util/time_util.h"
#include "protojson/proto_time.h"
#include "service/job_service.h"
#include "service/pipeline_service.h"
#include "service/repository.h"
#include "service/validation.h"
#include "spdlog/spdlog.h"

namespace kiln::control {
namespace {

namespace v1 = google::cloud::aiplatform::v1;

constexpr char kBackingJobKey[] = "backingCustomJob";

const service::Repository<v1::TrainingPipeline>& Pipelines() {
  static const auto* kRepo = new service::Repository<v1::TrainingPipeline>("trainingPipelines", "TrainingPipeline");
  return *kRepo;
}
const service::Repository<v1::CustomJob>& Jobs() {
  static const auto* kRepo = new service::Repository<v1::CustomJob>("customJobs", "CustomJob");
  return *kRepo;
}

// The parent location of a resource name: projects/p/locations/l.
std::string LocationOf(absl::string_view name) {
  size_t at = 0;
  for (int slashes = 0; at < name.size(); ++at) {
    if (name[at] == '/' && ++slashes == 4) break;
  }
  return std::string(name.substr(0, at));
}

// A display name for the backing job, within the 128-character limit.
std::string JobDisplayName(const v1::TrainingPipeline& pipeline) {
  std::string name = pipeline.display_name();
  while (service::Utf8Length(name) > 116) name.pop_back();
  while (!name.empty() && (static_cast<unsigned char>(name.back()) & 0xC0) == 0x80) name.pop_back();
  return absl::StrCat(name, "-custom-job");
}

}  // namespace

std::string BackingCustomJob(const v1::TrainingPipeline& pipeline) {
  const auto& fields = pipeline.training_task_metadata().struct_value().fields();
  auto it = fields.find(kBackingJobKey);
  return it == fields.end() ? "" : it->second.string_value();
}

PipelineReconciler::PipelineReconciler(store::Store* store, ModelUploader* uploader, const Clock* clock,
                                       absl::Duration resync_interval, int upload_threads)
    : store_(store),
      uploader_(uploader),
      clock_(clock),
      loop_(
          "trainingPipelines", [this](const std::string& name) { return ReconcileOnce(name); },
          [this] { return Unfinished(); }, resync_interval),
      upload_threads_wanted_(std::max(1, upload_threads)) {}

PipelineReconciler::~PipelineReconciler() { Stop(); }

void PipelineReconciler::Start() {
  if (!listening_.active()) {
    listening_ = store_->AddCommitListener([this](const std::vector<std::string>& names) {
      for (const std::string& n : names) {
        if (absl::StrContains(n, "/trainingPipelines/")) {
          loop_.Enqueue(n);
        } else if (absl::StrContains(n, "/customJobs/")) {
          std::string pipeline;
          {
            MutexLock lock(&mu_);
            auto it = pipeline_of_job_.find(n);
            if (it != pipeline_of_job_.end()) pipeline = it->second;
          }
          if (!pipeline.empty()) loop_.Enqueue(pipeline);
        }
      }
    });
  }
  loop_.Start();
}

void PipelineReconciler::Stop() {
  listening_.Cancel();  // no commit enqueues into the loop once this returns
  loop_.Stop();
  StopUploads();
}

void PipelineReconciler::StopUploads() {
  std::vector<std::thread> threads;
  {
    MutexLock lock(&upload_mu_);
    uploads_stopping_ = true;
    threads.swap(upload_threads_);
    // Queued uploads never started: forget them (the next kiln's resync starts them again).
    for (const PendingUpload& pending : upload_queue_) uploads_.erase(pending.pipeline.name());
    upload_queue_.clear();
    upload_queued_.SignalAll();
    uploads_idle_.SignalAll();
  }
  for (std::thread& t : threads) t.join();  // an upload in progress ends first
  MutexLock lock(&upload_mu_);
  uploads_stopping_ = false;  // ReconcileOnce may start them again (tests)
}

void PipelineReconciler::WaitForUploads() {
  MutexLock lock(&upload_mu_);
  while (!upload_queue_.empty() || uploads_running_ > 0) uploads_idle_.Wait(&upload_mu_);
}

int PipelineReconciler::QueuedUploads() {
  MutexLock lock(&upload_mu_);
  return static_cast<int>(upload_queue_.size());
}

std::optional<absl::StatusOr<ModelUploader::Uploaded>> PipelineReconciler::UploadOutcome(
    const v1::TrainingPipeline& pipeline, const std::string& artifact_uri) {
  MutexLock lock(&upload_mu_);
  auto it = uploads_.find(pipeline.name());
  if (it != uploads_.end()) {
    if (!it->second.has_value()) return std::nullopt;  // running
    std::optional<absl::StatusOr<ModelUploader::Uploaded>> outcome = std::move(it->second);
    uploads_.erase(it);
    return outcome;
  }
  uploads_.emplace(pipeline.name(), std::nullopt);
  upload_queue_.push_back({pipeline, artifact_uri});
  upload_queued_.Signal();
  if (static_cast<int>(upload_threads_.size()) < upload_threads_wanted_) {
    upload_threads_.emplace_back([this] { RunUploads(); });
  }
  return std::nullopt;
}

bool PipelineReconciler::UploadStarted(const std::string& pipeline) {
  MutexLock lock(&upload_mu_);
  return uploads_.count(pipeline) > 0;
}

void PipelineReconciler::RunUploads() {
  while (true) {
    PendingUpload next;
    {
      MutexLock lock(&upload_mu_);
      while (!uploads_stopping_ && upload_queue_.empty()) upload_queued_.Wait(&upload_mu_);
      if (uploads_stopping_) return;
      next = std::move(upload_queue_.front());
      upload_queue_.pop_front();
      ++uploads_running_;
    }
    absl::StatusOr<ModelUploader::Uploaded> outcome = uploader_->Upload(next.pipeline, next.artifact_uri);
    {
      MutexLock lock(&upload_mu_);
      uploads_[next.pipeline.name()] = std::move(outcome);
      --uploads_running_;
      if (upload_queue_.empty() && uploads_running_ == 0) uploads_idle_.SignalAll();
    }
    loop_.Enqueue(next.pipeline.name());  // its next step records the outcome
  }
}

std::vector<std::string> PipelineReconciler::Unfinished() {
  absl::StatusOr<std::vector<std::string>> names = service::Names(
      *store_, Pipelines(), [](const v1::TrainingPipeline& m) { return !service::IsFinalPipelineState(m.state()); });
  if (!names.ok()) {
    spdlog::error("PipelineReconciler: resync failed: {}", names.status().ToString());
    return {};
  }
  return *std::move(names);
}

absl::Status PipelineReconciler::ReconcileOnce(const std::string& name) {
  absl::StatusOr<v1::TrainingPipeline> read = service::Get(*store_, Pipelines(), name);
  if (absl::IsNotFound(read.status())) {  // deleted: forget an upload's outcome
    MutexLock lock(&upload_mu_);
    auto it = uploads_.find(name);
    if (it != uploads_.end() && it->second.has_value()) uploads_.erase(it);
    return absl::OkStatus();
  }
  if (!read.ok()) return read.status();
  v1::TrainingPipeline pipeline = *std::move(read);
  if (service::IsFinalPipelineState(pipeline.state())) return absl::OkStatus();
  std::string job = BackingCustomJob(pipeline);
  if (job.empty()) {
    if (pipeline.state() == v1::PIPELINE_STATE_CANCELLING) {
      return Finish(name, v1::PIPELINE_STATE_CANCELLED, absl::CancelledError("TrainingPipeline was cancelled."));
    }
    return CreateBackingJob(std::move(pipeline));
  }
  {
    MutexLock lock(&mu_);
    pipeline_of_job_[job] = name;
  }
  return Follow(std::move(pipeline), job);
}

absl::Status PipelineReconciler::CreateBackingJob(v1::TrainingPipeline pipeline) {
  absl::StatusOr<v1::CustomJobSpec> spec = service::ParseCustomTaskInputs(pipeline.training_task_inputs());
  if (!spec.ok()) return Finish(pipeline.name(), v1::PIPELINE_STATE_FAILED, spec.status());
  std::string job_name;
  absl::Status s = store_->Write([&](store::Transaction& tx) -> absl::Status {
    absl::StatusOr<v1::TrainingPipeline> current = Pipelines().Get(tx, pipeline.name());
    if (!current.ok()) return current.status();
    if (current->state() != v1::PIPELINE_STATE_QUEUED || !BackingCustomJob(*current).empty()) return absl::OkStatus();
    absl::StatusOr<int64_t> id = tx.NextId("resources");
    if (!id.ok()) return id.status();
    google::protobuf::Timestamp now = protojson::ToTimestamp(clock_->Now());
    v1::CustomJob job;
    std::string location = LocationOf(current->name());
    job_name = absl::StrCat(location, "/customJobs/", *id);
    job.set_name(job_name);
    job.set_display_name(JobDisplayName(*current));
    *job.mutable_job_spec() = *spec;
    *job.mutable_labels() = current->labels();
    job.set_state(v1::JOB_STATE_QUEUED);
    *job.mutable_create_time() = now;
    *job.mutable_update_time() = now;
    if (absl::Status i = Jobs().Insert(tx, location, job); !i.ok()) return i;
    (*current->mutable_training_task_metadata()->mutable_struct_value()->mutable_fields())[kBackingJobKey]
        .set_string_value(job_name);
    current->set_state(v1::PIPELINE_STATE_PENDING);
    *current->mutable_update_time() = now;
    return Pipelines().Update(tx, *current);
  });
  if (s.ok() && !job_name.empty()) {
    MutexLock lock(&mu_);
    pipeline_of_job_[job_name] = pipeline.name();
  }
  return s;
}

absl::Status PipelineReconciler::Follow(v1::TrainingPipeline pipeline, const std::string& job_name) {
  absl::StatusOr<v1::CustomJob> read = service::Get(*store_, Jobs(), job_name);
  if (absl::IsNotFound(read.status())) {
    return Finish(pipeline.name(), v1::PIPELINE_STATE_FAILED,
                  absl::FailedPreconditionError(absl::StrCat("The backing CustomJob ", job_name, " was deleted.")));
  }
  if (!read.ok()) return read.status();
  const v1::CustomJob& job = *read;

  // Once its upload has started, a pipeline goes on to SUCCEEDED even if cancelled meanwhile.
  bool uploading = job.state() == v1::JOB_STATE_SUCCEEDED && UploadStarted(pipeline.name());
  if (pipeline.state() == v1::PIPELINE_STATE_CANCELLING && !uploading) {
    if (service::IsFinalJobState(job.state())) {
      return Finish(pipeline.name(), v1::PIPELINE_STATE_CANCELLED,
                    absl::CancelledError("TrainingPipeline was cancelled."));
    }
    if (job.state() == v1::JOB_STATE_CANCELLING) return absl::OkStatus();
    return store_->Write([&](store::Transaction& tx) -> absl::Status {
      absl::StatusOr<v1::CustomJob> current = Jobs().Get(tx, job_name);
      if (!current.ok() || service::IsFinalJobState(current->state())) return current.status();
      current->set_state(v1::JOB_STATE_CANCELLING);
      *current->mutable_update_time() = protojson::ToTimestamp(clock_->Now());
      return Jobs().Update(tx, *current);
    });
  }

  switch (job.state()) {
    case v1::JOB_STATE_SUCCEEDED: {
      if (!pipeline.has_model_to_upload())
        return Finish(pipeline.name(), v1::PIPELINE_STATE_SUCCEEDED, absl::OkStatus());
      absl::StatusOr<v1::CustomJobSpec> spec = service::ParseCustomTaskInputs(pipeline.training_task_inputs());
      if (!spec.ok()) return Finish(pipeline.name(), v1::PIPELINE_STATE_FAILED, spec.status());
      absl::StatusOr<std::string> uri = service::ModelArtifactUri(pipeline, *spec);
      if (!uri.ok()) return Finish(pipeline.name(), v1::PIPELINE_STATE_FAILED, uri.status());
      std::optional<absl::StatusOr<ModelUploader::Uploaded>> outcome = UploadOutcome(pipeline, *uri);
      if (!outcome.has_value()) return absl::OkStatus();  // uploading: its end enqueues us
      absl::StatusOr<ModelUploader::Uploaded>& uploaded = *outcome;
      if (!uploaded.ok()) {
        return Finish(pipeline.name(), v1::PIPELINE_STATE_FAILED,
                      absl::Status(uploaded.status().code(),
                                   absl::StrCat("Uploading the model failed: ", uploaded.status().message())));
      }
      return Finish(pipeline.name(), v1::PIPELINE_STATE_SUCCEEDED, absl::OkStatus(), &*uploaded);
    }
    case v1::JOB_STATE_FAILED:
    case v1::JOB_STATE_EXPIRED:
      return Finish(pipeline.name(), v1::PIPELINE_STATE_FAILED,
                    absl::Status(static_cast<absl::StatusCode>(job.error().code() != 0 ? job.error().code() : 13),
                                 absl::StrCat("The backing CustomJob ", job_name, " failed: ", job.error().message())));
    case v1::JOB_STATE_CANCELLED:
      return Finish(pipeline.name(), v1::PIPELINE_STATE_CANCELLED,
                    absl::CancelledError(absl::StrCat("The backing CustomJob ", job_name, " was cancelled.")));
    case v1::JOB_STATE_RUNNING:
      if (pipeline.state() == v1::PIPELINE_STATE_RUNNING) return absl::OkStatus();
      return store_->Write([&](store::Transaction& tx) -> absl::Status {
        absl::StatusOr<v1::TrainingPipeline> current = Pipelines().Get(tx, pipeline.name());
        if (!current.ok()) return current.status();
        if (current->state() != v1::PIPELINE_STATE_PENDING && current->state() != v1::PIPELINE_STATE_QUEUED) {
          return absl::OkStatus();
        }
        google::protobuf::Timestamp now = protojson::ToTimestamp(clock_->Now());
        current->set_state(v1::PIPELINE_STATE_RUNNING);
        *current->mutable_start_time() = now;
        *current->mutable_update_time() = now;
        return Pipelines().Update(tx, *current);
      });
    default:
      return absl::OkStatus();
  }
}

absl::Status PipelineReconciler::Finish(const std::string& name, v1::PipelineState state, const absl::Status& error,
                                        const ModelUploader::Uploaded* model) {
  return store_->Write([&](store::Transaction& tx) -> absl::Status {
    absl::StatusOr<v1::TrainingPipeline> current = Pipelines().Get(tx, name);
    if (!current.ok()) return current.status();
    if (service::IsFinalPipelineState(current->state())) return absl::OkStatus();
    google::protobuf::Timestamp now = protojson::ToTimestamp(clock_->Now());
    if (state == v1::PIPELINE_STATE_SUCCEEDED && !current->has_start_time()) *current->mutable_start_time() = now;
    current->set_state(state);
    *current->mutable_end_time() = now;
    *current->mutable_update_time() = now;
    if (!error.ok()) {
      current->mutable_error()->set_code(static_cast<int>(error.code()));
      current->mutable_error()->set_message(std::string(error.message()));
    }
    if (model != nullptr) {
      current->mutable_model_to_upload()->set_name(model->model_name);
      current->mutable_model_to_upload()->set_version_id(model->version_id);
    }
    return Pipelines().Update(tx, *current);
  });
}

}  // namespace kiln::control
