#include "server/bindings.h"

namespace kiln::server {
namespace {

namespace v1 = google::cloud::aiplatform::v1;
namespace lro = google::longrunning;

constexpr char kJobService[] = "google.cloud.aiplatform.v1.JobService.";
constexpr char kOperations[] = "google.longrunning.Operations.";

std::string Rpc(const char* service, const char* method) { return std::string(service) + method; }

}  // namespace

void BindVertexServices(Api& api, const Services& services) {
  if (service::JobService* jobs = services.jobs; jobs != nullptr) {
    api.RegisterTyped<v1::CreateCustomJobRequest, v1::CustomJob>(
        Rpc(kJobService, "CreateCustomJob"), [jobs](const auto& r, const CallContext&) { return jobs->CreateCustomJob(r); });
    api.RegisterTyped<v1::GetCustomJobRequest, v1::CustomJob>(
        Rpc(kJobService, "GetCustomJob"), [jobs](const auto& r, const CallContext&) { return jobs->GetCustomJob(r); });
    api.RegisterTyped<v1::ListCustomJobsRequest, v1::ListCustomJobsResponse>(
        Rpc(kJobService, "ListCustomJobs"), [jobs](const auto& r, const CallContext&) { return jobs->ListCustomJobs(r); });
    api.RegisterTyped<v1::DeleteCustomJobRequest, lro::Operation>(
        Rpc(kJobService, "DeleteCustomJob"), [jobs](const auto& r, const CallContext&) { return jobs->DeleteCustomJob(r); });
    api.RegisterTyped<v1::CancelCustomJobRequest, google::protobuf::Empty>(
        Rpc(kJobService, "CancelCustomJob"), [jobs](const auto& r, const CallContext&) { return jobs->CancelCustomJob(r); });
  }
  if (service::OperationsService* ops = services.operations; ops != nullptr) {
    api.RegisterTyped<lro::GetOperationRequest, lro::Operation>(
        Rpc(kOperations, "GetOperation"), [ops](const auto& r, const CallContext&) { return ops->Get(r); });
    api.RegisterTyped<lro::ListOperationsRequest, lro::ListOperationsResponse>(
        Rpc(kOperations, "ListOperations"), [ops](const auto& r, const CallContext&) { return ops->List(r); });
    api.RegisterTyped<lro::DeleteOperationRequest, google::protobuf::Empty>(
        Rpc(kOperations, "DeleteOperation"), [ops](const auto& r, const CallContext&) { return ops->Delete(r); });
    api.RegisterTyped<lro::CancelOperationRequest, google::protobuf::Empty>(
        Rpc(kOperations, "CancelOperation"), [ops](const auto& r, const CallContext&) { return ops->Cancel(r); });
    api.RegisterTyped<lro::WaitOperationRequest, lro::Operation>(
        Rpc(kOperations, "WaitOperation"), [ops](const auto& r, const CallContext&) { return ops->Wait(r); });
  }
}

}  // namespace kiln::server
