#ifndef KILN_CLIENT_PIPELINE_FLAGS_H_
#define KILN_CLIENT_PIPELINE_FLAGS_H_

// The flags of `kiln pipelines create` (modelled on the Python SDK's
// CustomPythonPackageTrainingJob, CustomTrainingJob and
// CustomContainerTrainingJob and their run() parameters) and how they become
// the TrainingPipeline sent to POST /v1/{parent}/trainingPipelines. Every
// error here is INVALID_ARGUMENT naming the flag (a usage error).

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/cloud/aiplatform/v1/training_pipeline.pb.h"

namespace kiln::client {

inline constexpr char kCustomTaskDefinition[] =
    "gs://google-cloud-aiplatform/schema/trainingjob/definition/"
    "custom_task_1.0.0.yaml";

// The create flags as typed; an empty string means "not given".
struct PipelineFlags {
  std::string display_name;  // --display-name (required)
  // Training source: exactly one of
  //  (a) python package: --python-package-uris + --python-module +
  //      --container-uri (the executor image);
  //  (b) script: --script + --container-uri [+ --staging-bucket];
  //  (c) custom container: --container-image-uri [+ --command].
  std::string python_package_uris;  // gs://a.tar.gz,gs://b.tar.gz
  std::string python_module;        // trainer.task
  std::string container_uri;        // executor image for (a) and (b)
  std::string script;               // a local train.py
  std::string staging_bucket;       // gs://bucket[/prefix] for (b)
  std::string container_image_uri;  // (c)
  std::string command;              // (c) only: a,b
  std::string args;                 // --args a,b (gcloud list)
  std::vector<std::string> arg;     // --arg X (repeatable; may hold commas)
  int replica_count = 1;            // 1 primary + N-1 workers
  std::string machine_type = "n1-standard-4";
  std::string accelerator_type;
  int accelerator_count = 0;    // 0: 1 when a type is given.
  std::string env_vars;         // K=V,K2=V2
  std::string timeout;          // scheduling.timeout: 3600s | 1h | 3600
  std::string base_output_dir;  // baseOutputDirectory.outputUriPrefix
  std::string labels;           // pipeline labels k=v,...
  // The model to upload (modelToUpload is sent when any of these is given).
  std::string model_display_name;  // default: --display-name
  std::string model_serving_container_image_uri;
  std::string model_description;
  std::string parent_model;     // ID or full name -> parentModel
  std::string model_id;         // -> modelId
  std::string version_aliases;  // a,b -> modelToUpload.versionAliases
  std::string model_labels;     // k=v,... -> modelToUpload.labels
  std::string artifact_uri;     // -> modelToUpload.artifactUri
};

// Which training source the flags name.
enum class PipelineSource { kPythonPackage, kScript, kContainer };

// Checks the source flags (see PipelineFlags) and returns the source. Errors:
// no source, two sources, a source missing its companion flags, or flags that
// belong to another source (--command without --container-image-uri,
// --staging-bucket without --script, ...).
absl::StatusOr<PipelineSource> CheckPipelineSource(const PipelineFlags& flags);

// A script packaged and uploaded for source (b).
struct StagedScript {
  std::string package_uri;    // gs://.../kiln-scripts/STAMP/FILE.tar.gz
  std::string python_module;  // e.g. aiplatform_custom_trainer_script.task
};

// "projects/P/locations/R/models/ID" for an ID (under `location`,
// "projects/P/locations/R"), a full model name as is. `flag` names the flag
// in errors; "@VERSION" is refused.
absl::StatusOr<std::string> ExpandModelName(absl::string_view flag, absl::string_view location,
                                            absl::string_view id_or_name);

// Checks --version-aliases style values: each `[a-z][a-zA-Z0-9-]{0,126}
// [a-z0-9]`; with `allow_removal`, a leading '-' (remove) is accepted.
absl::Status CheckVersionAliases(absl::string_view flag, const std::vector<std::string>& aliases, bool allow_removal);

// Checks a --model-id: 1-63 of [a-z0-9_-], not starting with a digit or '-'.
absl::Status CheckModelId(absl::string_view model_id);

// The TrainingPipeline for `flags`:
//   {displayName, trainingTaskDefinition: kCustomTaskDefinition,
//    trainingTaskInputs: CustomJobSpec {workerPoolSpecs, baseOutputDirectory?,
//      scheduling?}, labels?, modelToUpload?, parentModel?, modelId?}
// trainingTaskInputs is a google.protobuf.Value; it is built as a typed
// CustomJobSpec and stored as that message's JSON object. An
// --accelerator-type must be an AcceleratorType name
// (ACCELERATOR_TYPE_UNSPECIFIED, the SDK's default, means none).
// Pool 0 has one replica; with --replica-count N > 1 pool 1 has N-1 with the
// same machine and task. `location` ("projects/P/locations/R") expands a
// --parent-model ID. `script` must be given exactly for the script source
// (its package is used as packageUris / pythonModule).
absl::StatusOr<google::cloud::aiplatform::v1::TrainingPipeline> BuildTrainingPipeline(
    const PipelineFlags& flags, absl::string_view location, const std::optional<StagedScript>& script);

}  // namespace kiln::client

#endif  // KILN_CLIENT_PIPELINE_FLAGS_H_
