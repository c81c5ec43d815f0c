// The CLI11 side of the verbs declared in custom_job_verbs.h.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/command_support.h"
#include "client/custom_job_verbs.h"

namespace kiln::client {
namespace {

void AddIdOrName(CLI::App& verb, const NounSpec& noun, std::string* value) {
  verb.add_option("ID_OR_NAME", *value,
                  absl::StrCat("An ID (expanded with --project and --region) "
                               "or a full name projects/P/locations/R/",
                               noun.collection, "/ID"))
      ->required();
}

// Whether progress lines can be refreshed in place on `io`'s error stream.
bool ErrIsTerminal(const CommandIo& io) { return io.err == &std::cerr && isatty(STDERR_FILENO) == 1; }

}  // namespace

void AddCreateVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                   const CommandIo& io) {
  CLI::App* verb =
      AddVerbCommand(noun_command, "create",
                     absl::StrCat("Create one of the ", noun.title, " (flags as gcloud ai custom-jobs create)"));
  auto args = std::make_shared<CreateArgs>();
  CreateJobFlags& job = args->job;
  verb->add_option("--display-name", job.display_name, "Display name of the job (required)");
  verb->add_option("--worker-pool-spec", job.worker_pool_specs,
                   absl::StrCat("One worker pool, repeat in pool order: KEY=VALUE,... "
                                "with keys ",
                                absl::StrJoin(WorkerPoolSpecKeys(), ", ")))
      ->allow_extra_args(false);
  verb->add_option("--python-package-uris", job.python_package_uris,
                   "gs:// URIs of python packages (comma-separated) for pools "
                   "with executor-image-uri");
  verb->add_option("--config", job.config_file,
                   "A CustomJobSpec in YAML or JSON (camelCase or snake_case "
                   "keys); worker pools come from here or from "
                   "--worker-pool-spec, not both");
  verb->add_option("--labels", job.labels, "Labels as KEY=VALUE,...");
  verb->add_option("--args", job.args,
                   "Arguments for every pool, comma-separated (replaces the "
                   "pools' args); write --args=--flag,...");
  verb->add_option("--command", job.command,
                   "Container entrypoint for every container pool, "
                   "comma-separated");
  verb->add_option("--env-vars", job.env_vars, "Environment for every pool as KEY=VALUE,... (appended)");
  verb->add_option("--timeout", job.timeout, "jobSpec.scheduling.timeout: 3600s, 3600 or 2h");
  verb->add_option("--base-output-dir", job.base_output_dir, "jobSpec.baseOutputDirectory.outputUriPrefix (gs://...)");
  verb->add_flag("--watch", args->watch,
                 "Follow the job until it is final; exit 0 only if it "
                 "SUCCEEDED");
  verb->callback([spec = &noun, flags, args, io] {
    args->follow.tty = ErrIsTerminal(io);
    FinishCommand(RunCreate(*spec, *flags, *args, *io.out, *io.err));
  });
}

void AddLogsVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                 const CommandIo& io) {
  CLI::App* verb =
      AddVerbCommand(noun_command, "logs", absl::StrCat("Print the log of one replica of one of the ", noun.title));
  auto id_or_name = std::make_shared<std::string>();
  AddIdOrName(*verb, noun, id_or_name.get());
  auto args = std::make_shared<LogsArgs>();
  verb->add_option("--task", args->task, "The replica, e.g. workerpool0-0 (the default)");
  verb->add_flag("-f,--follow", args->follow, "Keep printing new output until the replica has finished");
  verb->callback([spec = &noun, flags, id_or_name, args, io] {
    FinishCommand(RunLogs(*spec, *flags, *id_or_name, *args, *io.out, *io.err));
  });
}

void AddJobWaitVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                    const CommandIo& io) {
  CLI::App* verb =
      AddVerbCommand(noun_command, "wait",
                     absl::StrCat("Wait until one of the ", noun.title, " is final; exit 0 only if it SUCCEEDED"));
  auto id_or_name = std::make_shared<std::string>();
  AddIdOrName(*verb, noun, id_or_name.get());
  auto timeout_seconds = std::make_shared<double>(0);
  verb->add_option("--timeout", *timeout_seconds, "Give up after this many seconds (0: no limit)")
      ->capture_default_str();
  verb->callback([spec = &noun, flags, id_or_name, timeout_seconds, io] {
    FollowOptions options;
    options.timeout = absl::Seconds(*timeout_seconds);
    options.tty = ErrIsTerminal(io);
    FinishCommand(RunJobWait(*spec, *flags, *id_or_name, options, *io.out, *io.err));
  });
}

void AddJobDescribeVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                        const CommandIo& io) {
  CLI::App* verb = AddVerbCommand(noun_command, "describe",
                                  absl::StrCat("Show one of the ", noun.title, " with kiln's replica status"));
  auto id_or_name = std::make_shared<std::string>();
  AddIdOrName(*verb, noun, id_or_name.get());
  verb->callback([spec = &noun, flags, id_or_name, io] {
    FinishCommand(RunJobDescribe(*spec, *flags, *id_or_name, *io.out, *io.err));
  });
}

}  // namespace kiln::client
