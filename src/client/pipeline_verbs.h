#ifndef KILN_CLIENT_PIPELINE_VERBS_H_
#define KILN_CLIENT_PIPELINE_VERBS_H_

// The verbs only `kiln pipelines` has: create (SDK-like flags, see
// pipeline_flags.h) and wait; list, describe, cancel and delete are the
// generic ones (verbs.h). Same shape as verbs.h: Run<Verb> returns the exit
// code (0 ok, 1 API error or a pipeline that did not succeed, 2 usage);
// Add<Verb>Verb is the VerbRegistrar.

#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/api_client.h"
#include "client/client_config.h"
#include "client/nouns.h"
#include "client/pipeline_flags.h"
#include "client/script_staging.h"
#include "nlohmann/json.hpp"

namespace kiln::client {

// These read the answer as a TrainingPipeline (proto_io.h ReadAnswer).
// The pipeline's `state` as a PipelineState name ("PIPELINE_STATE_RUNNING",
// from a name or an integer); "" when absent, unspecified or when the answer
// is not a TrainingPipeline.
std::string PipelineStateName(const nlohmann::json& pipeline);

// SUCCEEDED, FAILED, CANCELLED or PAUSED (where the SDK stops waiting).
bool IsFinalPipeline(const nlohmann::json& pipeline);

// OK for a SUCCEEDED pipeline; else its `error` as a Status, or UNKNOWN
// "TrainingPipeline [NAME] ended in state S" without one; INTERNAL when the
// answer is not a TrainingPipeline.
absl::Status PipelineOutcome(const nlohmann::json& pipeline);

// "[RUNNING] elapsed 12s · backing CustomJob 17" (the job's ID from
// trainingTaskMetadata.backingCustomJob, when known).
std::string PipelineProgressLine(const nlohmann::json& pipeline, absl::Duration elapsed);

// "Model: projects/.../models/ID version V" from modelToUpload.name and
// versionId; "" when the pipeline uploaded no model.
std::string UploadedModelLine(const nlohmann::json& pipeline);

struct PipelineFollowOptions {
  absl::Duration timeout = absl::ZeroDuration();  // Zero: no limit.
  absl::Duration poll_interval = absl::Seconds(1);
  bool tty = false;  // Refresh one progress line with '\r'; else print a
                     // new line whenever it changes (not for elapsed alone).
};

// Polls GET /v1/{name} every poll_interval until the pipeline is final,
// printing PipelineProgressLine to `err`; returns the final pipeline.
// DEADLINE_EXCEEDED when `timeout` passes first; INTERNAL for an answer that
// is not a TrainingPipeline; API errors as is.
absl::StatusOr<nlohmann::json> FollowPipeline(ApiClient& client, absl::string_view name,
                                              const PipelineFollowOptions& options, std::ostream& err);

// `kiln pipelines create --display-name N SOURCE... [--watch]`.
struct PipelineCreateArgs {
  PipelineFlags pipeline;
  bool watch = false;
  PipelineFollowOptions follow;
  ScriptStagingHooks staging;  // Test seams for --script.
};

// Checks the flags; for --script then packages and uploads the script
// (script_staging.h; to --staging-bucket, else --base-output-dir). Then POSTs
// BuildTrainingPipeline to
// /v1/projects/P/locations/R/trainingPipelines. stdout: the pipeline's name,
// or the whole pipeline when --format was given on the command line.
// stderr: "TrainingPipeline [NAME] is submitted successfully." and the
// commands to run next. With `watch`, follows it (FollowPipeline) and exits 0
// only if it SUCCEEDED, printing UploadedModelLine to stderr; else 1.
int RunPipelineCreate(const NounSpec& noun, const ConfigFlags& flags, const PipelineCreateArgs& args, std::ostream& out,
                      std::ostream& err);

// Follows the pipeline until final, prints it to `out` (default yaml) and
// exits 0 if it SUCCEEDED (UploadedModelLine on `err`), else 1 with its
// error.
int RunPipelineWait(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name,
                    const PipelineFollowOptions& options, std::ostream& out, std::ostream& err);

void AddPipelineCreateVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                           const CommandIo& io);
void AddPipelineWaitVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                         const CommandIo& io);

}  // namespace kiln::client

#endif  // KILN_CLIENT_PIPELINE_VERBS_H_
