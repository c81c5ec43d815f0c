#ifndef KILN_JOBS_VALIDATION_H_
#define KILN_JOBS_VALIDATION_H_

// Checks a CustomJobSpec against Vertex's rules and against what this kiln can run, before
// the job is accepted. Every error is INVALID_ARGUMENT "<field path>: <rule and how to fix
// it>", e.g. "customJob.jobSpec.workerPoolSpecs[0].replicaCount: must be ≥ 1".

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "jobs/image_map.h"
#include "storage/object_store.h"

namespace kiln::jobs {

inline constexpr int kMaxWorkerPools = 4;         // primary, workers, parameter servers, evaluators
inline constexpr size_t kMaxArgsChars = 100'000;  // all args of all pools together (code points)
inline constexpr int kMaxPackageUris = 100;
inline constexpr int kMaxEnvPerContainer = 100;
inline constexpr int64_t kMaxTimeoutSeconds = 7 * 24 * 3600;  // also Vertex's default

// Variables kiln sets to describe the cluster it actually launched; a job may not set them
// in containerSpec.env / pythonPackageSpec.env. Every other service variable may be
// overridden by the job's own env entries.
inline constexpr std::array<absl::string_view, 4> kReservedEnvNames = {"CLUSTER_SPEC", "TF_CONFIG", "CLOUD_ML_JOB_ID",
                                                                       "CLOUD_ML_TRIAL_ID"};

struct JobsConfig {
  // How many accelerators of each type this kiln has, keyed by AcceleratorType enum name
  // ("NVIDIA_TESLA_T4"). Types not listed: none.
  std::map<std::string, int> accelerator_inventory;
  const ImageMap* images = nullptr;               // required; must outlive the call
  const storage::ObjectStore* storage = nullptr;  // required; must outlive the call
};

// [A-Za-z_][A-Za-z0-9_]*
bool IsValidEnvName(absl::string_view name);

// Checks `spec`; `path` is the spec's field path as the user wrote it ("customJob.jobSpec",
// "trainingPipeline.trainingTaskInputs", or "" for none). Returns the first problem found, in
// field order. Rules: at least one and at most 4 worker pools; pool 0 non-empty with
// replicaCount 1; later pools either `{}` (skipped) or complete; replicaCount ≥ 1;
// containerSpec or pythonPackageSpec; known machineType (unset = kDefaultMachineType);
// acceleratorType and acceleratorCount together, consistent with the machine type, and
// satisfiable by accelerator_inventory (per replica and for all replicas at once); images
// that resolve in the ImageMap; a command or an image entrypoint for containers; python,
// pythonModule and 1-100 gs:// / file:// packageUris for Python packages; ≤ 100 env entries
// per container with valid, non-reserved names; ≤ 100,000 characters of args in all;
// 0 < scheduling.timeout ≤ 7 days; a mappable baseOutputDirectory.outputUriPrefix.
// INTERNAL if config.images or config.storage is null.
absl::Status ValidateCustomJobSpec(absl::string_view path, const google::cloud::aiplatform::v1::CustomJobSpec& spec,
                                   const JobsConfig& config);

}  // namespace kiln::jobs

#endif  // KILN_JOBS_VALIDATION_H_
