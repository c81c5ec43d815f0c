#ifndef KILN_SERVER_API_H_
#define KILN_SERVER_API_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "server/auth.h"
#include "server/router.h"
#include "server/transcoder.h"

namespace kiln::server {

// An HTTP request as the dispatcher needs it, independent of the HTTP library.
struct HttpRequest {
  std::string method;         // "GET", "POST", ...
  std::string path;           // decoded path, e.g. /v1/projects/p/locations/l/customJobs
  QueryParams query;          // decoded query parameters, in order
  std::string raw_query;      // the undecoded query string (for `$alt=json;enum-encoding=int`)
  std::string authorization;  // the Authorization header, "" if absent
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json; charset=UTF-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// What a handler knows about the call besides its request message.
struct CallContext {
  std::string project;  // the project the request path names
  bool int_enums = false;
  // For RPCs that name projects in their body (Cloud Logging's resourceNames): whether the
  // caller's credentials may read `project`; PERMISSION_DENIED otherwise. Always OK when kiln
  // runs without tokens. Never null in a context Api makes.
  std::function<absl::Status(absl::string_view project)> may_read_project;
};

// The REST API: authorizes, routes, transcodes to the RPC's request message, calls the RPC's
// handler and renders its response, or Google's error JSON for any failure.
//
// Threading: Register* only before serving; Handle is const and safe from many threads, as
// long as the handlers are.
class Api {
 public:
  using Handler = std::function<absl::StatusOr<std::unique_ptr<google::protobuf::Message>>(
      const google::protobuf::Message& request, const CallContext& context)>;
  // A route outside the Vertex protos (kiln's extensions, e.g. logs): gets the raw request and
  // its path bindings and answers the HTTP response itself.
  using RawHandler = std::function<absl::StatusOr<HttpResponse>(
      const HttpRequest& request, const std::vector<PathTemplate::Binding>& bindings, const CallContext& context)>;

  // `authorizer` nullopt means open access (kiln then listens on loopback only).
  Api(Router router, std::optional<TokenAuthorizer> authorizer);

  // Binds an RPC by full name ("google.cloud.aiplatform.v1.JobService.GetCustomJob").
  // A route whose RPC has no handler answers UNIMPLEMENTED.
  void Register(absl::string_view full_method_name, Handler handler);

  // Typed convenience: fn(const Req&, const CallContext&) -> absl::StatusOr<Resp>.
  template <typename Req, typename Resp, typename Fn>
  void RegisterTyped(absl::string_view full_method_name, Fn fn) {
    Register(full_method_name,
             [fn](const google::protobuf::Message& request,
                  const CallContext& context) -> absl::StatusOr<std::unique_ptr<google::protobuf::Message>> {
               absl::StatusOr<Resp> response = fn(static_cast<const Req&>(request), context);
               if (!response.ok()) return response.status();
               return std::make_unique<Resp>(*std::move(response));
             });
  }

  // Adds a kiln extension route (`http_method` and a path template). Write routes need a
  // read-write token.
  absl::Status RegisterRaw(absl::string_view http_method, absl::string_view path_template, RawHandler handler);

  HttpResponse Handle(const HttpRequest& request) const;

  const Router& router() const { return router_; }

 private:
  struct RawRoute {
    std::string http_method;
    PathTemplate path;
    RawHandler handler;
  };

  absl::StatusOr<HttpResponse> Dispatch(const HttpRequest& request, bool int_enums) const;

  Router router_;
  std::optional<TokenAuthorizer> authorizer_;
  std::map<std::string, Handler, std::less<>> handlers_;
  std::vector<RawRoute> raw_routes_;
};

// Google's error JSON for a non-OK status: {"error": {"code", "message", "status"}}.
std::string ErrorJson(const absl::Status& status, int http_status);

// The response for a failed call: the HTTP status for the status code and ErrorJson.
HttpResponse ErrorResponse(const absl::Status& status);

}  // namespace kiln::server

#endif  // KILN_SERVER_API_H_
