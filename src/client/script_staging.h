#ifndef KILN_CLIENT_SCRIPT_STAGING_H_
#define KILN_CLIENT_SCRIPT_STAGING_H_

// `kiln pipelines create --script train.py`: packaging a local script as a
// python sdist (PackageScript, script_package.h) and uploading it to the
// staging bucket through kiln's storage route, PUT /kiln/v1/storage/{bucket}/
// {object}, the way the Python SDK's CustomTrainingJob stages its script.

#include <functional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/client_config.h"
#include "client/pipeline_flags.h"

namespace kiln::client {

// A packaged script (what PackageScript returns).
struct PackagedScript {
  std::string archive_bytes;
  std::string file_name;      // e.g. aiplatform_custom_trainer_script-0.1.tar.gz
  std::string python_module;  // e.g. aiplatform_custom_trainer_script.task
};

// Seams for tests; empty functions mean the real thing.
struct ScriptStagingHooks {
  // Default: PackageScript(script_path).
  std::function<absl::StatusOr<PackagedScript>(const std::string& script_path)> package;
  // Default: UploadObject(config, bucket, object, bytes).
  std::function<absl::Status(const std::string& bucket, const std::string& object, const std::string& bytes)> upload;
};

// Splits "gs://bucket[/prefix[/]]" into the bucket and the prefix without
// slashes at either end. INVALID_ARGUMENT naming `flag` otherwise.
absl::StatusOr<std::pair<std::string, std::string>> SplitGcsPrefix(absl::string_view flag, absl::string_view uri);

// Stores `bytes` as gs://{bucket}/{object} with StorageClient::Upload (PUT
// /kiln/v1/storage/{bucket}/{object}); errors are its, NOT_FOUND and
// UNIMPLEMENTED with a hint that the server lacks the storage route.
absl::Status UploadObject(const ClientConfig& config, absl::string_view bucket, absl::string_view object,
                          const std::string& bytes);

// Packages `script_path` (hooks.package, else PackageScript). Its errors
// (a missing or unreadable script, ...) are the user's.
absl::StatusOr<PackagedScript> PackageForStaging(const std::string& script_path, const ScriptStagingHooks& hooks = {});

// Uploads `package` (hooks.upload, else UploadObject) to
// <staging>/kiln-scripts/<UTC time of `now`, YYYYMMDD-HHMMSS-mmm>/<file_name>
// and returns that gs:// URI and the module to run. INVALID_ARGUMENT for a
// `staging` that is not gs://BUCKET[/PREFIX]; upload errors as is.
absl::StatusOr<StagedScript> UploadStagedScript(const ClientConfig& config, const PackagedScript& package,
                                                absl::string_view staging, absl::Time now,
                                                const ScriptStagingHooks& hooks = {});

}  // namespace kiln::client

#endif  // KILN_CLIENT_SCRIPT_STAGING_H_
