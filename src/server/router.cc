#include "server/router.h"

#include <algorithm>

#include "google/api/annotations.pb.h"

namespace kiln::server {

absl::Status Router::Add(const google::protobuf::MethodDescriptor* method, const google::api::HttpRule& rule) {
  std::string verb;
  std::string path;
  switch (rule.pattern_case()) {
    case google::api::HttpRule::kGet:
      verb = "GET";
      path = rule.get();
      break;
    case google::api::HttpRule::kPost:
      verb = "POST";
      path = rule.post();
      break;
    case google::api::HttpRule::kDelete:
      verb = "DELETE";
      path = rule.delete_();
      break;
    case google::api::HttpRule::kPatch:
      verb = "PATCH";
      path = rule.patch();
      break;
    case google::api::HttpRule::kPut:
      verb = "PUT";
      path = rule.put();
      break;
    default:
      break;
  }
  if (!verb.empty()) {
    absl::StatusOr<PathTemplate> tmpl = PathTemplate::Parse(path);
    if (!tmpl.ok()) return tmpl.status();
    routes_.push_back(Route{verb, *std::move(tmpl), rule.body(), method});
  }
  for (const google::api::HttpRule& extra : rule.additional_bindings()) {
    if (absl::Status s = Add(method, extra); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<Router> Router::Build(const std::vector<const google::protobuf::ServiceDescriptor*>& services,
                                     const std::vector<Rule>& extra_rules) {
  Router router;
  for (const google::protobuf::ServiceDescriptor* service : services) {
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      if (!method->options().HasExtension(google::api::http)) continue;
      if (absl::Status s = router.Add(method, method->options().GetExtension(google::api::http)); !s.ok()) {
        return s;
      }
    }
  }
  for (const Rule& rule : extra_rules) {
    if (absl::Status s = router.Add(rule.method, rule.http); !s.ok()) return s;
  }
  return router;
}

Router::Match Router::Find(absl::string_view http_method, absl::string_view path) const {
  Match match;
  for (const Route& route : routes_) {
    std::optional<std::vector<PathTemplate::Binding>> bindings = route.path.Match(path);
    if (!bindings.has_value()) continue;
    if (route.http_method == http_method) {
      match.route = &route;
      match.bindings = *std::move(bindings);
      match.allowed_methods.clear();
      return match;
    }
    if (std::find(match.allowed_methods.begin(), match.allowed_methods.end(), route.http_method) ==
        match.allowed_methods.end()) {
      match.allowed_methods.push_back(route.http_method);
    }
  }
  std::sort(match.allowed_methods.begin(), match.allowed_methods.end());
  return match;
}

}  // namespace kiln::server
