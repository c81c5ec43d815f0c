#ifndef KILN_SERVICE_MODEL_SERVICE_H_
#define KILN_SERVICE_MODEL_SERVICE_H_

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "google/cloud/aiplatform/v1/model_service.pb.h"
#include "google/longrunning/operations.pb.h"
#include "registry/model_registry.h"
#include "service/operations_service.h"

namespace kiln::service {

// google.cloud.aiplatform.v1.ModelService over kiln's model registry (see registry/model_registry.h
// for versions, aliases and snapshots). Long-running RPCs finish before they return: their
// Operation is recorded done, in the same transaction as the change.
//   UploadModel         → Operation `<model>/operations/<n>`, metadata UploadModelOperationMetadata,
//                         response UploadModelResponse{model, modelVersionId}
//   DeleteModel(Version)→ Operation `<location>/operations/<n>`, metadata DeleteOperationMetadata,
//                         response Empty
// Thread-safe: all state is in the store.
class ModelService {
 public:
  ModelService(registry::ModelRegistry* registry, OperationsService* operations, const Clock* clock);

  absl::StatusOr<google::longrunning::Operation> UploadModel(
      const google::cloud::aiplatform::v1::UploadModelRequest& request) const;
  // name: models/{id} (its default version) or models/{id}@{version id | alias}.
  absl::StatusOr<google::cloud::aiplatform::v1::Model> GetModel(
      const google::cloud::aiplatform::v1::GetModelRequest& request) const;
  absl::StatusOr<google::cloud::aiplatform::v1::ListModelsResponse> ListModels(
      const google::cloud::aiplatform::v1::ListModelsRequest& request) const;
  absl::StatusOr<google::cloud::aiplatform::v1::ListModelVersionsResponse> ListModelVersions(
      const google::cloud::aiplatform::v1::ListModelVersionsRequest& request) const;
  absl::StatusOr<google::longrunning::Operation> DeleteModel(
      const google::cloud::aiplatform::v1::DeleteModelRequest& request) const;
  // FAILED_PRECONDITION for the default version.
  absl::StatusOr<google::longrunning::Operation> DeleteModelVersion(
      const google::cloud::aiplatform::v1::DeleteModelVersionRequest& request) const;
  absl::StatusOr<google::cloud::aiplatform::v1::Model> MergeVersionAliases(
      const google::cloud::aiplatform::v1::MergeVersionAliasesRequest& request) const;
  // update_mask: display_name, description, labels (model); version_description, labels (model@version).
  absl::StatusOr<google::cloud::aiplatform::v1::Model> UpdateModel(
      const google::cloud::aiplatform::v1::UpdateModelRequest& request) const;

 private:
  registry::ModelRegistry* registry_;
  OperationsService* operations_;
  const Clock* clock_;
};

}  // namespace kiln::service

#endif  // KILN_SERVICE_MODEL_SERVICE_H_
