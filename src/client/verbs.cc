#include "client/verbs.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/command_support.h"
#include "client/resources.h"
#include "nlohmann/json.hpp"

namespace kiln::client {
namespace {

using nlohmann::json;

bool IsDone(const json& operation) {
  auto it = operation.find("done");
  return it != operation.end() && it->is_boolean() && it->get<bool>();
}

// The google.rpc.Status in a finished Operation's `error`, if any.
absl::Status OperationError(const json& operation) {
  auto it = operation.find("error");
  if (it == operation.end() || !it->is_object()) return absl::OkStatus();
  absl::StatusCode code = absl::StatusCode::kUnknown;
  if (auto c = it->find("code"); c != it->end() && c->is_number_integer()) {
    int value = c->get<int>();
    if (value > 0 && value <= 16) code = static_cast<absl::StatusCode>(value);
  }
  std::string message = "the operation failed";
  if (auto m = it->find("message"); m != it->end() && m->is_string()) {
    message = m->get<std::string>();
  }
  return absl::Status(code, message);
}

}  // namespace

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
  absl::StatusOr<json> answer = target.session->client.Post(MethodPath(target.name, "cancel"), json::object());
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
  json operation;
  while (true) {
    absl::StatusOr<json> polled = target.session->client.Get(ResourcePath(target.name));
    if (!polled.ok()) {
      return ReportError(noun.name, kVerb, polled.status(), kExitApiError, err);
    }
    operation = *std::move(polled);
    if (IsDone(operation)) break;
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
  absl::Status printed = PrintResource(operation, OperationColumns(), target.session->format, out);
  if (!printed.ok()) {
    return ReportError(noun.name, kVerb, printed, kExitApiError, err);
  }
  absl::Status failure = OperationError(operation);
  if (!failure.ok()) {
    return ReportError(noun.name, kVerb, failure, kExitApiError, err);
  }
  return kExitOk;
}

}  // namespace kiln::client
