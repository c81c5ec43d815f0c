#include "server/api.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "google/protobuf/descriptor.h"
#include "nlohmann/json.hpp"
#include "protojson/json_codec.h"

namespace kiln::server {
namespace {

// The project a request path names: /v1/projects/{project}/... or kiln's /kiln/v1/projects/{project}/...
std::string ProjectOf(absl::string_view path) {
  absl::string_view rest = path;
  if (!absl::ConsumePrefix(&rest, "/v1/projects/") && !absl::ConsumePrefix(&rest, "/kiln/v1/projects/")) return "";
  return std::string(rest.substr(0, rest.find(':') < rest.find('/') ? rest.find(':') : rest.find('/')));
}

bool WantsIntEnums(const HttpRequest& request) {
  // Google's clients send `$alt=json;enum-encoding=int` (the ';' may arrive percent-encoded).
  return absl::StrContains(request.raw_query, "enum-encoding=int") ||
         absl::StrContains(request.raw_query, "enum-encoding%3Dint");
}

bool IsWrite(absl::string_view method, absl::string_view path) {
  if (method == "GET" || method == "HEAD") return false;
  // POSTs that only read: waits, and Cloud Logging's list (whose body names the projects).
  return !absl::EndsWith(path, ":wait") && path != "/v2/entries:list";
}

}  // namespace

std::string ErrorJson(const absl::Status& status, int http_status) {
  nlohmann::json error = {{"code", http_status},
                          {"message", std::string(status.message())},
                          {"status", std::string(CanonicalCodeName(status.code()))}};
  return nlohmann::json{{"error", error}}.dump(2);
}

HttpResponse ErrorResponse(const absl::Status& status) {
  HttpResponse response;
  response.status = HttpStatusFor(status.code());
  response.body = ErrorJson(status, response.status);
  return response;
}

Api::Api(Router router, std::optional<TokenAuthorizer> authorizer)
    : router_(std::move(router)), authorizer_(std::move(authorizer)) {}

void Api::Register(absl::string_view full_method_name, Handler handler) {
  handlers_[std::string(full_method_name)] = std::move(handler);
}

absl::Status Api::RegisterRaw(absl::string_view http_method, absl::string_view path_template, RawHandler handler) {
  absl::StatusOr<PathTemplate> path = PathTemplate::Parse(path_template);
  if (!path.ok()) return path.status();
  raw_routes_.push_back(RawRoute{std::string(http_method), *std::move(path), std::move(handler)});
  return absl::OkStatus();
}

HttpResponse Api::Handle(const HttpRequest& request) const {
  bool int_enums = WantsIntEnums(request);
  absl::StatusOr<HttpResponse> response = Dispatch(request, int_enums);
  if (response.ok()) return *std::move(response);
  HttpResponse error = ErrorResponse(response.status());
  return error;
}

absl::StatusOr<HttpResponse> Api::Dispatch(const HttpRequest& request, bool int_enums) const {
  CallContext context;
  context.project = ProjectOf(request.path);
  context.int_enums = int_enums;
  context.may_read_project = [this, &request](absl::string_view project) -> absl::Status {
    if (!authorizer_.has_value()) return absl::OkStatus();
    return authorizer_->Authorize(request.authorization, project, /*is_write=*/false);
  };

  // Credentials are checked before anything about the path is revealed.
  if (authorizer_.has_value()) {
    if (absl::Status s =
            authorizer_->Authorize(request.authorization, context.project, IsWrite(request.method, request.path));
        !s.ok()) {
      return s;
    }
  }

  std::vector<std::string> allowed;
  for (const RawRoute& raw : raw_routes_) {
    std::optional<std::vector<PathTemplate::Binding>> bindings = raw.path.Match(request.path);
    if (!bindings.has_value()) continue;
    if (raw.http_method == request.method) return raw.handler(request, *bindings, context);
    allowed.push_back(raw.http_method);
  }

  Router::Match match = router_.Find(request.method, request.path);
  if (match.route == nullptr) {
    allowed.insert(allowed.end(), match.allowed_methods.begin(), match.allowed_methods.end());
    if (allowed.empty()) {
      return absl::NotFoundError(absl::StrCat("The requested URL ", request.path, " was not found on this server."));
    }
    HttpResponse response;
    response.status = 405;
    absl::Status status = absl::UnimplementedError(absl::StrCat(
        "Method ", request.method, " is not allowed for ", request.path, "; allowed: ", absl::StrJoin(allowed, ", ")));
    response.body = ErrorJson(status, 405);
    response.headers.emplace_back("Allow", absl::StrJoin(allowed, ", "));
    return response;
  }

  const google::protobuf::MethodDescriptor* method = match.route->method;
  auto handler = handlers_.find(method->full_name());
  if (handler == handlers_.end()) {
    return absl::UnimplementedError(absl::StrCat("Method ", method->full_name(), " is not implemented by kiln."));
  }

  const google::protobuf::Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(method->input_type());
  std::unique_ptr<google::protobuf::Message> rpc_request(prototype->New());
  if (absl::Status s = Transcode(*match.route, match.bindings, request.query, request.body, rpc_request.get());
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> rpc_response = handler->second(*rpc_request, context);
  if (!rpc_response.ok()) return rpc_response.status();
  HttpResponse response;
  response.body = protojson::MessageToJson(**rpc_response, int_enums);
  return response;
}

}  // namespace kiln::server
