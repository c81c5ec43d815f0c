#ifndef KILN_CLIENT_CLIENT_CONFIG_H_
#define KILN_CLIENT_CLIENT_CONFIG_H_

// Where the `kiln <noun> <verb>` client commands send their requests and on
// whose behalf. Each setting comes from, highest first:
//   1. a command-line flag (--endpoint, --project, --region, --format);
//   2. the environment: KILN_ENDPOINT, KILN_TOKEN (else the file named by
//      KILN_TOKEN_FILE), KILN_PROJECT, KILN_REGION, KILN_FORMAT;
//   3. a YAML config file: --config-file, else $KILN_CONFIG, else
//      $XDG_CONFIG_HOME/kiln/config.yaml, else ~/.config/kiln/config.yaml,
//      with keys endpoint, token, token_file, project, region, format;
//   4. defaults: endpoint http://127.0.0.1:8080, region us-central1, no token.
// Empty values count as unset at every level.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/output.h"

namespace kiln::client {

inline constexpr char kDefaultEndpoint[] = "http://127.0.0.1:8080";
inline constexpr char kDefaultRegion[] = "us-central1";

// The global flags every noun accepts, as typed (empty = not given).
struct ConfigFlags {
  std::string endpoint;
  std::string project;
  std::string region;
  std::string format;
  std::string config_file;
};

// A resolved, validated configuration.
struct ClientConfig {
  std::string endpoint = kDefaultEndpoint;  // Normalized "http://HOST:PORT".
  std::string token;                        // Empty: send no Authorization.
  std::string project;                      // Empty: not set (see LocationName).
  std::string region = kDefaultRegion;
  std::optional<OutputFormat> format;  // Unset: each verb picks its default.
  // The config file consulted (it may not exist when it is the default path).
  std::string config_path;
};

// A parsed endpoint.
struct Endpoint {
  std::string host;  // IPv6 literals without brackets.
  int port = 0;
};

// Accepts exactly http://HOST:PORT (an optional trailing '/'), HOST a name, an
// IPv4 address or a bracketed IPv6 literal, PORT 1..65535. Anything else (https,
// a path, no port) is INVALID_ARGUMENT naming the expected form.
absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view endpoint);

// Resolves the configuration from `flags`, the process environment and the
// config file (see the top of this file). Errors (INVALID_ARGUMENT or
// FAILED_PRECONDITION, each naming the offending source): a bad endpoint,
// region, project or format; an explicitly named config file (flag or
// KILN_CONFIG) that is missing; an unreadable or malformed config file or one
// with unknown keys; an unreadable or empty token file. A missing project is
// NOT an error here: LocationName reports it when a command needs it.
absl::StatusOr<ClientConfig> ResolveClientConfig(const ConfigFlags& flags);

// "projects/{project}/locations/{region}", or FAILED_PRECONDITION telling the
// user the three ways to set a project when none is set.
absl::StatusOr<std::string> LocationName(const ClientConfig& config);

}  // namespace kiln::client

#endif  // KILN_CLIENT_CLIENT_CONFIG_H_
