#ifndef KILN_SERVICE_OPERATIONS_SERVICE_H_
#define KILN_SERVICE_OPERATIONS_SERVICE_H_

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "google/longrunning/operations.pb.h"
#include "google/protobuf/empty.pb.h"
#include "service/repository.h"
#include "store/store.h"

namespace kiln::service {

// google.longrunning.Operations over the store. Operations are named
// `{owner}/operations/{id}` where owner is a location or a resource, as in Vertex.
// Thread-safe: all state is in the store; Wait blocks on commits of operations.
class OperationsService {
 public:
  explicit OperationsService(store::Store* store);

  // Inside a caller's write transaction: records a finished operation under `owner` with the
  // given metadata and response (both packed into Any) and returns it.
  absl::StatusOr<google::longrunning::Operation> CreateDone(store::Transaction& tx, absl::string_view owner,
                                                            const google::protobuf::Message& metadata,
                                                            const google::protobuf::Message& response) const;

  // Inside a caller's write transaction: the done Operation a Delete* RPC returns, with
  // DeleteOperationMetadata stamped `now` and an Empty response.
  absl::StatusOr<google::longrunning::Operation> CreateDoneDelete(store::Transaction& tx, absl::string_view owner,
                                                                  absl::Time now) const;

  absl::StatusOr<google::longrunning::Operation> Get(const google::longrunning::GetOperationRequest& request) const;
  // `name` is the owner (a location or resource); filter supports `done`.
  absl::StatusOr<google::longrunning::ListOperationsResponse> List(
      const google::longrunning::ListOperationsRequest& request) const;
  absl::StatusOr<google::protobuf::Empty> Delete(const google::longrunning::DeleteOperationRequest& request) const;
  // Best effort: a finished operation is left as is.
  absl::StatusOr<google::protobuf::Empty> Cancel(const google::longrunning::CancelOperationRequest& request) const;
  // Returns the operation once done, or as it is when `timeout` (default and cap 60 s) passes.
  absl::StatusOr<google::longrunning::Operation> Wait(const google::longrunning::WaitOperationRequest& request);

 private:
  void OnCommit(const std::vector<std::string>& names);

  store::Store* store_;
  Repository<google::longrunning::Operation> operations_;
  Mutex mu_;
  int64_t commits_ ABSL_GUARDED_BY(mu_) = 0;  // bumped when an operation changes
  CondVar committed_;                         // signalled when commits_ changes
  Subscription listening_;                    // last: cancelled first, before what OnCommit uses goes
};

}  // namespace kiln::service

#endif  // KILN_SERVICE_OPERATIONS_SERVICE_H_
