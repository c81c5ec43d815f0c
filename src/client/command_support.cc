#include "client/command_support.h"

#include <CLI/CLI.hpp>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/nouns.h"
#include "client/resources.h"
#include "common/errors.h"
#include "common/status_macros.h"

namespace kiln::client {

absl::StatusOr<Session> OpenSession(const ConfigFlags& flags, OutputFormat default_format) {
  KILN_ASSIGN_OR_RETURN(ClientConfig config, ResolveClientConfig(flags));
  KILN_ASSIGN_OR_RETURN(ApiClient client, ApiClient::Create(config.endpoint, config.token));
  const OutputFormat format = config.format.value_or(default_format);
  return Session{std::move(config), std::move(client), format};
}

int ReportError(absl::string_view noun, absl::string_view verb, const absl::Status& status, int exit_code,
                std::ostream& err) {
  err << "ERROR: (kiln." << noun << "." << verb << ") " << CanonicalCodeName(status.code()) << ": " << status.message()
      << "\n";
  return exit_code;
}

Target OpenTarget(const NounSpec& noun, absl::string_view verb, const ConfigFlags& flags, absl::string_view id_or_name,
                  OutputFormat default_format, std::ostream& err) {
  Target target;
  absl::StatusOr<Session> session = OpenSession(flags, default_format);
  if (!session.ok()) {
    target.exit_code = ReportError(noun.name, verb, session.status(), kExitUsage, err);
    return target;
  }
  absl::StatusOr<std::string> name = ExpandResourceName(session->config, noun.name_rules(), id_or_name);
  if (!name.ok()) {
    target.exit_code = ReportError(noun.name, verb, name.status(), kExitUsage, err);
    return target;
  }
  target.session.emplace(*std::move(session));
  target.name = *std::move(name);
  return target;
}

CLI::App* AddVerbCommand(CLI::App& noun_command, absl::string_view verb, absl::string_view help) {
  CLI::App* command = noun_command.add_subcommand(std::string(verb), std::string(help));
  command->fallthrough();
  command->footer(
      absl::StrCat("Also takes the noun's flags --project, --region, --endpoint, --format "
                   "and --config-file (see `kiln ",
                   noun_command.get_name(), " --help`)."));
  return command;
}

void FinishCommand(int exit_code) {
  if (exit_code != kExitOk) throw CLI::RuntimeError(exit_code);
}

std::string SameTargetFlags(const ConfigFlags& flags) {
  std::string extra;
  if (!flags.project.empty()) absl::StrAppend(&extra, " --project=", flags.project);
  if (!flags.region.empty()) absl::StrAppend(&extra, " --region=", flags.region);
  if (!flags.endpoint.empty()) absl::StrAppend(&extra, " --endpoint=", flags.endpoint);
  if (!flags.config_file.empty()) absl::StrAppend(&extra, " --config-file=", flags.config_file);
  return extra;
}

}  // namespace kiln::client
