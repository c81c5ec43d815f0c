#ifndef KILN_SERVER_AUTH_H_
#define KILN_SERVER_AUTH_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kiln::server {

// Bearer-token authorization from a tokens file (YAML, JSON is YAML too):
//
//   tokens:
//     - token: "3f1c...long random string"
//       projects: ["my-project", "other"]   # or ["*"] for every project
//       access: read-write                   # or read-only (GET and :wait only)
//       name: ci-bot                         # optional, shown in logs
//
// Immutable after Load; thread-safe.
class TokenAuthorizer {
 public:
  struct Token {
    std::string name;
    std::string secret;
    std::vector<std::string> projects;
    bool read_write = false;
  };

  // Reads and validates the tokens file: INVALID_ARGUMENT naming the entry and key that is wrong
  // (missing token, token shorter than 16 characters, duplicate, unknown access, no projects).
  static absl::StatusOr<TokenAuthorizer> LoadFile(const std::string& path);
  static absl::StatusOr<TokenAuthorizer> LoadYaml(absl::string_view yaml);

  // Checks an Authorization header value for a call on `project` ("" when the path names none).
  // UNAUTHENTICATED: no or unknown bearer token. PERMISSION_DENIED: the token may not use the
  // project, or may only read and `is_write`.
  absl::Status Authorize(absl::string_view authorization_header, absl::string_view project, bool is_write) const;

  size_t size() const { return tokens_.size(); }

 private:
  std::vector<Token> tokens_;
};

}  // namespace kiln::server

#endif  // KILN_SERVER_AUTH_H_
