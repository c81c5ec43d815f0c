#ifndef KILN_CLIENT_NOUNS_H_
#define KILN_CLIENT_NOUNS_H_

// The table of client nouns (`kiln custom-jobs ...`, `kiln models ...`): what
// REST collection each one maps to, how its list table looks, and which verbs
// it has. Adding a verb to one noun = writing its Add<Verb>Verb registrar (see
// verbs.h) and appending it to that noun's `verbs` in nouns.cc.

#include <iostream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/client_config.h"
#include "client/output.h"
#include "client/resources.h"

namespace CLI {
class App;
}  // namespace CLI

namespace kiln::client {

// Where commands write: results to `out`, messages and errors to `err`.
struct CommandIo {
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;
};

struct NounSpec;

// Adds one verb as a subcommand of `noun_command`. `flags` is the noun's
// global flags: CLI11 fills it while parsing, and the verb reads it when it
// runs. `noun` outlives the command (it lives in the static noun table).
using VerbRegistrar = void (*)(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                               const CommandIo& io);

struct NounSpec {
  std::string name;                  // The CLI noun: "custom-jobs".
  std::string title;                 // For help texts, plural: "custom jobs".
  std::string collection;            // REST collection id and list key: "customJobs".
  bool versioned_ids = false;        // IDs may carry "@VERSION" (models).
  std::vector<Column> columns;       // The list/describe table.
  std::vector<VerbRegistrar> verbs;  // In help order.

  NameRules name_rules() const { return {collection, versioned_ids}; }
};

// Every client noun, in help order.
const std::vector<NounSpec>& ClientNouns();

// The noun named `name`, or nullptr.
const NounSpec* FindNoun(absl::string_view name);

// The table columns for a google.longrunning.Operation (NAME, DONE).
const std::vector<Column>& OperationColumns();

}  // namespace kiln::client

#endif  // KILN_CLIENT_NOUNS_H_
