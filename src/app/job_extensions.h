#ifndef KILN_APP_JOB_EXTENSIONS_H_
#define KILN_APP_JOB_EXTENSIONS_H_

#include <string>

#include "absl/status/status.h"
#include "common/mutex.h"
#include "control/custom_job_reconciler.h"
#include "runtime/runtime.h"
#include "server/api.h"
#include "store/store.h"

namespace kiln::app {

// kiln's REST extensions for CustomJobs (docs/extensions.md): replica status with the queue
// reason, replica logs (read and follow), and a blocking wait for a final state.
// Thread-safe: state is the store's and the runtime's; waits block on store commits.
class JobExtensions {
 public:
  // `reconciler` and `runtime` may be null (jobs not running): statuses then come from the
  // store alone.
  JobExtensions(store::Store* store, const control::CustomJobReconciler* reconciler, runtime::Runtime* runtime);

  // Adds the routes to `api`.
  absl::Status Register(server::Api& api);

 private:
  absl::StatusOr<server::HttpResponse> Replicas(const std::string& job_name) const;
  absl::StatusOr<server::HttpResponse> Logs(const std::string& job_name, const server::HttpRequest& request);
  absl::StatusOr<server::HttpResponse> Wait(const std::string& job_name, const server::HttpRequest& request,
                                            bool int_enums);
  void OnCommit(const std::vector<std::string>& names);
  // Blocks until a CustomJob commit after `seen` or `deadline`; returns the commit count.
  int64_t AwaitCommit(int64_t seen, absl::Time deadline);
  int64_t Commits();

  store::Store* store_;
  const control::CustomJobReconciler* reconciler_;
  runtime::Runtime* runtime_;
  Mutex mu_;
  int64_t commits_ ABSL_GUARDED_BY(mu_) = 0;
  CondVar committed_;  // signalled when commits_ changes
};

}  // namespace kiln::app

#endif  // KILN_APP_JOB_EXTENSIONS_H_
