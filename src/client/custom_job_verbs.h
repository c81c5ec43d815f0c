#ifndef KILN_CLIENT_CUSTOM_JOB_VERBS_H_
#define KILN_CLIENT_CUSTOM_JOB_VERBS_H_

// The verbs only `kiln custom-jobs` has: create, logs, wait, and a describe
// that adds kiln's replica status. Same shape as verbs.h: Run<Verb> returns
// the exit code (0 ok, 1 API error or a job that did not succeed, 2 usage);
// Add<Verb>Verb is the VerbRegistrar.

#include <memory>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/client_config.h"
#include "client/job_follow.h"
#include "client/nouns.h"
#include "client/worker_pool_flags.h"

namespace kiln::client {

// `kiln custom-jobs create --display-name N (--worker-pool-spec S... |
// --config F) [...] [--watch]`.
struct CreateArgs {
  CreateJobFlags job;
  bool watch = false;
  FollowOptions follow;
};

// POSTs BuildCustomJob(args.job) to /v1/projects/P/locations/R/customJobs.
// stdout: the created job's name, or the whole job when --format was given
// on the command line. stderr: "CustomJob [NAME] is submitted successfully."
// and the describe / logs -f commands to run next. With `watch`, then
// follows the job (FollowJob) and exits 0 only if it SUCCEEDED, else 1 after
// reporting the job's error.
int RunCreate(const NounSpec& noun, const ConfigFlags& flags, const CreateArgs& args, std::ostream& out,
              std::ostream& err);

// `kiln custom-jobs logs ID [--task T] [-f]`.
struct LogsArgs {
  std::string task;  // Empty: the server's default (workerpool0-0).
  bool follow = false;
  int wait_seconds = 20;  // waitSeconds of each follow call (1..60).
  // Least time between follow calls that returned nothing at once.
  absl::Duration min_interval = absl::Seconds(1);
};

// GETs /kiln/v1/{name}/logs from offset 0, writing the bytes to `out` as
// they arrive and asking next from X-Kiln-Next-Offset (else offset + bytes).
// Without `follow` it stops at the first empty answer or at
// X-Kiln-Log-End: true; with `follow` (follow=true&waitSeconds=N) only at
// X-Kiln-Log-End: true. INTERNAL (exit 1) if the server moves the offset
// backwards.
int RunLogs(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name, const LogsArgs& args,
            std::ostream& out, std::ostream& err);

// Follows the job until final (FollowJob; progress on `err`), prints it to
// `out` (default yaml) and exits 0 if it SUCCEEDED, else 1 with the job's
// error. DEADLINE_EXCEEDED (exit 1) when `options.timeout` passes first.
int RunJobWait(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name,
               const FollowOptions& options, std::ostream& out, std::ostream& err);

// RunDescribe's output plus kiln's replica status (FetchKilnStatus):
// json/yaml add it to the job under "kilnStatus"; table appends a "kiln:"
// section with queueReason and a TASK/STATE/EXIT_CODE/SIGNAL table. Skipped
// silently when the server lacks the route, with a WARNING on `err` for
// other errors.
int RunJobDescribe(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name, std::ostream& out,
                   std::ostream& err);

// Registrars (see VerbRegistrar in nouns.h). The CLI verbs refresh the watch
// progress line in place when stderr is a terminal.
void AddCreateVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                   const CommandIo& io);
void AddLogsVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                 const CommandIo& io);
void AddJobWaitVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                    const CommandIo& io);
void AddJobDescribeVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                        const CommandIo& io);

}  // namespace kiln::client

#endif  // KILN_CLIENT_CUSTOM_JOB_VERBS_H_
