#ifndef KILN_SERVER_PATH_TEMPLATE_H_
#define KILN_SERVER_PATH_TEMPLATE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kiln::server {

// A google.api.http path template such as
//   /v1/{parent=projects/*/locations/*}/customJobs
//   /v1/{name=projects/*/locations/*/customJobs/*}:cancel
//   /v1/{name=**}
// Literal segments must match exactly; `*` matches one segment; `**` matches one or more;
// `{field=pattern}` binds the text matched by pattern to a request field (`{field}` means
// `{field=*}`); `:verb` must end the path. Immutable and thread-safe after Parse.
class PathTemplate {
 public:
  // One variable binding: request field path (e.g. "parent", "model.name") and the matched text.
  using Binding = std::pair<std::string, std::string>;

  // INVALID_ARGUMENT for a malformed template (kiln's routes are built at start, so this is a bug).
  static absl::StatusOr<PathTemplate> Parse(absl::string_view text);

  // Matches a decoded request path. Returns the bindings on a match, nullopt otherwise.
  // Without a verb in the template, a path whose last segment carries ":x" never matches,
  // so `customJobs/1:cancel` is not taken for `customJobs/{id}`.
  std::optional<std::vector<Binding>> Match(absl::string_view path) const;

  const std::string& text() const { return text_; }
  const std::string& verb() const { return verb_; }

 private:
  struct Segment {
    enum class Kind { kLiteral, kSingle, kMulti } kind;
    std::string literal;
  };
  struct Variable {
    std::string field;
    size_t begin = 0;  // index of its first segment in segments_
    size_t end = 0;    // one past its last segment
  };

  bool MatchFrom(size_t seg, const std::vector<absl::string_view>& parts, size_t part,
                 std::vector<size_t>& starts) const;

  std::string text_;
  std::vector<Segment> segments_;
  std::vector<Variable> variables_;
  std::string verb_;
};

}  // namespace kiln::server

#endif  // KILN_SERVER_PATH_TEMPLATE_H_
