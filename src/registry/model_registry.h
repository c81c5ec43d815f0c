#ifndef KILN_REGISTRY_MODEL_REGISTRY_H_
#define KILN_REGISTRY_MODEL_REGISTRY_H_

// kiln's model registry: Vertex Models and their immutable versions.
//
// Store layout (all in kiln's store, one transaction per change):
//   resource kind "modelVersions", name "<model>@<version id>", parent "<model>": the version as
//     uploaded (Model proto: name without '@', versionId, versionAliases, version times, labels...).
//   resource kind "models", name "<model>", parent the location: the model as GetModel returns it,
//     i.e. its default version merged with the model-level fields (displayName, description,
//     createTime, updateTime). Rewritten after every change, so ListModels filters it directly.
//   meta "registry/versions/<model>": the last version id handed out (never reused).
//   meta "registry/digest/<model>@<v>": "sha256:<hex>" of the version's snapshot.
//   meta "registry/idempotency/<location>/<key>": "<model>@<v>" of the version that key created.
// Artifacts: gs://kiln-registry/<model name>/versions/<v>/ (plus .kiln-digest), see snapshot.h.
//
// Aliases (as Vertex): unique within a model; the first version gets "default"; exactly one
// version holds "default" — it may be moved (upload or merge a version with "default") but never
// removed. Giving a version an alias another version holds moves the alias.
// Labels belong to versions; the model's labels are its default version's.
// Thread-safe: all state is in the store; snapshot folders are made outside the store lock and
// moved into place inside the committing transaction.

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/clock.h"
#include "google/cloud/aiplatform/v1/model.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "registry/model_rules.h"
#include "storage/object_store.h"
#include "store/store.h"

namespace kiln::registry {

class ModelRegistry {
 public:
  static constexpr char kBucket[] = "kiln-registry";

  ModelRegistry(store::Store* store, const storage::ObjectStore* objects, const Clock* clock);

  struct UploadRequest {
    std::string parent;                          // projects/p/locations/l
    google::cloud::aiplatform::v1::Model model;  // displayName required; output-only fields ignored
    std::string parent_model;                    // "" or the model to add a version to
    std::string model_id;                        // "" = server-assigned numeric id
    std::string training_pipeline;               // "" or set as Model.training_pipeline
    std::string idempotency_key;                 // "" or: a version made with this key is returned
  };
  struct UploadResult {
    google::cloud::aiplatform::v1::Model model;  // as GetModel("<model>@<version>") returns it
    std::string version_id;
  };
  // Called inside the write transaction that commits a change, with the version concerned (the
  // new one for Upload — also on an idempotent repeat — or the deleted one), e.g. to record an
  // Operation atomically with it. An error rolls the change back.
  using InCommit = std::function<absl::Status(store::Transaction&, const google::cloud::aiplatform::v1::Model&)>;

  // Snapshots model.artifactUri (gs:// or file://; "" = a version without artifacts, as Vertex
  // allows for self-contained containers) and commits the version. Errors: INVALID_ARGUMENT
  // naming the field; FAILED_PRECONDITION "no model artifacts at <uri>"; NOT_FOUND for an unknown
  // parent_model; ALREADY_EXISTS for a taken model_id. A failed upload leaves nothing behind.
  absl::StatusOr<UploadResult> Upload(const UploadRequest& request, const InCommit& in_commit = nullptr) const;

  // models/{id} (the default version), models/{id}@{version id | alias}; NOT_FOUND otherwise.
  absl::StatusOr<google::cloud::aiplatform::v1::Model> Get(absl::string_view name) const;

  struct ListRequest {
    // (The `{}` initializers let callers use designated initializers under -Wextra.)
    std::string parent{};  // ListModels: the location; ListVersions: the model name (no '@')
    std::string filter{};  // AIP-160; fields below
    int64_t page_size = 0;
    std::string page_token{};
  };
  struct ListResult {
    std::vector<google::cloud::aiplatform::v1::Model> models;
    std::string next_page_token;
  };
  // One entry per model (its default version), in creation order. Filter: display_name, labels,
  // create_time, update_time, version_id.
  absl::StatusOr<ListResult> ListModels(const ListRequest& request) const;
  // The model's versions, oldest first. Filter: labels, version_id, version_create_time,
  // version_update_time, display_name. NOT_FOUND for an unknown model.
  absl::StatusOr<ListResult> ListVersions(const ListRequest& request) const;

  // `name` must carry a version id or alias; FAILED_PRECONDITION for the default version.
  absl::Status DeleteVersion(absl::string_view name, const InCommit& in_commit = nullptr) const;
  // All versions, their records and snapshots (in_commit gets the default version).
  absl::Status DeleteModel(absl::string_view name, const InCommit& in_commit = nullptr) const;

  // `name` is models/{id}@{version|alias}. Each alias is added ("x"; taken from the version that
  // had it) or removed ("-x"); adding and removing one alias cancel out. Removing "default" is
  // FAILED_PRECONDITION. Returns the version.
  absl::StatusOr<google::cloud::aiplatform::v1::Model> MergeVersionAliases(
      absl::string_view name, const std::vector<std::string>& aliases) const;

  // As Vertex's UpdateModel: model.name without a version (or "@-") updates display_name,
  // description and labels (the default version's); with one, version_description and labels.
  // Other mask paths are INVALID_ARGUMENT. Returns the model or version as updated.
  absl::StatusOr<google::cloud::aiplatform::v1::Model> UpdateModel(
      const google::cloud::aiplatform::v1::Model& model, const google::protobuf::FieldMask& update_mask) const;

  // "sha256:<hex>" of a version's artifacts ("" when it has none); `name` as for Get.
  absl::StatusOr<std::string> Digest(absl::string_view name) const;

 private:
  absl::StatusOr<std::string> BucketRoot() const;

  store::Store* store_;
  const storage::ObjectStore* objects_;
  const Clock* clock_;
};

}  // namespace kiln::registry

#endif  // KILN_REGISTRY_MODEL_REGISTRY_H_
