#ifndef KILN_SERVICE_LIFECYCLE_H_
#define KILN_SERVICE_LIFECYCLE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "google/longrunning/operations.pb.h"
#include "protojson/proto_time.h"
#include "service/operations_service.h"
#include "service/repository.h"
#include "store/store.h"

namespace kiln::service {

// The Cancel and Delete RPCs every long-running resource (CustomJob, TrainingPipeline, ...)
// shares. `States` describes the resource's state enum:
//   static bool IsFinal(State); static std::string Name(State); static State Cancelling();
// Both run in one store transaction; thread-safe as the store is.

// Moves an unfinished resource to its cancelling state (idempotent); FAILED_PRECONDITION once
// it has finished. Its reconciler does the rest.
template <typename States, typename T>
absl::Status RequestCancel(store::Store& store, const Clock& clock, const Repository<T>& repo,
                           const std::string& name) {
  return store.Write([&](store::Transaction& tx) -> absl::Status {
    absl::StatusOr<T> r = repo.Get(tx, name);
    if (!r.ok()) return r.status();
    if (States::IsFinal(r->state())) {
      return absl::FailedPreconditionError(absl::StrCat(repo.type_name(), " ", name, " has already finished (",
                                                        States::Name(r->state()), ") and cannot be cancelled."));
    }
    if (r->state() == States::Cancelling()) return absl::OkStatus();
    r->set_state(States::Cancelling());
    *r->mutable_update_time() = protojson::ToTimestamp(clock.Now());
    return repo.Update(tx, *r);
  });
}

// Deletes a finished resource and records the done Operation the Delete RPC returns under
// `location`; FAILED_PRECONDITION while it has not finished.
template <typename States, typename T>
absl::StatusOr<google::longrunning::Operation> DeleteFinished(store::Store& store, const OperationsService& operations,
                                                              const Clock& clock, const Repository<T>& repo,
                                                              const std::string& name, const std::string& location) {
  google::longrunning::Operation op;
  absl::Status s = store.Write([&](store::Transaction& tx) -> absl::Status {
    absl::StatusOr<T> r = repo.Get(tx, name);
    if (!r.ok()) return r.status();
    if (!States::IsFinal(r->state())) {
      return absl::FailedPreconditionError(absl::StrCat(repo.type_name(), " ", name, " is in state ",
                                                        States::Name(r->state()),
                                                        "; cancel it and wait for it to finish before deleting it."));
    }
    if (absl::Status d = repo.Delete(tx, name); !d.ok()) return d;
    absl::StatusOr<google::longrunning::Operation> created = operations.CreateDoneDelete(tx, location, clock.Now());
    if (!created.ok()) return created.status();
    op = *std::move(created);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return op;
}

}  // namespace kiln::service

#endif  // KILN_SERVICE_LIFECYCLE_H_
