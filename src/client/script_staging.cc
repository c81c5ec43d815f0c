#include "client/script_staging.h"

#include <cstdint>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "client/script_package.h"
#include "client/storage_client.h"
#include "common/status_macros.h"

namespace kiln::client {
namespace {

using nlohmann::json;

absl::StatusOr<PackagedScript> DefaultPackage(const std::string& script_path) {
  KILN_ASSIGN_OR_RETURN(ScriptPackage package, PackageScript(script_path));
  return PackagedScript{std::move(package.archive_bytes), std::move(package.file_name),
                        std::move(package.python_module)};
}

}  // namespace

absl::StatusOr<std::pair<std::string, std::string>> SplitGcsPrefix(absl::string_view flag, absl::string_view uri) {
  absl::string_view rest = uri;
  if (!absl::ConsumePrefix(&rest, "gs://") || rest.empty() || rest.front() == '/') {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": \"", uri, "\" is not a gs://BUCKET[/PREFIX] URI"));
  }
  const size_t slash = rest.find('/');
  std::string bucket(rest.substr(0, slash));
  absl::string_view prefix = slash == absl::string_view::npos ? "" : rest.substr(slash + 1);
  while (absl::ConsumeSuffix(&prefix, "/")) {
  }
  return std::make_pair(std::move(bucket), std::string(prefix));
}

absl::Status UploadObject(const ClientConfig& config, absl::string_view bucket, absl::string_view object,
                          const std::string& bytes) {
  KILN_ASSIGN_OR_RETURN(StorageClient storage, StorageClient::Create(config.endpoint, config.token));
  absl::StatusOr<json> stored = storage.Upload(GcsUri{std::string(bucket), std::string(object)}, bytes);
  if (stored.ok()) return absl::OkStatus();
  const absl::StatusCode code = stored.status().code();
  if (code == absl::StatusCode::kNotFound || code == absl::StatusCode::kUnimplemented) {
    return absl::Status(code, absl::StrCat(stored.status().message(),
                                           " (uploading the script needs a kiln server with "
                                           "the storage route PUT /kiln/v1/storage/...)"));
  }
  return stored.status();
}

absl::StatusOr<PackagedScript> PackageForStaging(const std::string& script_path, const ScriptStagingHooks& hooks) {
  KILN_ASSIGN_OR_RETURN(PackagedScript package,
                        hooks.package ? hooks.package(script_path) : DefaultPackage(script_path));
  if (package.file_name.empty() || package.python_module.empty()) {
    return absl::InternalError("packaging the script gave no file name or module");
  }
  return package;
}

absl::StatusOr<StagedScript> UploadStagedScript(const ClientConfig& config, const PackagedScript& package,
                                                absl::string_view staging, absl::Time now,
                                                const ScriptStagingHooks& hooks) {
  KILN_ASSIGN_OR_RETURN(auto bucket_prefix, SplitGcsPrefix("--staging-bucket", staging));
  const auto& [bucket, prefix] = bucket_prefix;
  const int64_t millis = absl::ToUnixMillis(now) % 1000;
  const std::string stamp = absl::StrCat(absl::FormatTime("%Y%m%d-%H%M%S", now, absl::UTCTimeZone()), "-",
                                         millis < 100 ? "0" : "", millis < 10 ? "0" : "", millis);
  std::string object = absl::StrCat("kiln-scripts/", stamp, "/", package.file_name);
  if (!prefix.empty()) object = absl::StrCat(prefix, "/", object);
  if (hooks.upload) {
    KILN_RETURN_IF_ERROR(hooks.upload(bucket, object, package.archive_bytes));
  } else {
    KILN_RETURN_IF_ERROR(UploadObject(config, bucket, object, package.archive_bytes));
  }
  return StagedScript{absl::StrCat("gs://", bucket, "/", object), package.python_module};
}

}  // namespace kiln::client
