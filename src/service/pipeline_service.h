#ifndef KILN_SERVICE_PIPELINE_SERVICE_H_
#define KILN_SERVICE_PIPELINE_SERVICE_H_

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "google/cloud/aiplatform/v1/pipeline_service.pb.h"
#include "google/longrunning/operations.pb.h"
#include "google/protobuf/empty.pb.h"
#include "jobs/validation.h"
#include "service/operations_service.h"
#include "service/repository.h"
#include "store/store.h"

namespace kiln::service {

// The task definitions kiln runs.
inline constexpr char kCustomTaskDefinition[] =
    "gs://google-cloud-aiplatform/schema/trainingjob/definition/custom_task_1.0.0.yaml";
inline constexpr char kHyperparameterTuningTaskDefinition[] =
    "gs://google-cloud-aiplatform/schema/trainingjob/definition/hyperparameter_tuning_task_1.0.0.yaml";

// google.cloud.aiplatform.v1.PipelineService, the TrainingPipeline RPCs: validate, persist,
// return at once; control/PipelineReconciler runs them. Thread-safe: state is in the store.
//
// States (PipelineState): QUEUED (stored) → PENDING (backing CustomJob created) → RUNNING (it
// runs) → SUCCEEDED (job succeeded, model uploaded) | FAILED; cancel: CANCELLING → CANCELLED.
// PAUSED is never entered: nothing in kiln pauses a pipeline.
class PipelineService {
 public:
  // `jobs_config` (nullable) adds the checks against this kiln to the CustomJobSpec in
  // trainingTaskInputs, as CreateCustomJob does.
  PipelineService(store::Store* store, OperationsService* operations, const Clock* clock,
                  const jobs::JobsConfig* jobs_config = nullptr);

  absl::StatusOr<google::cloud::aiplatform::v1::TrainingPipeline> CreateTrainingPipeline(
      const google::cloud::aiplatform::v1::CreateTrainingPipelineRequest& request) const;
  absl::StatusOr<google::cloud::aiplatform::v1::TrainingPipeline> GetTrainingPipeline(
      const google::cloud::aiplatform::v1::GetTrainingPipelineRequest& request) const;
  absl::StatusOr<google::cloud::aiplatform::v1::ListTrainingPipelinesResponse> ListTrainingPipelines(
      const google::cloud::aiplatform::v1::ListTrainingPipelinesRequest& request) const;
  // Only a finished pipeline may be deleted; its backing CustomJob stays (delete it separately).
  absl::StatusOr<google::longrunning::Operation> DeleteTrainingPipeline(
      const google::cloud::aiplatform::v1::DeleteTrainingPipelineRequest& request) const;
  // Moves an unfinished pipeline to CANCELLING (its CustomJob is cancelled by the reconciler).
  absl::StatusOr<google::protobuf::Empty> CancelTrainingPipeline(
      const google::cloud::aiplatform::v1::CancelTrainingPipelineRequest& request) const;

 private:
  absl::Status Validate(const google::cloud::aiplatform::v1::TrainingPipeline& pipeline) const;

  store::Store* store_;
  OperationsService* operations_;
  const Clock* clock_;
  const jobs::JobsConfig* jobs_config_;
  Repository<google::cloud::aiplatform::v1::TrainingPipeline> pipelines_;
};

// The CustomJobSpec in a custom task's trainingTaskInputs, whether its keys are camelCase (the
// REST docs) or snake_case (the Python SDK). Errors point into `trainingTaskInputs.…`.
absl::StatusOr<google::cloud::aiplatform::v1::CustomJobSpec> ParseCustomTaskInputs(
    const google::protobuf::Value& inputs);

// Where the pipeline's model artifacts are: modelToUpload.artifactUri, else
// <baseOutputDirectory>/model/; INVALID_ARGUMENT when neither is set.
absl::StatusOr<std::string> ModelArtifactUri(const google::cloud::aiplatform::v1::TrainingPipeline& pipeline,
                                             const google::cloud::aiplatform::v1::CustomJobSpec& spec);

bool IsFinalPipelineState(google::cloud::aiplatform::v1::PipelineState state);

}  // namespace kiln::service

#endif  // KILN_SERVICE_PIPELINE_SERVICE_H_
