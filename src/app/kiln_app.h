#ifndef KILN_APP_KILN_APP_H_
#define KILN_APP_KILN_APP_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "app/config.h"
#include "app/job_extensions.h"
#include "app/registry_uploader.h"
#include "cloud_logging/log_entries_service.h"
#include "common/clock.h"
#include "control/custom_job_reconciler.h"
#include "control/local_planner.h"
#include "control/pipeline_reconciler.h"
#include "jobs/image_map.h"
#include "jobs/validation.h"
#include "pyenv/venv_cache.h"
#include "registry/model_registry.h"
#include "runtime/local_runtime.h"
#include "scheduling/ledger.h"
#include "server/api.h"
#include "server/auth.h"
#include "service/job_service.h"
#include "service/model_service.h"
#include "service/operations_service.h"
#include "service/pipeline_service.h"
#include "storage/object_store.h"
#include "store/store.h"

namespace kiln::app {

// One kiln: the store in `home`, the services over it and the REST API in front of them.
// `kiln serve` wraps it in an HTTP server; tests drive api() directly or serve it on a free port.
// Threading: construct and destroy on one thread; api() is safe from many.
class KilnApp {
 public:
  struct Options {
    std::string home;                               // $KILN_HOME: kiln.db and everything kiln owns
    std::optional<server::TokenAuthorizer> tokens;  // nullopt: open access
    const Clock* clock = nullptr;                   // nullptr: the real clock
    KilnConfig config;                              // accelerators, overcommit, image map
    // Run jobs: start the local runtime and the reconcilers. Off for tests of the API alone.
    bool run_jobs = true;
    // The kiln-shim supervisor; "" = `kiln-shim` beside the running executable.
    std::string shim_path;
  };

  // Creates `home` if needed and opens (or migrates) its store.
  static absl::StatusOr<std::unique_ptr<KilnApp>> Create(Options options);
  ~KilnApp();  // Stops the reconcilers; replicas keep running (a later kiln adopts them).
  KilnApp(const KilnApp&) = delete;
  KilnApp& operator=(const KilnApp&) = delete;

  const server::Api& api() const { return *api_; }
  store::Store& store() { return *store_; }
  const std::string& home() const { return home_; }
  // The reconciler, or nullptr when jobs do not run (Options::run_jobs false).
  const control::CustomJobReconciler* reconciler() const { return reconciler_.get(); }
  // The model registry (snapshots under <home>/storage/kiln-registry), for reconcilers that register models.
  registry::ModelRegistry* registry() { return registry_.get(); }

 private:
  KilnApp() = default;

  std::string home_;
  RealClock real_clock_;
  const Clock* clock_ = nullptr;
  std::unique_ptr<storage::ObjectStore> object_store_;
  std::unique_ptr<jobs::ImageMap> images_;
  jobs::JobsConfig jobs_config_;
  std::unique_ptr<scheduling::Ledger> ledger_;
  std::unique_ptr<pyenv::VenvCache> venvs_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<service::OperationsService> operations_;
  std::unique_ptr<service::JobService> jobs_;
  std::unique_ptr<registry::ModelRegistry> registry_;
  std::unique_ptr<service::ModelService> models_;
  std::unique_ptr<service::PipelineService> pipelines_;
  std::unique_ptr<RegistryUploader> uploader_;
  std::unique_ptr<control::PipelineReconciler> pipeline_reconciler_;
  std::unique_ptr<server::Api> api_;
  std::unique_ptr<runtime::LocalRuntime> runtime_;
  std::unique_ptr<control::LocalPlanner> planner_;
  std::unique_ptr<control::CustomJobReconciler> reconciler_;
  std::unique_ptr<JobExtensions> extensions_;
  std::unique_ptr<cloud_logging::LogEntriesService> log_entries_;
};

}  // namespace kiln::app

#endif  // KILN_APP_KILN_APP_H_
