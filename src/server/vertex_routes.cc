#include "server/vertex_routes.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/api/annotations.pb.h"
#include "google/cloud/aiplatform/v1/dataset_service.pb.h"
#include "google/cloud/aiplatform/v1/job_service.pb.h"
#include "google/cloud/aiplatform/v1/model_service.pb.h"
#include "google/cloud/aiplatform/v1/pipeline_service.pb.h"
#include "google/logging/v2/logging.pb.h"
#include "google/longrunning/operations.pb.h"

namespace kiln::server {
namespace {

const google::protobuf::ServiceDescriptor* Service(const char* name) {
  return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
}

}  // namespace

absl::StatusOr<Router> BuildVertexRouter() {
  // Referencing one message of each file links its descriptor into the generated pool.
  google::cloud::aiplatform::v1::CreateTrainingPipelineRequest::descriptor();
  google::cloud::aiplatform::v1::CreateCustomJobRequest::descriptor();
  google::cloud::aiplatform::v1::UploadModelRequest::descriptor();
  google::cloud::aiplatform::v1::CreateDatasetRequest::descriptor();
  google::longrunning::Operation::descriptor();

  std::vector<const google::protobuf::ServiceDescriptor*> services = {
      Service("google.cloud.aiplatform.v1.PipelineService"), Service("google.cloud.aiplatform.v1.JobService"),
      Service("google.cloud.aiplatform.v1.ModelService"), Service("google.cloud.aiplatform.v1.DatasetService")};
  for (const auto* s : services) {
    if (s == nullptr) return absl::InternalError("a Vertex service descriptor is missing from the binary");
  }

  const google::protobuf::ServiceDescriptor* ops = Service("google.longrunning.Operations");
  if (ops == nullptr) return absl::InternalError("google.longrunning.Operations is missing from the binary");
  // Where operations live: the location, and each resource kind that has them in Vertex.
  const std::vector<std::string> owners = {
      "projects/*/locations/*",
      "projects/*/locations/*/customJobs/*",
      "projects/*/locations/*/trainingPipelines/*",
      "projects/*/locations/*/hyperparameterTuningJobs/*",
      "projects/*/locations/*/models/*",
      "projects/*/locations/*/datasets/*",
  };
  std::vector<Router::Rule> rules;
  for (const std::string& owner : owners) {
    std::string one = absl::StrCat("/v1/{name=", owner, "/operations/*}");
    google::api::HttpRule get, del, cancel, wait, list;
    get.set_get(one);
    del.set_delete_(one);
    cancel.set_post(absl::StrCat(one, ":cancel"));
    wait.set_post(absl::StrCat(one, ":wait"));
    list.set_get(absl::StrCat("/v1/{name=", owner, "}/operations"));
    rules.push_back({ops->FindMethodByName("GetOperation"), get});
    rules.push_back({ops->FindMethodByName("DeleteOperation"), del});
    rules.push_back({ops->FindMethodByName("CancelOperation"), cancel});
    rules.push_back({ops->FindMethodByName("WaitOperation"), wait});
    rules.push_back({ops->FindMethodByName("ListOperations"), list});
  }
  // Cloud Logging's entries:list (kiln serves replica output through it), from its annotation.
  google::logging::v2::ListLogEntriesRequest::descriptor();
  const google::protobuf::ServiceDescriptor* logging = Service("google.logging.v2.LoggingServiceV2");
  const google::protobuf::MethodDescriptor* list_entries =
      logging == nullptr ? nullptr : logging->FindMethodByName("ListLogEntries");
  if (list_entries == nullptr)
    return absl::InternalError("google.logging.v2.LoggingServiceV2 is missing from the binary");
  rules.push_back({list_entries, list_entries->options().GetExtension(google::api::http)});
  return Router::Build(services, rules);
}

}  // namespace kiln::server
