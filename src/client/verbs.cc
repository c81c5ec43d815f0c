#include "client/verbs.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/command_support.h"
#include "client/proto_io.h"
#include "client/resources.h"
#include "google/longrunning/operations.pb.h"
#include "google/protobuf/empty.pb.h"
#include "nlohmann/json.hpp"

namespace kiln::client {

using nlohmann::json;

int RunList(const NounSpec& noun, const ConfigFlags& flags, const ListArgs& args, std::ostream& out,
            std::ostream& err) {
  constexpr absl::string_view kVerb = "list";
  if (args.page_size < 0 || args.limit < 0) {
    return ReportError(noun.name, kVerb, absl::InvalidArgumentError("--page-size and --limit must be >= 0"), kExitUsage,
                       err);
  }
  absl::StatusOr<Session> session = OpenSession(flags, OutputFormat::kTable);
  if (!session.ok()) {
    return ReportError(noun.name, kVerb, session.status(), kExitUsage, err);
  }
  absl::StatusOr<std::string> parent = LocationName(session->config);
  if (!parent.ok()) {
    return ReportError(noun.name, kVerb, parent.status(), kExitUsage, err);
  }
  ListRequest request;
  request.filter = args.filter;
  request.page_size = args.page_size;
  request.limit = args.limit;
  absl::StatusOr<std::vector<json>> items = ListAll(session->client, *parent, noun.collection, request);
  if (!items.ok()) {
    return ReportError(noun.name, kVerb, items.status(), kExitApiError, err);
  }
  absl::Status printed = PrintList(*items, noun.columns, session->format, out, err);
  if (!printed.ok()) {
    return ReportError(noun.name, kVerb, printed, kExitApiError, err);
  }
  return kExitOk;
}

int RunDescribe(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name, std::ostream& out,
                std::ostream& err) {
  constexpr absl::string_view kVerb = "describe";
  Target target = OpenTarget(noun, kVerb, flags, id_or_name, OutputFormat::kYaml, err);
  if (!target.session.has_value()) return target.exit_code;
  absl::StatusOr<json> resource = target.session->client.Get(ResourcePath(target.name));
  if (!resource.ok()) {
    return ReportError(noun.name, kVerb, resource.status(), kExitApiError, err);
  }
  absl::Status printed = PrintResource(*resource, noun.columns, target.session->format, out);
  if (!printed.ok()) {
    return ReportError(noun.name, kVerb, printed, kExitApiError, err);
  }
  return kExitOk;
}

int RunDelete(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name, std::ostream& out,
              std::ostream& err) {
  constexpr absl::string_view kVerb = "delete";
  Target target = OpenTarget(noun, kVerb, flags, id_or_name, OutputFormat::kYaml, err);
  if (!target.session.has_value()) return target.exit_code;
  absl::StatusOr<json> operation = target.session->client.Delete(ResourcePath(target.name));
  if (!operation.ok()) {
    return ReportError(noun.name, kVerb, operation.status(), kExitApiError, err);
  }
  err << "Delete request issued for [" << target.name << "].\n";
  absl::Status printed = PrintResource(*operation, OperationColumns(), target.session->format, out);
  if (!printed.ok()) {
    return ReportError(noun.name, kVerb, printed, kExitApiError, err);
  }
  return kExitOk;
}

int RunCancel(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name, std::ostream& out,
              std::ostream& err) {
  constexpr absl::string_view kVerb = "cancel";
  Target target = OpenTarget(noun, kVerb, flags, id_or_name, OutputFormat::kYaml, err);
  if (!target.session.has_value()) return target.exit_code;
  // Every noun's Cancel*Request carries only the name, which is the path's: the body is {}.
  absl::StatusOr<json> answer =
      target.session->client.Post(MethodPath(target.name, "cancel"), google::protobuf::Empty());
  if (!answer.ok()) {
    return ReportError(noun.name, kVerb, answer.status(), kExitApiError, err);
  }
  err << "Requested cancellation of [" << target.name << "].\n";
  return kExitOk;
}

int RunWait(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name, const WaitArgs& args,
            std::ostream& out, std::ostream& err) {
  constexpr absl::string_view kVerb = "wait";
  if (args.timeout <= absl::ZeroDuration() || args.poll_interval <= absl::ZeroDuration()) {
    return ReportError(noun.name, kVerb, absl::InvalidArgumentError("--timeout and --poll-interval must be > 0"),
                       kExitUsage, err);
  }
  Target target = OpenTarget(noun, kVerb, flags, id_or_name, OutputFormat::kYaml, err);
  if (!target.session.has_value()) return target.exit_code;
  const absl::Time deadline = absl::Now() + args.timeout;
  json answer;
  google::longrunning::Operation operation;
  while (true) {
    absl::StatusOr<json> polled = target.session->client.Get(ResourcePath(target.name));
    if (!polled.ok()) {
      return ReportError(noun.name, kVerb, polled.status(), kExitApiError, err);
    }
    answer = *std::move(polled);
    absl::Status read = ReadOperation(answer, "operations.get", &operation);
    if (!read.ok()) return ReportError(noun.name, kVerb, read, kExitApiError, err);
    if (operation.done()) break;
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return ReportError(noun.name, kVerb,
                         absl::DeadlineExceededError(absl::StrCat("operation [", target.name, "] is not done after ",
                                                                  absl::FormatDuration(args.timeout),
                                                                  "; wait again or raise --timeout")),
                         kExitApiError, err);
    }
    absl::SleepFor(std::min(args.poll_interval, left));
  }
  absl::Status printed = PrintResource(answer, OperationColumns(), target.session->format, out);
  if (!printed.ok()) {
    return ReportError(noun.name, kVerb, printed, kExitApiError, err);
  }
  absl::Status failure = OperationError(operation, "the operation failed");
  if (!failure.ok()) {
    return ReportError(noun.name, kVerb, failure, kExitApiError, err);
  }
  return kExitOk;
}

}  // namespace kiln::client
