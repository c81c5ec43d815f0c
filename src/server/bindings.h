#ifndef KILN_SERVER_BINDINGS_H_
#define KILN_SERVER_BINDINGS_H_

#include "server/api.h"
#include "service/job_service.h"
#include "service/model_service.h"
#include "service/operations_service.h"
#include "service/pipeline_service.h"

namespace kiln::server {

// The services behind the Vertex REST surface. Null members leave their RPCs UNIMPLEMENTED.
struct Services {
  service::JobService* jobs = nullptr;
  service::OperationsService* operations = nullptr;
  service::ModelService* models = nullptr;
  service::PipelineService* pipelines = nullptr;
};

// Registers every implemented RPC of `services` on `api`.
void BindVertexServices(Api& api, const Services& services);

}  // namespace kiln::server

#endif  // KILN_SERVER_BINDINGS_H_
