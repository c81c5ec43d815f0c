#include "service/resource_name.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"

namespace kiln::service {
namespace {

bool IsSegment(absl::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool IsNumericId(absl::string_view s) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

}  // namespace

std::string LocationName::ToString() const { return absl::StrCat("projects/", project, "/locations/", location); }

absl::StatusOr<LocationName> LocationName::Parse(absl::string_view text, absl::string_view field) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  if (parts.size() != 4 || parts[0] != "projects" || parts[2] != "locations" || !IsSegment(parts[1]) ||
      !IsSegment(parts[3])) {
    return FieldError(field,
                      absl::StrCat("\"", text, "\" is not a location; want projects/{project}/locations/{location}"));
  }
  return LocationName{std::string(parts[1]), std::string(parts[3])};
}

std::string ResourceName::ToString() const { return absl::StrCat(location.ToString(), "/", collection, "/", id); }

absl::StatusOr<ResourceName> ResourceName::Parse(absl::string_view text, absl::string_view collection,
                                                 absl::string_view field) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  if (parts.size() != 6 || parts[0] != "projects" || parts[2] != "locations" || parts[4] != collection ||
      !IsSegment(parts[1]) || !IsSegment(parts[3]) || !IsNumericId(parts[5])) {
    return FieldError(field, absl::StrCat("\"", text, "\" is not a ", collection,
                                          " name; want projects/{project}/locations/{location}/", collection, "/{id}"));
  }
  return ResourceName{LocationName{std::string(parts[1]), std::string(parts[3])}, std::string(collection),
                      std::string(parts[5])};
}

}  // namespace kiln::service
