#ifndef KILN_REGISTRY_RECORDS_H_
#define KILN_REGISTRY_RECORDS_H_

// Internal to kiln_registry: the store records behind ModelRegistry (layout in model_registry.h).
// Every function runs inside the caller's transaction.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/cloud/aiplatform/v1/model.pb.h"
#include "registry/model_rules.h"
#include "store/store.h"

namespace kiln::registry::internal {

using Model = google::cloud::aiplatform::v1::Model;

inline constexpr char kModelsKind[] = "models";
inline constexpr char kVersionsKind[] = "modelVersions";

std::string VersionName(absl::string_view model, absl::string_view version_id);  // "<model>@<v>"
std::string VersionCounterKey(absl::string_view model);
std::string DigestKey(absl::string_view version_name);
std::string IdempotencyKey(absl::string_view location, absl::string_view key);
// gs://kiln-registry/<model>/versions/<v>/ relative to the bucket root: "<model>/versions/<v>".
std::string SnapshotPath(absl::string_view model, absl::string_view version_id);

// The model record; NOT_FOUND "Model <name> not found.".
absl::StatusOr<Model> GetModelRecord(store::Transaction& tx, absl::string_view model_name);
// The stored versions of a model, oldest first.
absl::StatusOr<std::vector<Model>> AllVersions(store::Transaction& tx, absl::string_view model_name);
// The version `ref` names: its version id, its alias, or (no version, "-") the default one.
absl::StatusOr<Model> ResolveVersion(store::Transaction& tx, const ModelRef& ref);

// `version` as the API shows it: with the model-level fields of `record`.
Model View(const Model& version, const Model& record);
// Stores a version (insert or replace).
absl::Status PutVersion(store::Transaction& tx, const Model& version, bool insert);
// Rewrites the model record: the default version merged with the model-level fields of
// `model_fields` (name, displayName, description, createTime, updateTime).
absl::Status SaveModelRecord(store::Transaction& tx, const Model& model_fields, absl::string_view location,
                             bool insert);
// Removes `alias` from every version of the model but `keep_version_id`, bumping their update time.
absl::Status TakeAlias(store::Transaction& tx, absl::string_view model_name, absl::string_view alias,
                       absl::string_view keep_version_id, absl::Time now);

}  // namespace kiln::registry::internal

#endif  // KILN_REGISTRY_RECORDS_H_
