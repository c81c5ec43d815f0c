// `kiln pipelines create` and `kiln pipelines wait` (see pipeline_verbs.h).

#include "client/pipeline_verbs.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/command_support.h"
#include "client/proto_io.h"
#include "client/resources.h"

namespace kiln::client {
namespace {

using nlohmann::json;
namespace v1 = google::cloud::aiplatform::v1;

// Reports how a followed pipeline ended; the exit code.
int ReportFinal(const NounSpec& noun, absl::string_view verb, const std::string& name, const json& pipeline,
                std::ostream& err) {
  err << "TrainingPipeline [" << name << "] ended in state " << PipelineStateName(pipeline) << ".\n";
  absl::Status outcome = PipelineOutcome(pipeline);
  if (!outcome.ok()) return ReportError(noun.name, verb, outcome, kExitApiError, err);
  const std::string model = UploadedModelLine(pipeline);
  if (!model.empty()) err << model << "\n";
  return kExitOk;
}

}  // namespace

int RunPipelineCreate(const NounSpec& noun, const ConfigFlags& flags, const PipelineCreateArgs& args, std::ostream& out,
                      std::ostream& err) {
  constexpr absl::string_view kVerb = "create";
  auto usage = [&](const absl::Status& status) { return ReportError(noun.name, kVerb, status, kExitUsage, err); };
  absl::StatusOr<Session> session = OpenSession(flags, OutputFormat::kYaml);
  if (!session.ok()) return usage(session.status());
  absl::StatusOr<std::string> parent = LocationName(session->config);
  if (!parent.ok()) return usage(parent.status());
  const PipelineFlags& pipeline = args.pipeline;
  // Check every flag before uploading anything.
  absl::StatusOr<PipelineSource> source = CheckPipelineSource(pipeline);
  if (!source.ok()) return usage(source.status());
  std::optional<StagedScript> script;
  if (*source == PipelineSource::kScript) {
    const StagedScript placeholder{"gs://check/only.tar.gz", "check.only"};
    absl::StatusOr<v1::TrainingPipeline> checked = BuildTrainingPipeline(pipeline, *parent, placeholder);
    if (!checked.ok()) return usage(checked.status());
    const std::string staging = pipeline.staging_bucket.empty() ? pipeline.base_output_dir : pipeline.staging_bucket;
    if (staging.empty()) {
      return usage(
          absl::InvalidArgumentError("--script needs --staging-bucket=gs://BUCKET[/PREFIX] (or "
                                     "--base-output-dir) to upload the packaged script to"));
    }
    auto checked_staging =
        SplitGcsPrefix(pipeline.staging_bucket.empty() ? "--base-output-dir" : "--staging-bucket", staging);
    if (!checked_staging.ok()) return usage(checked_staging.status());
    absl::StatusOr<PackagedScript> package = PackageForStaging(pipeline.script, args.staging);
    if (!package.ok()) {
      const absl::StatusCode code = package.status().code();
      const bool users = code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kNotFound ||
                         code == absl::StatusCode::kFailedPrecondition || code == absl::StatusCode::kPermissionDenied;
      return ReportError(noun.name, kVerb, package.status(), users ? kExitUsage : kExitApiError, err);
    }
    absl::StatusOr<StagedScript> staged =
        UploadStagedScript(session->config, *package, staging, absl::Now(), args.staging);
    if (!staged.ok()) {
      return ReportError(noun.name, kVerb, staged.status(), kExitApiError, err);
    }
    err << "Uploaded the script to [" << staged->package_uri << "].\n";
    script = *std::move(staged);
  }
  absl::StatusOr<v1::TrainingPipeline> body = BuildTrainingPipeline(pipeline, *parent, script);
  if (!body.ok()) return usage(body.status());
  absl::StatusOr<json> created = session->client.Post(CollectionPath(*parent, noun.collection), *body);
  if (!created.ok()) {
    return ReportError(noun.name, kVerb, created.status(), kExitApiError, err);
  }
  absl::StatusOr<v1::TrainingPipeline> answer = ReadAnswer<v1::TrainingPipeline>(*created, "trainingPipelines.create");
  if (!answer.ok()) return ReportError(noun.name, kVerb, answer.status(), kExitApiError, err);
  if (answer->name().empty()) {
    return ReportError(noun.name, kVerb, absl::InternalError("the server's answer to create has no pipeline name"),
                       kExitApiError, err);
  }
  const std::string name = answer->name();
  const std::string id(LastSegment(name));
  const std::string extra = SameTargetFlags(flags);
  err << "TrainingPipeline [" << name << "] is submitted successfully.\n\n"
      << "Your training pipeline is still active. You may view its status "
         "with the command\n\n"
      << "  $ kiln " << noun.name << " describe " << id << extra << "\n\n"
      << "or wait for it to finish with the command\n\n"
      << "  $ kiln " << noun.name << " wait " << id << extra << "\n";
  if (flags.format.empty()) {
    out << name << "\n" << std::flush;
  } else {
    absl::Status printed = PrintResource(*created, noun.columns, session->format, out);
    if (!printed.ok()) {
      return ReportError(noun.name, kVerb, printed, kExitApiError, err);
    }
    out << std::flush;
  }
  if (!args.watch) return kExitOk;
  absl::StatusOr<json> final_pipeline = FollowPipeline(session->client, name, args.follow, err);
  if (!final_pipeline.ok()) {
    return ReportError(noun.name, kVerb, final_pipeline.status(), kExitApiError, err);
  }
  return ReportFinal(noun, kVerb, name, *final_pipeline, err);
}

int RunPipelineWait(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name,
                    const PipelineFollowOptions& options, std::ostream& out, std::ostream& err) {
  constexpr absl::string_view kVerb = "wait";
  if (options.timeout < absl::ZeroDuration() || options.poll_interval <= absl::ZeroDuration()) {
    return ReportError(noun.name, kVerb, absl::InvalidArgumentError("--timeout must be >= 0 and --poll-interval > 0"),
                       kExitUsage, err);
  }
  Target target = OpenTarget(noun, kVerb, flags, id_or_name, OutputFormat::kYaml, err);
  if (!target.session.has_value()) return target.exit_code;
  absl::StatusOr<json> final_pipeline = FollowPipeline(target.session->client, target.name, options, err);
  if (!final_pipeline.ok()) {
    return ReportError(noun.name, kVerb, final_pipeline.status(), kExitApiError, err);
  }
  absl::Status printed = PrintResource(*final_pipeline, noun.columns, target.session->format, out);
  if (!printed.ok()) {
    return ReportError(noun.name, kVerb, printed, kExitApiError, err);
  }
  return ReportFinal(noun, kVerb, target.name, *final_pipeline, err);
}

}  // namespace kiln::client
