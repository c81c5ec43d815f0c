#include "client/commands.h"

#include <CLI/CLI.hpp>

#include <memory>

#include "client/command_support.h"

namespace kiln::client {
namespace {

void AddGlobalFlags(CLI::App& noun_command, ConfigFlags& flags) {
  noun_command.add_option("--project", flags.project, "Project (else KILN_PROJECT, else the config file)");
  noun_command.add_option("--region", flags.region,
                          "Region (else KILN_REGION, else the config file, else us-central1)");
  noun_command.add_option("--endpoint", flags.endpoint,
                          "Server as http://HOST:PORT (else KILN_ENDPOINT, "
                          "else the config file, else http://127.0.0.1:8080)");
  noun_command.add_option("--format", flags.format,
                          "Output format: json, yaml or table (default: table "
                          "for list, yaml otherwise)");
  noun_command.add_option("--config-file", flags.config_file,
                          "YAML config file (else KILN_CONFIG, else "
                          "~/.config/kiln/config.yaml)");
}

}  // namespace

void RegisterClientCommands(CLI::App& app, const CommandIo& io) {
  for (const NounSpec& noun : ClientNouns()) {
    CLI::App* command = app.add_subcommand(noun.name, "Manage " + noun.title + " (" + noun.collection + ")");
    command->require_subcommand(1);
    auto flags = std::make_shared<ConfigFlags>();
    AddGlobalFlags(*command, *flags);
    for (VerbRegistrar add_verb : noun.verbs) {
      add_verb(*command, noun, flags, io);
    }
  }
}

int ExitCodeForParseError(const CLI::App& app, const CLI::ParseError& error, std::ostream& out, std::ostream& err) {
  const int code = app.exit(error, out, err);
  if (error.get_name() == "RuntimeError") return code;
  return code == 0 ? kExitOk : kExitUsage;
}

}  // namespace kiln::client
