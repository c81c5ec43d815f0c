// The CLI11 side of the verbs declared in verbs.h.

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/command_support.h"
#include "client/verbs.h"

namespace kiln::client {
namespace {

// Adds the required positional ID_OR_NAME bound to `*value`.
void AddIdOrName(CLI::App& verb, const NounSpec& noun, std::string* value) {
  verb.add_option("ID_OR_NAME", *value,
                  absl::StrCat("An ID (expanded with --project and --region) "
                               "or a full name projects/P/locations/R/",
                               noun.collection, "/ID"))
      ->required();
}

}  // namespace

void AddListVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                 const CommandIo& io) {
  CLI::App* verb = AddVerbCommand(noun_command, "list", absl::StrCat("List ", noun.title));
  auto args = std::make_shared<ListArgs>();
  verb->add_option("--filter", args->filter, "A Vertex AI list filter, e.g. 'state=\"JOB_STATE_RUNNING\"'");
  verb->add_option("--page-size", args->page_size, "Items per request (default: the server's)");
  verb->add_option("--limit", args->limit, "Stop after this many items (default: all)");
  verb->callback([spec = &noun, flags, args, io] { FinishCommand(RunList(*spec, *flags, *args, *io.out, *io.err)); });
}

void AddDescribeVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                     const CommandIo& io) {
  CLI::App* verb = AddVerbCommand(noun_command, "describe", absl::StrCat("Show one of the ", noun.title));
  auto id_or_name = std::make_shared<std::string>();
  AddIdOrName(*verb, noun, id_or_name.get());
  verb->callback([spec = &noun, flags, id_or_name, io] {
    FinishCommand(RunDescribe(*spec, *flags, *id_or_name, *io.out, *io.err));
  });
}

void AddDeleteVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                   const CommandIo& io) {
  CLI::App* verb = AddVerbCommand(
      noun_command, "delete", absl::StrCat("Delete one of the ", noun.title, " (prints the long-running operation)"));
  auto id_or_name = std::make_shared<std::string>();
  AddIdOrName(*verb, noun, id_or_name.get());
  verb->callback([spec = &noun, flags, id_or_name, io] {
    FinishCommand(RunDelete(*spec, *flags, *id_or_name, *io.out, *io.err));
  });
}

void AddCancelVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                   const CommandIo& io) {
  CLI::App* verb = AddVerbCommand(noun_command, "cancel", absl::StrCat("Cancel one of the ", noun.title));
  auto id_or_name = std::make_shared<std::string>();
  AddIdOrName(*verb, noun, id_or_name.get());
  verb->callback([spec = &noun, flags, id_or_name, io] {
    FinishCommand(RunCancel(*spec, *flags, *id_or_name, *io.out, *io.err));
  });
}

void AddWaitVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                 const CommandIo& io) {
  CLI::App* verb = AddVerbCommand(noun_command, "wait", absl::StrCat("Wait until one of the ", noun.title, " is done"));
  auto id_or_name = std::make_shared<std::string>();
  AddIdOrName(*verb, noun, id_or_name.get());
  struct WaitFlags {
    double timeout_seconds = 1800;
    double poll_interval_seconds = 1;
  };
  auto wait_flags = std::make_shared<WaitFlags>();
  verb->add_option("--timeout", wait_flags->timeout_seconds, "Give up after this many seconds")->capture_default_str();
  verb->add_option("--poll-interval", wait_flags->poll_interval_seconds, "Seconds between polls")
      ->capture_default_str();
  verb->callback([spec = &noun, flags, id_or_name, wait_flags, io] {
    WaitArgs args;
    args.timeout = absl::Seconds(wait_flags->timeout_seconds);
    args.poll_interval = absl::Seconds(wait_flags->poll_interval_seconds);
    FinishCommand(RunWait(*spec, *flags, *id_or_name, args, *io.out, *io.err));
  });
}

}  // namespace kiln::client
