#include "service/pipeline_service.h"

#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "google/cloud/aiplatform/v1/operation.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "protojson/json_codec.h"
#include "protojson/proto_time.h"
#include "service/job_service.h"
#include "service/lifecycle.h"
#include "service/resource_name.h"
#include "service/validation.h"

namespace kiln::service {
namespace {

namespace v1 = google::cloud::aiplatform::v1;

const std::vector<filter::FieldSpec>& PipelineFilterFields() {
  static const auto* kFields = new std::vector<filter::FieldSpec>{
      {"display_name", "display_name"},
      {"state", "state"},
      {"training_task_definition", "training_task_definition"},
      {"create_time", "create_time"},
      {"update_time", "update_time"},
      {"labels", "labels"},
  };
  return *kFields;
}

absl::Status ValidateModelId(absl::string_view id) {
  static const std::regex kModelId("[a-z_][a-z0-9_-]{0,62}");
  if (!std::regex_match(std::string(id), kModelId)) {
    return FieldError("modelId", absl::StrCat("\"", id,
                                              "\" must be at most 63 characters of lowercase letters, digits, '_' and "
                                              "'-', not starting with a digit or '-'"));
  }
  return absl::OkStatus();
}

absl::Status ValidateModelToUpload(const v1::Model& model) {
  if (absl::Status s = ValidateDisplayName("modelToUpload.displayName", model.display_name()); !s.ok()) return s;
  if (absl::Status s = ValidateLabels("modelToUpload.labels", model.labels()); !s.ok()) return s;
  static const std::regex kAlias("[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]");
  for (int i = 0; i < model.version_aliases_size(); ++i) {
    if (!std::regex_match(model.version_aliases(i), kAlias)) {
      return FieldError(absl::StrCat("modelToUpload.versionAliases[", i, "]"),
                        absl::StrCat("\"", model.version_aliases(i), "\" must match [a-z][a-zA-Z0-9-]{0,126}[a-z0-9]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

// PipelineState for the shared Cancel and Delete flows (service/lifecycle.h).
struct PipelineStates {
  static bool IsFinal(v1::PipelineState s) { return IsFinalPipelineState(s); }
  static std::string Name(v1::PipelineState s) { return v1::PipelineState_Name(s); }
  static v1::PipelineState Cancelling() { return v1::PIPELINE_STATE_CANCELLING; }
};

bool IsFinalPipelineState(v1::PipelineState state) {
  return state == v1::PIPELINE_STATE_SUCCEEDED || state == v1::PIPELINE_STATE_FAILED ||
         state == v1::PIPELINE_STATE_CANCELLED;
}

absl::StatusOr<v1::CustomJobSpec> ParseCustomTaskInputs(const google::protobuf::Value& inputs) {
  if (inputs.kind_case() != google::protobuf::Value::kStructValue) {
    return FieldError("trainingTaskInputs", "must be an object holding a CustomJobSpec");
  }
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(inputs, &json).ok()) {
    return FieldError("trainingTaskInputs", "cannot be read");
  }
  v1::CustomJobSpec spec;
  if (absl::Status s = protojson::ParseJsonToMessage(json, &spec, "trainingTaskInputs"); !s.ok()) return s;
  return spec;
}

absl::StatusOr<std::string> ModelArtifactUri(const v1::TrainingPipeline& pipeline, const v1::CustomJobSpec& spec) {
  if (!pipeline.model_to_upload().artifact_uri().empty()) return pipeline.model_to_upload().artifact_uri();
  if (spec.has_base_output_directory() && !spec.base_output_directory().output_uri_prefix().empty()) {
    std::string base = spec.base_output_directory().output_uri_prefix();
    if (!absl::EndsWith(base, "/")) base += "/";
    return absl::StrCat(base, "model/");
  }
  return FieldError("modelToUpload.artifactUri",
                    "set it, or trainingTaskInputs.baseOutputDirectory.outputUriPrefix (the model is then read from "
                    "<baseOutputDirectory>/model/)");
}

PipelineService::PipelineService(store::Store* store, OperationsService* operations, const Clock* clock,
                                 const jobs::JobsConfig* jobs_config)
    : store_(store),
      operations_(operations),
      clock_(clock),
      jobs_config_(jobs_config),
      pipelines_("trainingPipelines", "TrainingPipeline") {}

absl::Status PipelineService::Validate(const v1::TrainingPipeline& p) const {
  if (absl::Status s = ValidateDisplayName("displayName", p.display_name()); !s.ok()) return s;
  if (absl::Status s = ValidateLabels("labels", p.labels()); !s.ok()) return s;
  if (p.training_task_definition().empty()) {
    return FieldError("trainingTaskDefinition", absl::StrCat("is required; supported: ", kCustomTaskDefinition));
  }
  if (p.training_task_definition() == kHyperparameterTuningTaskDefinition) {
    return absl::UnimplementedError(absl::StrCat(
        "trainingTaskDefinition: hyperparameter tuning pipelines are not supported by kiln yet; supported: ",
        kCustomTaskDefinition));
  }
  if (p.training_task_definition() != kCustomTaskDefinition) {
    return FieldError("trainingTaskDefinition",
                      absl::StrCat("\"", p.training_task_definition(),
                                   "\" is not a task definition kiln runs; supported: ", kCustomTaskDefinition));
  }
  if (p.has_input_data_config()) {
    return absl::UnimplementedError(
        "inputDataConfig: managed datasets are not supported by kiln yet; remove inputDataConfig and read your data "
        "from gs:// paths in the training code");
  }
  if (!p.has_training_task_inputs()) return FieldError("trainingTaskInputs", "is required (a CustomJobSpec)");
  absl::StatusOr<v1::CustomJobSpec> spec = ParseCustomTaskInputs(p.training_task_inputs());
  if (!spec.ok()) return spec.status();
  if (absl::Status s = ValidateJobSpec("trainingTaskInputs", *spec); !s.ok()) return s;
  if (jobs_config_ != nullptr) {
    if (absl::Status s = jobs::ValidateCustomJobSpec("trainingTaskInputs", *spec, *jobs_config_); !s.ok()) return s;
  }
  if (!p.model_id().empty()) {
    if (absl::Status s = ValidateModelId(p.model_id()); !s.ok()) return s;
    if (!p.parent_model().empty()) {
      return FieldError("modelId", "must not be set with parentModel (a new version keeps its model's id)");
    }
  }
  if (!p.parent_model().empty() && !absl::StartsWith(p.parent_model(), "projects/")) {
    return FieldError("parentModel", "must be a model name, projects/{project}/locations/{location}/models/{model}");
  }
  if (p.has_model_to_upload()) {
    if (absl::Status s = ValidateModelToUpload(p.model_to_upload()); !s.ok()) return s;
    if (absl::StatusOr<std::string> uri = ModelArtifactUri(p, *spec); !uri.ok()) return uri.status();
    if (jobs_config_ != nullptr && jobs_config_->storage != nullptr) {
      absl::StatusOr<std::string> local =
          jobs_config_->storage->ToLocalPath(*ModelArtifactUri(p, *spec), "modelToUpload.artifactUri");
      if (!local.ok()) return local.status();
    }
  } else if (!p.parent_model().empty() || !p.model_id().empty()) {
    return FieldError("modelToUpload", "is required with parentModel or modelId");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::TrainingPipeline> PipelineService::CreateTrainingPipeline(
    const v1::CreateTrainingPipelineRequest& request) const {
  absl::StatusOr<LocationName> parent = LocationName::Parse(request.parent());
  if (!parent.ok()) return parent.status();
  if (!request.has_training_pipeline()) return FieldError("trainingPipeline", "is required");
  if (absl::Status s = Validate(request.training_pipeline()); !s.ok()) return s;

  v1::TrainingPipeline pipeline = request.training_pipeline();
  // Output-only fields are the server's to set.
  pipeline.clear_state();
  pipeline.clear_error();
  pipeline.clear_start_time();
  pipeline.clear_end_time();
  pipeline.clear_training_task_metadata();
  if (pipeline.has_model_to_upload()) {
    pipeline.mutable_model_to_upload()->clear_name();
    pipeline.mutable_model_to_upload()->clear_version_id();
  }
  google::protobuf::Timestamp now = protojson::ToTimestamp(clock_->Now());
  *pipeline.mutable_create_time() = now;
  *pipeline.mutable_update_time() = now;
  pipeline.set_state(v1::PIPELINE_STATE_QUEUED);
  absl::Status s = store_->Write([&](store::Transaction& tx) -> absl::Status {
    absl::StatusOr<int64_t> id = tx.NextId("resources");
    if (!id.ok()) return id.status();
    pipeline.set_name(absl::StrCat(parent->ToString(), "/trainingPipelines/", *id));
    return pipelines_.Insert(tx, parent->ToString(), pipeline);
  });
  if (!s.ok()) return s;
  return pipeline;
}

absl::StatusOr<v1::TrainingPipeline> PipelineService::GetTrainingPipeline(
    const v1::GetTrainingPipelineRequest& request) const {
  if (absl::StatusOr<ResourceName> n = ResourceName::Parse(request.name(), "trainingPipelines"); !n.ok()) {
    return n.status();
  }
  return service::Get(*store_, pipelines_, request.name());
}

absl::StatusOr<v1::ListTrainingPipelinesResponse> PipelineService::ListTrainingPipelines(
    const v1::ListTrainingPipelinesRequest& request) const {
  absl::StatusOr<LocationName> parent = LocationName::Parse(request.parent());
  if (!parent.ok()) return parent.status();
  if (request.has_read_mask() &&
      !google::protobuf::util::FieldMaskUtil::IsValidFieldMask<v1::TrainingPipeline>(request.read_mask())) {
    return FieldError("readMask", "names a field TrainingPipeline does not have");
  }
  absl::StatusOr<Page<v1::TrainingPipeline>> page =
      List(*store_, pipelines_, parent->ToString(), request.filter(), request.page_size(), request.page_token(),
           PipelineFilterFields());
  if (!page.ok()) return page.status();
  v1::ListTrainingPipelinesResponse response;
  for (v1::TrainingPipeline& p : page->items) {
    if (request.has_read_mask()) google::protobuf::util::FieldMaskUtil::TrimMessage(request.read_mask(), &p);
    *response.add_training_pipelines() = std::move(p);
  }
  response.set_next_page_token(page->next_page_token);
  return response;
}

absl::StatusOr<google::longrunning::Operation> PipelineService::DeleteTrainingPipeline(
    const v1::DeleteTrainingPipelineRequest& request) const {
  absl::StatusOr<ResourceName> name = ResourceName::Parse(request.name(), "trainingPipelines");
  if (!name.ok()) return name.status();
  return DeleteFinished<PipelineStates>(*store_, *operations_, *clock_, pipelines_, request.name(),
                                        name->location.ToString());
}

absl::StatusOr<google::protobuf::Empty> PipelineService::CancelTrainingPipeline(
    const v1::CancelTrainingPipelineRequest& request) const {
  if (absl::StatusOr<ResourceName> n = ResourceName::Parse(request.name(), "trainingPipelines"); !n.ok()) {
    return n.status();
  }
  if (absl::Status s = RequestCancel<PipelineStates>(*store_, *clock_, pipelines_, request.name()); !s.ok()) return s;
  return google::protobuf::Empty();
}

}  // namespace kiln::service
