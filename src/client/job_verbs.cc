// `kiln custom-jobs wait` and `describe` (see custom_job_verbs.h).

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "client/command_support.h"
#include "client/custom_job_verbs.h"
#include "client/output.h"
#include "client/resources.h"
#include "nlohmann/json.hpp"

namespace kiln::client {
namespace {

using nlohmann::json;

const std::vector<Column>& ReplicaColumns() {
  static const std::vector<Column>* const kColumns = new std::vector<Column>{
      {"TASK", "taskName"}, {"STATE", "state"}, {"EXIT_CODE", "exitCode"}, {"SIGNAL", "signal"}};
  return *kColumns;
}

// The "kiln:" section of the table output.
void PrintKilnSection(const json& status, std::ostream& out) {
  out << "\nkiln:\n";
  if (auto reason = status.find("queueReason"); reason != status.end() && reason->is_string()) {
    out << "  queueReason: " << reason->get<std::string>() << "\n";
  }
  std::vector<json> rows;
  if (auto replicas = status.find("replicas"); replicas != status.end() && replicas->is_array()) {
    for (const json& replica : *replicas) {
      if (replica.is_object()) rows.push_back(replica);
    }
  }
  if (rows.empty()) {
    out << "  (no replicas)\n";
    return;
  }
  const std::string table = FormatTable(rows, ReplicaColumns());
  for (absl::string_view line : absl::StrSplit(table, '\n', absl::SkipEmpty())) {
    out << "  " << line << "\n";
  }
}

}  // namespace

int RunJobWait(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name,
               const FollowOptions& options, std::ostream& out, std::ostream& err) {
  constexpr absl::string_view kVerb = "wait";
  if (options.timeout < absl::ZeroDuration()) {
    return ReportError(noun.name, kVerb, absl::InvalidArgumentError("--timeout must be >= 0"), kExitUsage, err);
  }
  Target target = OpenTarget(noun, kVerb, flags, id_or_name, OutputFormat::kYaml, err);
  if (!target.session.has_value()) return target.exit_code;
  absl::StatusOr<json> job = FollowJob(target.session->client, target.name, options, err);
  if (!job.ok()) {
    return ReportError(noun.name, kVerb, job.status(), kExitApiError, err);
  }
  err << "CustomJob [" << target.name << "] ended in state " << JobStateName(*job) << ".\n";
  absl::Status printed = PrintResource(*job, noun.columns, target.session->format, out);
  if (!printed.ok()) {
    return ReportError(noun.name, kVerb, printed, kExitApiError, err);
  }
  absl::Status outcome = JobOutcome(*job);
  if (!outcome.ok()) {
    return ReportError(noun.name, kVerb, outcome, kExitApiError, err);
  }
  return kExitOk;
}

int RunJobDescribe(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name, std::ostream& out,
                   std::ostream& err) {
  constexpr absl::string_view kVerb = "describe";
  Target target = OpenTarget(noun, kVerb, flags, id_or_name, OutputFormat::kYaml, err);
  if (!target.session.has_value()) return target.exit_code;
  absl::StatusOr<json> job = target.session->client.Get(ResourcePath(target.name));
  if (!job.ok()) {
    return ReportError(noun.name, kVerb, job.status(), kExitApiError, err);
  }
  absl::StatusOr<std::optional<json>> status = FetchKilnStatus(target.session->client, target.name);
  std::optional<json> kiln_status;
  if (status.ok()) {
    kiln_status = *std::move(status);
  } else {
    err << "WARNING: kiln replica status is unavailable: " << status.status().message() << "\n";
  }
  const OutputFormat format = target.session->format;
  if (kiln_status.has_value() && format != OutputFormat::kTable && job->is_object()) {
    (*job)["kilnStatus"] = *kiln_status;
  }
  absl::Status printed = PrintResource(*job, noun.columns, format, out);
  if (!printed.ok()) {
    return ReportError(noun.name, kVerb, printed, kExitApiError, err);
  }
  if (kiln_status.has_value() && format == OutputFormat::kTable && kiln_status->is_object()) {
    PrintKilnSection(*kiln_status, out);
  }
  return kExitOk;
}

}  // namespace kiln::client
