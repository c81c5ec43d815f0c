#ifndef KILN_JOBS_EXPAND_VARIABLES_H_
#define KILN_JOBS_EXPAND_VARIABLES_H_

// `$(VAR)` references in env values, commands and args (Vertex's env_var.proto, which follows
// Kubernetes' dependent environment variables).

#include <functional>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace kiln::jobs {

// Expands `text`:
// - `$(NAME)` becomes lookup(NAME) when that has a value; otherwise it stays `$(NAME)`
//   exactly as written. NAME is everything up to the first ')' (no nesting:
//   "$(A$(B))" looks up "A$(B" and, unresolved, stays as is).
// - `$$` becomes a single `$`, so `$$(NAME)` is the literal `$(NAME)` and is never expanded.
// - A `$(` without a closing ')' and a `$` followed by anything else are kept as written.
// Expanded values are not expanded again.
std::string ExpandVariables(absl::string_view text,
                            const std::function<std::optional<std::string>(absl::string_view)>& lookup);

}  // namespace kiln::jobs

#endif  // KILN_JOBS_EXPAND_VARIABLES_H_
