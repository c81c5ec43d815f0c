#ifndef KILN_SERVER_TRANSCODER_H_
#define KILN_SERVER_TRANSCODER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "server/router.h"

namespace kiln::server {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Builds an RPC's request message from an HTTP request, following the route's google.api.http
// rule: the body (the whole request for `body: "*"`, one field for `body: "custom_job"`), then
// the path variables, then the query parameters (any non-body field, by proto or lowerCamel
// name, dotted for nested fields, repeated by repeating the parameter). Google's system
// parameters (alt, $alt, prettyPrint, key, fields, ...) are ignored.
// Errors are INVALID_ARGUMENT naming the field as the user spelled it. Thread-safe.
absl::Status Transcode(const Route& route, const std::vector<PathTemplate::Binding>& bindings, const QueryParams& query,
                       absl::string_view body, google::protobuf::Message* request);

// True for Google's system query parameters, which are not request fields.
bool IsSystemParameter(absl::string_view name);

}  // namespace kiln::server

#endif  // KILN_SERVER_TRANSCODER_H_
