#ifndef KILN_SERVICE_RESOURCE_NAME_H_
#define KILN_SERVICE_RESOURCE_NAME_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kiln::service {

// A location, "projects/{project}/locations/{location}". Any project id and location are
// accepted (kiln is one region of one installation), but both must be well-formed.
struct LocationName {
  std::string project;
  std::string location;

  std::string ToString() const;
  // INVALID_ARGUMENT "<field>: ..." unless `text` is projects/{p}/locations/{l}.
  static absl::StatusOr<LocationName> Parse(absl::string_view text, absl::string_view field = "parent");
};

// A resource in a location: "projects/{p}/locations/{l}/{collection}/{id}".
struct ResourceName {
  LocationName location;
  std::string collection;  // "customJobs", "trainingPipelines", "models", "operations", ...
  std::string id;

  std::string ToString() const;
  // INVALID_ARGUMENT naming `field` unless `text` is a name in `collection` with a numeric id.
  static absl::StatusOr<ResourceName> Parse(absl::string_view text, absl::string_view collection,
                                            absl::string_view field = "name");
};

}  // namespace kiln::service

#endif  // KILN_SERVICE_RESOURCE_NAME_H_
