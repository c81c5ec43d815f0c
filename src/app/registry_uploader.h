#ifndef KILN_APP_REGISTRY_UPLOADER_H_
#define KILN_APP_REGISTRY_UPLOADER_H_

#include "control/pipeline_reconciler.h"
#include "registry/model_registry.h"

namespace kiln::app {

// The pipeline reconciler's ModelUploader over the model registry: the pipeline's
// modelToUpload becomes a new model (modelId if given) or a new version of parentModel, its
// artifacts snapshotted from `artifact_uri`, with the pipeline as back-reference and
// idempotency key (a retry after a crash returns the version already made). Thread-safe.
class RegistryUploader : public control::ModelUploader {
 public:
  explicit RegistryUploader(registry::ModelRegistry* registry) : registry_(registry) {}

  absl::StatusOr<Uploaded> Upload(const google::cloud::aiplatform::v1::TrainingPipeline& pipeline,
                                  const std::string& artifact_uri) override {
    registry::ModelRegistry::UploadRequest request;
    request.parent = pipeline.name().substr(0, pipeline.name().find("/trainingPipelines/"));
    request.model = pipeline.model_to_upload();
    request.model.set_artifact_uri(artifact_uri);
    request.parent_model = pipeline.parent_model();
    request.model_id = pipeline.model_id();
    request.training_pipeline = pipeline.name();
    request.idempotency_key = pipeline.name();
    absl::StatusOr<registry::ModelRegistry::UploadResult> result = registry_->Upload(request);
    if (!result.ok()) return result.status();
    return Uploaded{result->model.name(), result->version_id};
  }

 private:
  registry::ModelRegistry* registry_;
};

}  // namespace kiln::app

#endif  // KILN_APP_REGISTRY_UPLOADER_H_
