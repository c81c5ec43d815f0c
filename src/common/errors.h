#ifndef KILN_COMMON_ERRORS_H_
#define KILN_COMMON_ERRORS_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace kiln {

// The HTTP status Google's REST front ends answer for a canonical code
// (CANCELLED 499, INVALID_ARGUMENT 400, NOT_FOUND 404, ...).
int HttpStatusFor(absl::StatusCode code);

// The canonical name of a code as it appears in Google's error JSON ("INVALID_ARGUMENT").
absl::string_view CanonicalCodeName(absl::StatusCode code);

// An INVALID_ARGUMENT naming the field (as the user spelled its path) and the rule it broke:
// FieldError("jobSpec.workerPoolSpecs[0].replicaCount", "must be ≥ 1").
absl::Status FieldError(absl::string_view field_path, absl::string_view rule);

}  // namespace kiln

#endif  // KILN_COMMON_ERRORS_H_
