#ifndef KILN_CLIENT_COMMAND_SUPPORT_H_
#define KILN_CLIENT_COMMAND_SUPPORT_H_

// Plumbing shared by the verbs (verbs.h) and by verbs added later (create,
// logs, ...): exit codes, error reporting, and opening a configured client.

#include <optional>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/api_client.h"
#include "client/client_config.h"
#include "client/output.h"

namespace CLI {
class App;
}  // namespace CLI

namespace kiln::client {

struct NounSpec;

inline constexpr int kExitOk = 0;
inline constexpr int kExitApiError = 1;  // The server said no, or is away.
inline constexpr int kExitUsage = 2;     // Bad flags, config or arguments.

// A resolved configuration, a client for it and the format to print in.
struct Session {
  ClientConfig config;
  ApiClient client;
  OutputFormat format;
};

// Resolves the configuration from `flags` (ResolveClientConfig) and opens a
// client; `format` is the configured one, else `default_format`.
absl::StatusOr<Session> OpenSession(const ConfigFlags& flags, OutputFormat default_format);

// A session plus the full resource name the user meant (see OpenTarget).
struct Target {
  std::optional<Session> session;  // Empty when opening failed.
  std::string name;
  int exit_code = kExitOk;  // The reported error's code when opening failed.
};

// Opens a session (OpenSession) and expands `id_or_name` into `noun`'s full
// resource name; on failure reports the error as `verb` (exit code 2) to
// `err` and returns a Target without a session.
Target OpenTarget(const NounSpec& noun, absl::string_view verb, const ConfigFlags& flags, absl::string_view id_or_name,
                  OutputFormat default_format, std::ostream& err);

// Prints "ERROR: (kiln.<noun>.<verb>) <CODE>: <message>" and a newline to
// `err`, and returns `exit_code`.
// The global flags (as typed) a follow-up command needs to reach the same resource, e.g.
// " --project=p --region=r", for the hints printed after create.
std::string SameTargetFlags(const ConfigFlags& flags);

int ReportError(absl::string_view noun, absl::string_view verb, const absl::Status& status, int exit_code,
                std::ostream& err);

// Adds the subcommand `verb` to `noun_command`. It lets the noun's global
// flags (--project, --format, ...) appear after the verb too.
CLI::App* AddVerbCommand(CLI::App& noun_command, absl::string_view verb, absl::string_view help);

// Hands a verb's exit code back to CLI11: returns on 0, else throws
// CLI::RuntimeError(exit_code), which App::exit / CLI11_PARSE return as is.
void FinishCommand(int exit_code);

}  // namespace kiln::client

#endif  // KILN_CLIENT_COMMAND_SUPPORT_H_
