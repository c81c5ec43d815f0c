#ifndef KILN_CLIENT_VERBS_H_
#define KILN_CLIENT_VERBS_H_

// The verbs of the client nouns. Each verb has
//  - Run<Verb>(noun, flags, args..., out, err) -> exit code: does the work,
//    printing results to `out` and errors to `err` as
//    "ERROR: (kiln.<noun>.<verb>) <CODE>: <message>"; tests call these;
//  - Add<Verb>Verb: a VerbRegistrar (nouns.h) that adds the CLI11 subcommand,
//    its flags, and a callback calling Run<Verb>.

#include <memory>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/client_config.h"
#include "client/nouns.h"

namespace kiln::client {

// `kiln <noun> list [--filter F] [--page-size N] [--limit N]`.
struct ListArgs {
  std::string filter;
  int page_size = 0;  // 0: the server's default.
  int limit = 0;      // 0: every item.
};

// `kiln operations wait ID_OR_NAME [--timeout S] [--poll-interval S]`.
struct WaitArgs {
  absl::Duration timeout = absl::Minutes(30);
  absl::Duration poll_interval = absl::Seconds(1);
};

// Lists the noun's collection in the location, following nextPageToken up to
// `limit` items. Default format: table.
int RunList(const NounSpec& noun, const ConfigFlags& flags, const ListArgs& args, std::ostream& out, std::ostream& err);

// GET /v1/{name}. Default format: yaml.
int RunDescribe(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name, std::ostream& out,
                std::ostream& err);

// DELETE /v1/{name}; prints the returned Operation (default yaml) to `out`
// and "Delete request issued for [NAME]." to `err`.
int RunDelete(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name, std::ostream& out,
              std::ostream& err);

// POST /v1/{name}:cancel with body {}; prints "Requested cancellation of
// [NAME]." to `err` and nothing to `out`.
int RunCancel(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name, std::ostream& out,
              std::ostream& err);

// Polls GET /v1/{name} of an Operation until `done`, then prints it (default
// yaml). Exit 1 when the operation finished with an `error` (reported with its
// code and message) or is not done within `timeout`.
int RunWait(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name, const WaitArgs& args,
            std::ostream& out, std::ostream& err);

// Registrars (see VerbRegistrar in nouns.h).
void AddListVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                 const CommandIo& io);
void AddDescribeVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                     const CommandIo& io);
void AddDeleteVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                   const CommandIo& io);
void AddCancelVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                   const CommandIo& io);
void AddWaitVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                 const CommandIo& io);

}  // namespace kiln::client

#endif  // KILN_CLIENT_VERBS_H_
