#ifndef KILN_SERVICE_VALIDATION_H_
#define KILN_SERVICE_VALIDATION_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/map.h"

namespace kiln::service {

// Field rules shared by every Vertex resource. Each returns INVALID_ARGUMENT naming `path`
// (the field as the user sees it, e.g. "customJob.displayName") and the rule broken.

inline constexpr size_t kMaxDisplayNameChars = 128;
inline constexpr size_t kMaxLabels = 64;
inline constexpr size_t kMaxLabelChars = 63;

// Required, at most 128 characters (Unicode code points, not bytes).
absl::Status ValidateDisplayName(absl::string_view path, absl::string_view value);

// At most 64 labels; keys and values at most 63 characters of lowercase letters, digits, '_'
// and '-'; keys start with a lowercase letter; values may be empty.
absl::Status ValidateLabels(absl::string_view path, const google::protobuf::Map<std::string, std::string>& labels);

// Number of Unicode code points in UTF-8 text.
size_t Utf8Length(absl::string_view text);

}  // namespace kiln::service

#endif  // KILN_SERVICE_VALIDATION_H_
