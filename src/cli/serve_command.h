#ifndef KILN_CLI_SERVE_COMMAND_H_
#define KILN_CLI_SERVE_COMMAND_H_

#include "CLI/CLI.hpp"

namespace kiln::cli {

// Adds `kiln serve [--port N] [--host H] [--home DIR] [--tokens-file F]`: starts kiln in the
// foreground, prints the address it listens on, and stops cleanly on SIGINT or SIGTERM.
void AddServeCommand(CLI::App& app, int* exit_code);

}  // namespace kiln::cli

#endif  // KILN_CLI_SERVE_COMMAND_H_
