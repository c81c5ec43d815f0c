#ifndef KILN_CLIENT_RESOURCES_H_
#define KILN_CLIENT_RESOURCES_H_

// Vertex resource names and collection calls shared by every noun:
// ID -> full name expansion, REST paths, and paging through list results.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/api_client.h"
#include "client/client_config.h"
#include "nlohmann/json.hpp"

namespace kiln::client {

// What ExpandResourceName accepts for a collection.
struct NameRules {
  std::string collection;             // "customJobs": the segment before the ID.
  bool allow_version_suffix = false;  // Models: "123@2", "123@default".
};

// Turns what the user typed into a full resource name:
//  - an ID (letters, digits, '-', '_'; for models optionally "@VERSION") becomes
//    projects/{project}/locations/{region}/{collection}/{ID}; this needs a
//    project (else LocationName's FAILED_PRECONDITION);
//  - a full name "projects/P/locations/L/.../{collection}/ID" is returned as is
//    (nested names such as .../customJobs/1/operations/2 are fine);
//  - anything else is INVALID_ARGUMENT showing both accepted forms.
absl::StatusOr<std::string> ExpandResourceName(const ClientConfig& config, const NameRules& rules,
                                               absl::string_view id_or_name);

// The part after the last '/' ("projects/p/.../customJobs/123" -> "123").
absl::string_view LastSegment(absl::string_view name);

// "/v1/{name}" and "/v1/{name}:{method}".
std::string ResourcePath(absl::string_view name);
std::string MethodPath(absl::string_view name, absl::string_view method);

// "/v1/{parent}/{collection}".
std::string CollectionPath(absl::string_view parent, absl::string_view collection);

struct ListRequest {
  std::string filter;     // Sent as `filter` when not empty.
  int page_size = 0;      // Sent as `pageSize` when > 0 (else `limit` if > 0).
  int limit = 0;          // Stop after this many items; 0 = all.
  int max_pages = 10000;  // A guard against a server that pages forever.
};

// GETs /v1/{parent}/{collection} and follows nextPageToken until the pages run
// out or `limit` items were collected. Items are read from the key named like
// the collection ({"customJobs": [...], "nextPageToken": "..."}); a page
// without it contributes nothing. INTERNAL when the answer is malformed or the
// server repeats a page token; other errors are ApiClient's.
absl::StatusOr<std::vector<nlohmann::json>> ListAll(ApiClient& client, absl::string_view parent,
                                                    absl::string_view collection, const ListRequest& request);

}  // namespace kiln::client

#endif  // KILN_CLIENT_RESOURCES_H_
