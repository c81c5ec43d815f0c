#include "service/model_service.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "google/cloud/aiplatform/v1/operation.pb.h"
#include "google/protobuf/empty.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/time_util.h"

namespace kiln::service {
namespace {

namespace v1 = google::cloud::aiplatform::v1;
using google::longrunning::Operation;
using google::protobuf::util::FieldMaskUtil;

v1::GenericOperationMetadata Generic(absl::Time now) {
  v1::GenericOperationMetadata generic;
  *generic.mutable_create_time() = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(now));
  *generic.mutable_update_time() = generic.create_time();
  return generic;
}

absl::Status CheckReadMask(const google::protobuf::FieldMask& mask) {
  if (!FieldMaskUtil::IsValidFieldMask<v1::Model>(mask))
    return FieldError("readMask", "names a field Model does not have");
  return absl::OkStatus();
}

// Vertex lists in the orders it documents; kiln lists in creation order only.
absl::Status CheckOrderBy(absl::string_view order_by) {
  if (order_by.empty() || order_by == "create_time" || order_by == "create_time asc") return absl::OkStatus();
  return FieldError("orderBy", "kiln lists in creation order only (\"create_time\")");
}

template <typename Response>
void Fill(registry::ModelRegistry::ListResult& page, bool has_mask, const google::protobuf::FieldMask& mask,
          Response* response) {
  for (v1::Model& m : page.models) {
    if (has_mask) FieldMaskUtil::TrimMessage(mask, &m);
    *response->add_models() = std::move(m);
  }
  response->set_next_page_token(page.next_page_token);
}

}  // namespace

ModelService::ModelService(registry::ModelRegistry* registry, OperationsService* operations, const Clock* clock)
    : registry_(registry), operations_(operations), clock_(clock) {}

absl::StatusOr<Operation> ModelService::UploadModel(const v1::UploadModelRequest& request) const {
  if (!request.has_model()) return FieldError("model", "is required");
  registry::ModelRegistry::UploadRequest upload;
  upload.parent = request.parent();
  upload.model = request.model();
  upload.parent_model = request.parent_model();
  upload.model_id = request.model_id();
  Operation op;
  auto in_commit = [&](store::Transaction& tx, const v1::Model& model) -> absl::Status {
    v1::UploadModelOperationMetadata metadata;
    *metadata.mutable_generic_metadata() = Generic(clock_->Now());
    v1::UploadModelResponse response;
    response.set_model(model.name());
    response.set_model_version_id(model.version_id());
    KILN_ASSIGN_OR_RETURN(op, operations_->CreateDone(tx, model.name(), metadata, response));
    return absl::OkStatus();
  };
  KILN_RETURN_IF_ERROR(registry_->Upload(upload, in_commit).status());
  return op;
}

absl::StatusOr<v1::Model> ModelService::GetModel(const v1::GetModelRequest& request) const {
  return registry_->Get(request.name());
}

absl::StatusOr<v1::ListModelsResponse> ModelService::ListModels(const v1::ListModelsRequest& request) const {
  if (request.has_read_mask()) KILN_RETURN_IF_ERROR(CheckReadMask(request.read_mask()));
  KILN_RETURN_IF_ERROR(CheckOrderBy(request.order_by()));
  KILN_ASSIGN_OR_RETURN(registry::ModelRegistry::ListResult page,
                        registry_->ListModels({.parent = request.parent(),
                                               .filter = request.filter(),
                                               .page_size = request.page_size(),
                                               .page_token = request.page_token()}));
  v1::ListModelsResponse response;
  Fill(page, request.has_read_mask(), request.read_mask(), &response);
  return response;
}

absl::StatusOr<v1::ListModelVersionsResponse> ModelService::ListModelVersions(
    const v1::ListModelVersionsRequest& request) const {
  if (request.has_read_mask()) KILN_RETURN_IF_ERROR(CheckReadMask(request.read_mask()));
  KILN_RETURN_IF_ERROR(CheckOrderBy(request.order_by()));
  KILN_ASSIGN_OR_RETURN(registry::ModelRegistry::ListResult page,
                        registry_->ListVersions({.parent = request.name(),
                                                 .filter = request.filter(),
                                                 .page_size = request.page_size(),
                                                 .page_token = request.page_token()}));
  v1::ListModelVersionsResponse response;
  Fill(page, request.has_read_mask(), request.read_mask(), &response);
  return response;
}

absl::StatusOr<Operation> ModelService::DeleteModel(const v1::DeleteModelRequest& request) const {
  Operation op;
  KILN_RETURN_IF_ERROR(registry_->DeleteModel(request.name(), [&](store::Transaction& tx, const v1::Model& model) {
    std::string location = model.name().substr(0, model.name().rfind("/models/"));
    absl::StatusOr<Operation> created = operations_->CreateDoneDelete(tx, location, clock_->Now());
    if (created.ok()) op = *std::move(created);
    return created.status();
  }));
  return op;
}

absl::StatusOr<Operation> ModelService::DeleteModelVersion(const v1::DeleteModelVersionRequest& request) const {
  Operation op;
  KILN_RETURN_IF_ERROR(registry_->DeleteVersion(request.name(), [&](store::Transaction& tx, const v1::Model& model) {
    std::string location = model.name().substr(0, model.name().rfind("/models/"));
    absl::StatusOr<Operation> created = operations_->CreateDoneDelete(tx, location, clock_->Now());
    if (created.ok()) op = *std::move(created);
    return created.status();
  }));
  return op;
}

absl::StatusOr<v1::Model> ModelService::MergeVersionAliases(const v1::MergeVersionAliasesRequest& request) const {
  std::vector<std::string> aliases(request.version_aliases().begin(), request.version_aliases().end());
  return registry_->MergeVersionAliases(request.name(), aliases);
}

absl::StatusOr<v1::Model> ModelService::UpdateModel(const v1::UpdateModelRequest& request) const {
  if (!request.has_model()) return FieldError("model", "is required");
  return registry_->UpdateModel(request.model(), request.update_mask());
}

}  // namespace kiln::service
