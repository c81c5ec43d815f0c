#ifndef KILN_CLIENT_WORKER_POOL_FLAGS_H_
#define KILN_CLIENT_WORKER_POOL_FLAGS_H_

// The gcloud-compatible flags of `kiln custom-jobs create` and how they turn
// into the CustomJob sent to POST /v1/{parent}/customJobs. Every error
// here is INVALID_ARGUMENT naming the flag (a usage error for the verb),
// except LoadJobSpecFile's NOT_FOUND for a missing --config file.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/cloud/aiplatform/v1/accelerator_type.pb.h"
#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "google/protobuf/duration.pb.h"

namespace kiln::client {

// The create flags as typed; an empty string means "not given".
struct CreateJobFlags {
  std::string display_name;                    // --display-name (required)
  std::string labels;                          // --labels k=v,k2=v2
  std::vector<std::string> worker_pool_specs;  // --worker-pool-spec, in order
  std::string python_package_uris;             // --python-package-uris a,b
  std::string config_file;                     // --config FILE
  std::string args;                            // --args a,b,c
  std::string command;                         // --command a,b
  std::string env_vars;                        // --env-vars K=V,K2=V2
  std::string timeout;                         // --timeout 3600s | 1h | 3600
  std::string base_output_dir;                 // --base-output-dir gs://...
};

// The keys --worker-pool-spec accepts, in help order.
const std::vector<std::string>& WorkerPoolSpecKeys();

// Splits a gcloud list flag on ',' ("a,b" -> {"a","b"}; "" -> {}). Items are
// kept as typed, so an item cannot contain a comma.
std::vector<std::string> SplitListFlag(absl::string_view text);

// Parses "K=V,K2=V2" (split at each item's first '='). Errors: an item
// without '=', an empty key, or a repeated key.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseKeyValueFlag(absl::string_view flag,
                                                                                   absl::string_view text);

// --labels as a map (for a message's labels). Besides ParseKeyValueFlag's
// errors: at most 64 labels; keys 1-63 of [a-z0-9_-] starting with a letter;
// values 0-63 of [a-z0-9_-].
absl::StatusOr<std::map<std::string, std::string>> ParseLabels(absl::string_view text);

// An AcceleratorType by name ("NVIDIA_TESLA_T4"). INVALID_ARGUMENT
// "<flag>: \"X\" is not an accelerator type (one of ...)" otherwise, also for
// ACCELERATOR_TYPE_UNSPECIFIED.
absl::StatusOr<google::cloud::aiplatform::v1::AcceleratorType> ParseAcceleratorType(absl::string_view flag,
                                                                                    absl::string_view name);

// One --worker-pool-spec value as a WorkerPoolSpec:
//   machine-type (required) -> machineSpec.machineType
//   replica-count (default 1, >= 1) -> replicaCount
//   accelerator-type (an AcceleratorType name) -> machineSpec.acceleratorType
//   accelerator-count (>= 1; default 1 with a type) -> acceleratorCount
//   container-image-uri -> containerSpec.imageUri, or
//   executor-image-uri + python-module -> pythonPackageSpec with packageUris
//   = `python_package_uris` (which must not be empty then).
// Exactly one of container-image-uri and executor-image-uri. An empty value
// is an empty pool {} (allowed after the first, like the SDK's). Errors name
// the pool (0-based `index`): unknown or repeated keys (listing the allowed
// ones), items without '=', gcloud's local-package-path / script /
// requirements / extra-packages / extra-dirs / output-image-uri (kiln cannot
// build packages: "upload with kiln storage cp and use
// --python-package-uris"), bad numbers, conflicting keys.
absl::StatusOr<google::cloud::aiplatform::v1::WorkerPoolSpec> ParseWorkerPoolSpec(
    absl::string_view spec, int index, const std::vector<std::string>& python_package_uris);

// "3600s", "3600" (seconds) or an absl duration ("1h30m") -> 5400 seconds.
// Must be a positive whole number of seconds.
absl::StatusOr<google::protobuf::Duration> ParseTimeoutFlag(absl::string_view text);

// The CustomJob for `flags`:
//   {displayName, labels?, jobSpec}
// jobSpec starts as the --config file's CustomJobSpec (LoadJobSpecFile) or
// empty; workerPoolSpecs come from either --worker-pool-spec or the file
// (both: error; neither: error). Then, for every non-empty pool: --args replaces
// containerSpec.args / pythonPackageSpec.args, --command replaces
// containerSpec.command (error for a python package pool), --env-vars are
// appended to env as {name, value}. --timeout sets scheduling.timeout and
// --base-output-dir baseOutputDirectory.outputUriPrefix, overriding the file.
// --python-package-uris without a pool that uses executor-image-uri is an
// error.
absl::StatusOr<google::cloud::aiplatform::v1::CustomJob> BuildCustomJob(const CreateJobFlags& flags);

}  // namespace kiln::client

#endif  // KILN_CLIENT_WORKER_POOL_FLAGS_H_
