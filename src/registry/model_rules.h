#ifndef KILN_REGISTRY_MODEL_RULES_H_
#define KILN_REGISTRY_MODEL_RULES_H_

// Names and field rules of the model registry. Errors are INVALID_ARGUMENT naming the field as
// the REST user spells it ("model.versionAliases[0]", "modelId", ...). Pure functions.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/cloud/aiplatform/v1/model.pb.h"

namespace kiln::registry {

inline constexpr char kDefaultAlias[] = "default";

// "projects/{p}/locations/{l}/models/{id}" with an optional "@{version id | alias | -}".
struct ModelRef {
  std::string location;  // projects/{p}/locations/{l}
  std::string model_id;  // a server-assigned number or a user id (see ValidateModelId)
  std::string version;   // after '@': "" (none), digits (a version id), "-" or an alias

  std::string ModelName() const;  // without the version
  bool HasVersionId() const;      // version is all digits
  // INVALID_ARGUMENT naming `field` unless `text` is a model name as above.
  static absl::StatusOr<ModelRef> Parse(absl::string_view text, absl::string_view field = "name");
};

// User model ids: 1-63 of [a-z0-9_-], the first not a digit or hyphen (so never a server id).
absl::Status ValidateModelId(absl::string_view path, absl::string_view id);

// One alias: [a-z][a-zA-Z0-9-]{0,126}[a-z0-9] (2-128 characters).
bool IsValidAlias(absl::string_view alias);
absl::Status ValidateAlias(absl::string_view path, absl::string_view alias);

// The fields a user may set on upload (`path` is "model"): displayName required ≤ 128
// characters, labels (Vertex's label rules), versionAliases (syntax, no duplicates).
absl::Status ValidateUploadedModel(absl::string_view path, const google::cloud::aiplatform::v1::Model& model);

absl::Status ValidateDisplayName(absl::string_view path, absl::string_view value);
absl::Status ValidateLabels(absl::string_view path, const google::protobuf::Map<std::string, std::string>& labels);

}  // namespace kiln::registry

#endif  // KILN_REGISTRY_MODEL_RULES_H_
