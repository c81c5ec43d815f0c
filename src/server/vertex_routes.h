#ifndef KILN_SERVER_VERTEX_ROUTES_H_
#define KILN_SERVER_VERTEX_ROUTES_H_

#include "absl/status/statusor.h"
#include "server/router.h"

namespace kiln::server {

// The routing table of the Vertex AI v1 surface kiln serves: every RPC of PipelineService,
// JobService, ModelService and DatasetService from its google.api.http annotation, plus
// google.longrunning.Operations (get, list, delete, cancel, wait) under
// projects/*/locations/* and under each resource collection kiln hosts, as Vertex's service
// configuration maps them; and Cloud Logging v2's ListLogEntries (POST /v2/entries:list), through
// which kiln serves replica output.
absl::StatusOr<Router> BuildVertexRouter();

}  // namespace kiln::server

#endif  // KILN_SERVER_VERTEX_ROUTES_H_
