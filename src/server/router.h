#ifndef KILN_SERVER_ROUTER_H_
#define KILN_SERVER_ROUTER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/api/http.pb.h"
#include "google/protobuf/descriptor.h"
#include "server/path_template.h"

namespace kiln::server {

// One REST binding of an RPC: `POST /v1/{parent=projects/*/locations/*}/customJobs` with
// body "custom_job" → google.cloud.aiplatform.v1.JobService.CreateCustomJob.
struct Route {
  std::string http_method;  // "GET", "POST", "DELETE", "PATCH", "PUT"
  PathTemplate path;
  std::string body;  // "" (no body), "*" (the whole request) or a top-level request field
  const google::protobuf::MethodDescriptor* method = nullptr;
};

// The routing table. Built once at start from the google.api.http options of the services'
// methods (read from the descriptors at run time, additional_bindings included) plus explicit
// rules for services whose REST mapping lives outside the protos (google.longrunning.Operations
// in Vertex's service config). Immutable and thread-safe after Build.
class Router {
 public:
  struct Rule {
    const google::protobuf::MethodDescriptor* method;
    google::api::HttpRule http;
  };

  // INVALID_ARGUMENT if a rule's template does not parse.
  static absl::StatusOr<Router> Build(const std::vector<const google::protobuf::ServiceDescriptor*>& services,
                                      const std::vector<Rule>& extra_rules);

  struct Match {
    const Route* route = nullptr;  // set when a route has this path and method
    std::vector<PathTemplate::Binding> bindings;
    std::vector<std::string> allowed_methods;  // set when the path exists but not with this method
  };
  // Finds the route for a decoded path. route == nullptr and allowed_methods empty: unknown path.
  Match Find(absl::string_view http_method, absl::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  absl::Status Add(const google::protobuf::MethodDescriptor* method, const google::api::HttpRule& rule);

  std::vector<Route> routes_;
};

}  // namespace kiln::server

#endif  // KILN_SERVER_ROUTER_H_
