// `kiln models versions|delete|merge-aliases|upload` (see model_verbs.h).

#include "client/model_verbs.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/command_support.h"
#include "client/pipeline_flags.h"
#include "client/proto_io.h"
#include "client/resources.h"
#include "client/worker_pool_flags.h"
#include "common/status_macros.h"

namespace kiln::client {
namespace {

namespace v1 = google::cloud::aiplatform::v1;
using nlohmann::json;

absl::Status NeedsVersion(absl::string_view verb, absl::string_view id) {
  return absl::InvalidArgumentError(
      absl::StrCat(verb, " needs a model version: ID@VERSION or ID@ALIAS, not \"", id, "\""));
}

}  // namespace

const std::vector<Column>& ModelVersionColumns() {
  static const std::vector<Column>* const kColumns =
      new std::vector<Column>{{"VERSION", "versionId"},
                              {"ALIASES", "versionAliases"},
                              {"DISPLAY_NAME", "displayName"},
                              {"VERSION_CREATE_TIME", "versionCreateTime"}};
  return *kColumns;
}

int RunModelVersions(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name, const ListArgs& args,
                     std::ostream& out, std::ostream& err) {
  constexpr absl::string_view kVerb = "versions";
  if (args.page_size < 0 || args.limit < 0) {
    return ReportError(noun.name, kVerb, absl::InvalidArgumentError("--page-size and --limit must be >= 0"), kExitUsage,
                       err);
  }
  if (absl::StrContains(id_or_name, '@')) {
    return ReportError(
        noun.name, kVerb,
        absl::InvalidArgumentError(absl::StrCat("versions takes a model without @VERSION, not \"", id_or_name, "\"")),
        kExitUsage, err);
  }
  Target target = OpenTarget(noun, kVerb, flags, id_or_name, OutputFormat::kTable, err);
  if (!target.session.has_value()) return target.exit_code;
  std::vector<json> versions;
  std::set<std::string> seen_tokens;
  std::string token;
  do {
    QueryParams query;
    if (!args.filter.empty()) query.emplace_back("filter", args.filter);
    if (args.page_size > 0) {
      query.emplace_back("pageSize", absl::StrCat(args.page_size));
    }
    if (!token.empty()) query.emplace_back("pageToken", token);
    absl::StatusOr<json> page = target.session->client.Get(MethodPath(target.name, "listVersions"), query);
    if (!page.ok()) {
      return ReportError(noun.name, kVerb, page.status(), kExitApiError, err);
    }
    absl::StatusOr<v1::ListModelVersionsResponse> read =
        ReadAnswer<v1::ListModelVersionsResponse>(*page, "listVersions");
    if (!read.ok()) return ReportError(noun.name, kVerb, read.status(), kExitApiError, err);
    // The versions are printed as the server sent them.
    const std::string key = JsonKey<v1::ListModelVersionsResponse>(v1::ListModelVersionsResponse::kModelsFieldNumber);
    if (auto models = page->find(key); models != page->end() && models->is_array()) {
      for (const json& model : *models) {
        if (args.limit > 0 && versions.size() >= static_cast<size_t>(args.limit)) {
          break;
        }
        versions.push_back(model);
      }
    }
    token = read->next_page_token();
    if (!token.empty() && !seen_tokens.insert(token).second) {
      return ReportError(noun.name, kVerb,
                         absl::InternalError(absl::StrCat("the server repeated the page token ", token)), kExitApiError,
                         err);
    }
  } while (!token.empty() && (args.limit == 0 || versions.size() < static_cast<size_t>(args.limit)));
  absl::Status printed = PrintList(versions, ModelVersionColumns(), target.session->format, out, err);
  if (!printed.ok()) {
    return ReportError(noun.name, kVerb, printed, kExitApiError, err);
  }
  return kExitOk;
}

int RunModelDelete(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name, std::ostream& out,
                   std::ostream& err) {
  constexpr absl::string_view kVerb = "delete";
  Target target = OpenTarget(noun, kVerb, flags, id_or_name, OutputFormat::kYaml, err);
  if (!target.session.has_value()) return target.exit_code;
  const bool version = absl::StrContains(LastSegment(target.name), '@');
  const std::string path = version ? MethodPath(target.name, "deleteVersion") : ResourcePath(target.name);
  absl::StatusOr<json> operation = target.session->client.Delete(path);
  if (!operation.ok()) {
    return ReportError(noun.name, kVerb, operation.status(), kExitApiError, err);
  }
  err << "Delete request issued for " << (version ? "model version " : "") << "[" << target.name << "].\n";
  absl::Status printed = PrintResource(*operation, OperationColumns(), target.session->format, out);
  if (!printed.ok()) {
    return ReportError(noun.name, kVerb, printed, kExitApiError, err);
  }
  return kExitOk;
}

int RunMergeVersionAliases(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name,
                           absl::string_view aliases, std::ostream& out, std::ostream& err) {
  constexpr absl::string_view kVerb = "merge-aliases";
  auto usage = [&](const absl::Status& status) { return ReportError(noun.name, kVerb, status, kExitUsage, err); };
  if (!absl::StrContains(LastSegment(id_or_name), '@')) {
    return usage(NeedsVersion(kVerb, id_or_name));
  }
  const std::vector<std::string> list = SplitListFlag(aliases);
  if (list.empty()) {
    return usage(
        absl::InvalidArgumentError("--aliases is required: ALIAS to add, -ALIAS to remove, "
                                   "comma-separated"));
  }
  absl::Status checked = CheckVersionAliases("--aliases", list, true);
  if (!checked.ok()) return usage(checked);
  Target target = OpenTarget(noun, kVerb, flags, id_or_name, OutputFormat::kYaml, err);
  if (!target.session.has_value()) return target.exit_code;
  v1::MergeVersionAliasesRequest request;  // `name` is the path's.
  SetStrings(list, request.mutable_version_aliases());
  absl::StatusOr<json> model = target.session->client.Post(MethodPath(target.name, "mergeVersionAliases"), request);
  if (!model.ok()) {
    return ReportError(noun.name, kVerb, model.status(), kExitApiError, err);
  }
  absl::Status printed = PrintResource(*model, noun.columns, target.session->format, out);
  if (!printed.ok()) {
    return ReportError(noun.name, kVerb, printed, kExitApiError, err);
  }
  return kExitOk;
}

absl::StatusOr<v1::UploadModelRequest> BuildUploadModelRequest(const ModelUploadArgs& args,
                                                               absl::string_view location) {
  if (args.display_name.empty()) {
    return absl::InvalidArgumentError("--display-name is required");
  }
  if (args.display_name.size() > 128) {
    return absl::InvalidArgumentError("--display-name must be at most 128 characters");
  }
  if (args.artifact_uri.empty() && args.container_image_uri.empty()) {
    return absl::InvalidArgumentError(
        "give --artifact-uri (where the model files are) and/or "
        "--container-image-uri (the serving image)");
  }
  v1::UploadModelRequest request;
  v1::Model& model = *request.mutable_model();
  model.set_display_name(args.display_name);
  if (!args.artifact_uri.empty()) model.set_artifact_uri(args.artifact_uri);
  if (!args.container_image_uri.empty()) {
    model.mutable_container_spec()->set_image_uri(args.container_image_uri);
  }
  if (!args.description.empty()) model.set_description(args.description);
  if (!args.version_aliases.empty()) {
    const std::vector<std::string> aliases = SplitListFlag(args.version_aliases);
    KILN_RETURN_IF_ERROR(CheckVersionAliases("--version-aliases", aliases, false));
    SetStrings(aliases, model.mutable_version_aliases());
  }
  if (!args.labels.empty()) {
    KILN_ASSIGN_OR_RETURN(auto labels, ParseLabels(args.labels));
    model.mutable_labels()->insert(labels.begin(), labels.end());
  }
  if (!args.parent_model.empty() && !args.model_id.empty()) {
    return absl::InvalidArgumentError(
        "--parent-model and --model-id exclude each other (a new version "
        "joins the parent's ID)");
  }
  if (!args.parent_model.empty()) {
    KILN_ASSIGN_OR_RETURN(*request.mutable_parent_model(),
                          ExpandModelName("--parent-model", location, args.parent_model));
  }
  if (!args.model_id.empty()) {
    KILN_RETURN_IF_ERROR(CheckModelId(args.model_id));
    request.set_model_id(args.model_id);
  }
  return request;
}

int RunModelUpload(const NounSpec& noun, const ConfigFlags& flags, const ModelUploadArgs& args, std::ostream& out,
                   std::ostream& err) {
  constexpr absl::string_view kVerb = "upload";
  auto usage = [&](const absl::Status& status) { return ReportError(noun.name, kVerb, status, kExitUsage, err); };
  auto api_error = [&](const absl::Status& status) {
    return ReportError(noun.name, kVerb, status, kExitApiError, err);
  };
  if (args.timeout <= absl::ZeroDuration() || args.poll_interval <= absl::ZeroDuration()) {
    return usage(absl::InvalidArgumentError("--timeout must be > 0"));
  }
  absl::StatusOr<Session> session = OpenSession(flags, OutputFormat::kYaml);
  if (!session.ok()) return usage(session.status());
  absl::StatusOr<std::string> parent = LocationName(session->config);
  if (!parent.ok()) return usage(parent.status());
  absl::StatusOr<v1::UploadModelRequest> body = BuildUploadModelRequest(args, *parent);
  if (!body.ok()) return usage(body.status());
  absl::StatusOr<json> answer =
      session->client.Post(absl::StrCat(CollectionPath(*parent, noun.collection), ":upload"), *body);
  if (!answer.ok()) return api_error(answer.status());
  google::longrunning::Operation operation;
  v1::UploadModelResponse response;
  absl::Status read = ReadOperation(*answer, "models.upload", &operation, &response);
  if (!read.ok()) return api_error(read);
  const absl::Time deadline = absl::Now() + args.timeout;
  while (!operation.done()) {
    const std::string& name = operation.name();
    if (name.empty()) {
      return api_error(absl::InternalError("the server's upload operation is not done and has no name"));
    }
    if (absl::Now() >= deadline) {
      return api_error(absl::DeadlineExceededError(absl::StrCat("operation [", name, "] is not done after ",
                                                                absl::FormatDuration(args.timeout),
                                                                "; see kiln operations wait ", name)));
    }
    absl::SleepFor(std::min(args.poll_interval, deadline - absl::Now()));
    answer = session->client.Get(ResourcePath(name));
    if (!answer.ok()) return api_error(answer.status());
    read = ReadOperation(*answer, "operations.get", &operation, &response);
    if (!read.ok()) return api_error(read);
  }
  absl::Status failed = OperationError(operation, "the operation failed");
  if (!failed.ok()) return api_error(failed);
  if (response.model().empty()) {
    return api_error(absl::InternalError("the finished upload operation names no model (response.model)"));
  }
  err << "Model: " << response.model();
  if (!response.model_version_id().empty()) err << " version " << response.model_version_id();
  err << "\n";
  if (flags.format.empty()) {
    out << response.model() << "\n";
    return kExitOk;
  }
  // The response as the server sent it (with its "@type").
  const json& sent =
      (*answer)[JsonKey<google::longrunning::Operation>(google::longrunning::Operation::kResponseFieldNumber)];
  absl::Status printed = PrintResource(sent, noun.columns, session->format, out);
  if (!printed.ok()) return api_error(printed);
  return kExitOk;
}

}  // namespace kiln::client
