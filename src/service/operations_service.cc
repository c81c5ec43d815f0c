#include "service/operations_service.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "google/cloud/aiplatform/v1/operation.pb.h"
#include "google/protobuf/util/time_util.h"
#include "protojson/proto_time.h"

namespace kiln::service {
namespace {

using google::longrunning::Operation;

constexpr absl::Duration kMaxWait = absl::Seconds(60);

bool IsOperationName(absl::string_view name) {
  size_t at = name.rfind("/operations/");
  return absl::StartsWith(name, "projects/") && at != absl::string_view::npos &&
         name.find('/', at + 12) == absl::string_view::npos && at + 12 < name.size();
}

}  // namespace

OperationsService::OperationsService(store::Store* store) : store_(store), operations_("operations", "Operation") {
  listening_ = store_->AddCommitListener([this](const std::vector<std::string>& names) { OnCommit(names); });
}

void OperationsService::OnCommit(const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    if (absl::StrContains(n, "/operations/")) {
      MutexLock lock(&mu_);
      ++commits_;
      committed_.SignalAll();
      return;
    }
  }
}

absl::StatusOr<Operation> OperationsService::CreateDone(store::Transaction& tx, absl::string_view owner,
                                                        const google::protobuf::Message& metadata,
                                                        const google::protobuf::Message& response) const {
  absl::StatusOr<int64_t> id = tx.NextId("operations");
  if (!id.ok()) return id.status();
  Operation op;
  op.set_name(absl::StrCat(owner, "/operations/", *id));
  op.mutable_metadata()->PackFrom(metadata);
  op.mutable_response()->PackFrom(response);
  op.set_done(true);
  if (absl::Status s = operations_.Insert(tx, owner, op); !s.ok()) return s;
  return op;
}

absl::StatusOr<Operation> OperationsService::CreateDoneDelete(store::Transaction& tx, absl::string_view owner,
                                                              absl::Time now) const {
  google::cloud::aiplatform::v1::DeleteOperationMetadata metadata;
  google::protobuf::Timestamp stamp = protojson::ToTimestamp(now);
  *metadata.mutable_generic_metadata()->mutable_create_time() = stamp;
  *metadata.mutable_generic_metadata()->mutable_update_time() = stamp;
  return CreateDone(tx, owner, metadata, google::protobuf::Empty());
}

absl::StatusOr<Operation> OperationsService::Get(const google::longrunning::GetOperationRequest& request) const {
  if (!IsOperationName(request.name())) return FieldError("name", "is not an operation name");
  return service::Get(*store_, operations_, request.name());
}

absl::StatusOr<google::longrunning::ListOperationsResponse> OperationsService::List(
    const google::longrunning::ListOperationsRequest& request) const {
  static const std::vector<filter::FieldSpec> kFields = {{"done", "done"}};
  absl::StatusOr<Page<Operation>> page = service::List(*store_, operations_, request.name(), request.filter(),
                                                       request.page_size(), request.page_token(), kFields);
  if (!page.ok()) return page.status();
  google::longrunning::ListOperationsResponse response;
  for (Operation& op : page->items) *response.add_operations() = std::move(op);
  response.set_next_page_token(page->next_page_token);
  return response;
}

absl::StatusOr<google::protobuf::Empty> OperationsService::Delete(
    const google::longrunning::DeleteOperationRequest& request) const {
  if (!IsOperationName(request.name())) return FieldError("name", "is not an operation name");
  absl::Status s = store_->Write([&](store::Transaction& tx) -> absl::Status {
    absl::StatusOr<Operation> got = operations_.Get(tx, request.name());
    if (!got.ok()) return got.status();
    return operations_.Delete(tx, request.name());
  });
  if (!s.ok()) return s;
  return google::protobuf::Empty();
}

absl::StatusOr<google::protobuf::Empty> OperationsService::Cancel(
    const google::longrunning::CancelOperationRequest& request) const {
  // Every operation kiln records so far finishes within its RPC; cancelling one that is done
  // is a no-op, as in Vertex. The lookup still reports unknown names.
  google::longrunning::GetOperationRequest get;
  get.set_name(request.name());
  absl::StatusOr<Operation> op = Get(get);
  if (!op.ok()) return op.status();
  return google::protobuf::Empty();
}

absl::StatusOr<Operation> OperationsService::Wait(const google::longrunning::WaitOperationRequest& request) {
  absl::Duration timeout = kMaxWait;
  if (request.has_timeout()) {
    int64_t ms = google::protobuf::util::TimeUtil::DurationToMilliseconds(request.timeout());
    if (ms < 0) return FieldError("timeout", "must be ≥ 0");
    timeout = std::min(kMaxWait, absl::Milliseconds(ms));
  }
  absl::Time deadline = absl::Now() + timeout;
  google::longrunning::GetOperationRequest get;
  get.set_name(request.name());
  while (true) {
    int64_t seen;
    {
      MutexLock lock(&mu_);
      seen = commits_;
    }
    absl::StatusOr<Operation> op = Get(get);
    if (!op.ok() || op->done() || absl::Now() >= deadline) return op;
    MutexLock lock(&mu_);
    while (commits_ == seen && !committed_.WaitWithDeadline(&mu_, deadline)) {
    }
  }
}

}  // namespace kiln::service
