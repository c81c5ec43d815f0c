#include "server/bindings.h"

namespace kiln::server {
namespace {

namespace v1 = google::cloud::aiplatform::v1;
namespace lro = google::longrunning;

constexpr char kJobService[] = "google.cloud.aiplatform.v1.JobService.";
constexpr char kPipelineService[] = "google.cloud.aiplatform.v1.PipelineService.";
constexpr char kOperations[] = "google.longrunning.Operations.";
constexpr char kModelService[] = "google.cloud.aiplatform.v1.ModelService.";

std::string Rpc(const char* service, const char* method) { return std::string(service) + method; }

void BindModelService(Api& api, service::ModelService* models) {
  api.RegisterTyped<v1::UploadModelRequest, lro::Operation>(
      Rpc(kModelService, "UploadModel"),
      [models](const auto& r, const CallContext&) { return models->UploadModel(r); });
  api.RegisterTyped<v1::GetModelRequest, v1::Model>(
      Rpc(kModelService, "GetModel"), [models](const auto& r, const CallContext&) { return models->GetModel(r); });
  api.RegisterTyped<v1::ListModelsRequest, v1::ListModelsResponse>(
      Rpc(kModelService, "ListModels"), [models](const auto& r, const CallContext&) { return models->ListModels(r); });
  api.RegisterTyped<v1::ListModelVersionsRequest, v1::ListModelVersionsResponse>(
      Rpc(kModelService, "ListModelVersions"),
      [models](const auto& r, const CallContext&) { return models->ListModelVersions(r); });
  api.RegisterTyped<v1::DeleteModelRequest, lro::Operation>(
      Rpc(kModelService, "DeleteModel"),
      [models](const auto& r, const CallContext&) { return models->DeleteModel(r); });
  api.RegisterTyped<v1::DeleteModelVersionRequest, lro::Operation>(
      Rpc(kModelService, "DeleteModelVersion"),
      [models](const auto& r, const CallContext&) { return models->DeleteModelVersion(r); });
  api.RegisterTyped<v1::MergeVersionAliasesRequest, v1::Model>(
      Rpc(kModelService, "MergeVersionAliases"),
      [models](const auto& r, const CallContext&) { return models->MergeVersionAliases(r); });
  api.RegisterTyped<v1::UpdateModelRequest, v1::Model>(
      Rpc(kModelService, "UpdateModel"),
      [models](const auto& r, const CallContext&) { return models->UpdateModel(r); });
}

}  // namespace

void BindVertexServices(Api& api, const Services& services) {
  if (service::JobService* jobs = services.jobs; jobs != nullptr) {
    api.RegisterTyped<v1::CreateCustomJobRequest, v1::CustomJob>(
        Rpc(kJobService, "CreateCustomJob"),
        [jobs](const auto& r, const CallContext&) { return jobs->CreateCustomJob(r); });
    api.RegisterTyped<v1::GetCustomJobRequest, v1::CustomJob>(
        Rpc(kJobService, "GetCustomJob"), [jobs](const auto& r, const CallContext&) { return jobs->GetCustomJob(r); });
    api.RegisterTyped<v1::ListCustomJobsRequest, v1::ListCustomJobsResponse>(
        Rpc(kJobService, "ListCustomJobs"),
        [jobs](const auto& r, const CallContext&) { return jobs->ListCustomJobs(r); });
    api.RegisterTyped<v1::DeleteCustomJobRequest, lro::Operation>(
        Rpc(kJobService, "DeleteCustomJob"),
        [jobs](const auto& r, const CallContext&) { return jobs->DeleteCustomJob(r); });
    api.RegisterTyped<v1::CancelCustomJobRequest, google::protobuf::Empty>(
        Rpc(kJobService, "CancelCustomJob"),
        [jobs](const auto& r, const CallContext&) { return jobs->CancelCustomJob(r); });
  }
  if (services.models != nullptr) BindModelService(api, services.models);
  if (service::PipelineService* p = services.pipelines; p != nullptr) {
    api.RegisterTyped<v1::CreateTrainingPipelineRequest, v1::TrainingPipeline>(
        Rpc(kPipelineService, "CreateTrainingPipeline"),
        [p](const auto& r, const CallContext&) { return p->CreateTrainingPipeline(r); });
    api.RegisterTyped<v1::GetTrainingPipelineRequest, v1::TrainingPipeline>(
        Rpc(kPipelineService, "GetTrainingPipeline"),
        [p](const auto& r, const CallContext&) { return p->GetTrainingPipeline(r); });
    api.RegisterTyped<v1::ListTrainingPipelinesRequest, v1::ListTrainingPipelinesResponse>(
        Rpc(kPipelineService, "ListTrainingPipelines"),
        [p](const auto& r, const CallContext&) { return p->ListTrainingPipelines(r); });
    api.RegisterTyped<v1::DeleteTrainingPipelineRequest, lro::Operation>(
        Rpc(kPipelineService, "DeleteTrainingPipeline"),
        [p](const auto& r, const CallContext&) { return p->DeleteTrainingPipeline(r); });
    api.RegisterTyped<v1::CancelTrainingPipelineRequest, google::protobuf::Empty>(
        Rpc(kPipelineService, "CancelTrainingPipeline"),
        [p](const auto& r, const CallContext&) { return p->CancelTrainingPipeline(r); });
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
