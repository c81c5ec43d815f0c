// kiln: the server (`kiln serve`) and the REST client (`kiln <noun> <verb>`) in one binary.
#include <iostream>

#include "CLI/CLI.hpp"
#include "cli/serve_command.h"
#include "client/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"kiln: self-hosted training pipelines that speak the Vertex AI v1 API"};
  app.require_subcommand(1);
  int exit_code = 0;
  kiln::cli::AddServeCommand(app, &exit_code);
  kiln::client::RegisterClientCommands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return kiln::client::ExitCodeForParseError(app, e);
  }
  return exit_code;
}
