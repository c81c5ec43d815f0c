// `kiln custom-jobs create` (see custom_job_verbs.h).

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/command_support.h"
#include "client/custom_job_verbs.h"
#include "client/proto_io.h"
#include "client/resources.h"
#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "nlohmann/json.hpp"

namespace kiln::client {

using nlohmann::json;
namespace v1 = google::cloud::aiplatform::v1;

int RunCreate(const NounSpec& noun, const ConfigFlags& flags, const CreateArgs& args, std::ostream& out,
              std::ostream& err) {
  constexpr absl::string_view kVerb = "create";
  absl::StatusOr<Session> session = OpenSession(flags, OutputFormat::kYaml);
  if (!session.ok()) {
    return ReportError(noun.name, kVerb, session.status(), kExitUsage, err);
  }
  absl::StatusOr<std::string> parent = LocationName(session->config);
  if (!parent.ok()) {
    return ReportError(noun.name, kVerb, parent.status(), kExitUsage, err);
  }
  absl::StatusOr<v1::CustomJob> body = BuildCustomJob(args.job);
  if (!body.ok()) {
    return ReportError(noun.name, kVerb, body.status(), kExitUsage, err);
  }
  absl::StatusOr<json> created = session->client.Post(CollectionPath(*parent, noun.collection), *body);
  if (!created.ok()) {
    return ReportError(noun.name, kVerb, created.status(), kExitApiError, err);
  }
  absl::StatusOr<v1::CustomJob> job = ReadAnswer<v1::CustomJob>(*created, "customJobs.create");
  if (!job.ok()) return ReportError(noun.name, kVerb, job.status(), kExitApiError, err);
  if (job->name().empty()) {
    return ReportError(noun.name, kVerb, absl::InternalError("the server's answer to create has no job name"),
                       kExitApiError, err);
  }
  const std::string name = job->name();
  const std::string id(LastSegment(name));
  const std::string extra = SameTargetFlags(flags);
  err << "CustomJob [" << name << "] is submitted successfully.\n\n"
      << "Your job is still active. You may view the status of your job with "
         "the command\n\n"
      << "  $ kiln " << noun.name << " describe " << id << extra << "\n\n"
      << "or continue streaming the logs with the command\n\n"
      << "  $ kiln " << noun.name << " logs " << id << " -f" << extra << "\n";
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

  absl::StatusOr<json> final_job = FollowJob(session->client, name, args.follow, err);
  if (!final_job.ok()) {
    return ReportError(noun.name, kVerb, final_job.status(), kExitApiError, err);
  }
  err << "CustomJob [" << name << "] ended in state " << JobStateName(*final_job) << ".\n";
  absl::Status outcome = JobOutcome(*final_job);
  if (!outcome.ok()) {
    return ReportError(noun.name, kVerb, outcome, kExitApiError, err);
  }
  return kExitOk;
}

}  // namespace kiln::client
