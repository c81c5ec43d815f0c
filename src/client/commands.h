#ifndef KILN_CLIENT_COMMANDS_H_
#define KILN_CLIENT_COMMANDS_H_

// Entry points for src/cli/main.cc: the `kiln <noun> <verb>` client commands.
//
//   CLI::App app{"kiln"};
//   ... add `serve` ...
//   kiln::client::RegisterClientCommands(app);
//   try {
//     app.parse(argc, argv);
//   } catch (const CLI::ParseError& e) {
//     return kiln::client::ExitCodeForParseError(app, e);
//   }
//   return 0;

#include <iostream>
#include <ostream>

#include "client/nouns.h"

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace kiln::client {

// Adds one subcommand per noun in ClientNouns() (custom-jobs, pipelines,
// hp-tuning-jobs, datasets, models, operations) to `app`, each with the global
// flags --project, --region, --endpoint, --format, --config-file (accepted
// before or after the verb) and its verbs. A verb that fails throws
// CLI::RuntimeError carrying its exit code (1 API error, 2 usage) out of
// app.parse(); results go to io.out and messages to io.err.
void RegisterClientCommands(CLI::App& app, const CommandIo& io = {});

// The process exit code for a CLI::ParseError thrown by app.parse(): a verb's
// own code for CLI::RuntimeError; 0 after printing help (--help) to `out`;
// otherwise (unknown flag, missing argument, ...) prints CLI11's message to
// `err` and returns 2.
int ExitCodeForParseError(const CLI::App& app, const CLI::ParseError& error, std::ostream& out = std::cout,
                          std::ostream& err = std::cerr);

}  // namespace kiln::client

#endif  // KILN_CLIENT_COMMANDS_H_
