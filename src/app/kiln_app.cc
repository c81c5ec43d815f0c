#include "app/kiln_app.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "app/storage_routes.h"
#include "server/bindings.h"
#include "server/vertex_routes.h"

namespace kiln::app {

// Shutdown has one order (docs/architecture.md, "Lifetimes"); the owner has already stopped
// accepting requests (serve_command stops the HTTP server before destroying the app).
KilnApp::~KilnApp() {
  // 1. Reconcilers: their registrations are cancelled and their threads joined, so nothing calls
  //    into them from here on (store commits, runtime exits, planner wake-ups, uploads).
  if (pipeline_reconciler_ != nullptr) pipeline_reconciler_->Stop();
  if (reconciler_ != nullptr) reconciler_->Stop();
  if (planner_ != nullptr) planner_->Shutdown();  // venv builders joined
  // 2. What serves requests and listens to the store.
  log_entries_.reset();
  extensions_.reset();
  api_.reset();
  pipeline_reconciler_.reset();
  reconciler_.reset();
  planner_.reset();
  // 3. The runtime's watcher thread (replicas keep running; a later kiln adopts them).
  runtime_.reset();
  // 4. The services, then the store.
  pipelines_.reset();
  models_.reset();
  jobs_.reset();
  operations_.reset();
  registry_.reset();
  store_.reset();
}

absl::StatusOr<std::unique_ptr<KilnApp>> KilnApp::Create(Options options) {
  std::unique_ptr<KilnApp> app(new KilnApp());
  app->home_ = options.home;
  app->clock_ = options.clock != nullptr ? options.clock : &app->real_clock_;
  std::error_code ec;
  std::filesystem::create_directories(options.home, ec);
  if (ec)
    return absl::FailedPreconditionError(absl::StrCat("cannot create KILN_HOME ", options.home, ": ", ec.message()));

  absl::StatusOr<std::unique_ptr<store::Store>> store = store::Store::Open(absl::StrCat(options.home, "/kiln.db"));
  if (!store.ok()) return store.status();
  app->store_ = *std::move(store);
  app->object_store_ = std::make_unique<storage::ObjectStore>(absl::StrCat(options.home, "/storage"));
  app->images_ = std::make_unique<jobs::ImageMap>(
      options.config.images, jobs::ImageMap::Options{.tensorflow_available = options.config.tensorflow_available});
  for (const auto& [type, ids] : options.config.accelerators) {
    app->jobs_config_.accelerator_inventory[type] = static_cast<int>(ids.size());
  }
  app->jobs_config_.images = app->images_.get();
  app->jobs_config_.storage = app->object_store_.get();
  app->operations_ = std::make_unique<service::OperationsService>(app->store_.get());
  app->jobs_ =
      std::make_unique<service::JobService>(app->store_.get(), app->operations_.get(), app->clock_, &app->jobs_config_);

  absl::StatusOr<server::Router> router = server::BuildVertexRouter();
  if (!router.ok()) return router.status();
  app->api_ = std::make_unique<server::Api>(*std::move(router), std::move(options.tokens));
  app->registry_ = std::make_unique<registry::ModelRegistry>(app->store_.get(), app->object_store_.get(), app->clock_);
  app->models_ = std::make_unique<service::ModelService>(app->registry_.get(), app->operations_.get(), app->clock_);
  app->pipelines_ = std::make_unique<service::PipelineService>(app->store_.get(), app->operations_.get(), app->clock_,
                                                               &app->jobs_config_);
  server::BindVertexServices(*app->api_, server::Services{.jobs = app->jobs_.get(),
                                                          .operations = app->operations_.get(),
                                                          .models = app->models_.get(),
                                                          .pipelines = app->pipelines_.get()});

  if (options.run_jobs) {
    std::string shim = options.shim_path;
    if (shim.empty()) {
      std::error_code self_error;
      std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", self_error);
      if (self_error) return absl::FailedPreconditionError("cannot locate the kiln executable to find kiln-shim");
      shim = (self.parent_path() / "kiln-shim").string();
    }
    // Slots live beside the job folders (same file system), so a launch renames one into place.
    absl::StatusOr<std::unique_ptr<runtime::LocalRuntime>> runtime =
        runtime::LocalRuntime::Create({.shim_path = shim,
                                       .jobs_root = absl::StrCat(options.home, "/jobs"),
                                       .slot_root = absl::StrCat(options.home, "/run/slots")});
    if (!runtime.ok()) return runtime.status();
    app->runtime_ = *std::move(runtime);
    scheduling::Capacity capacity = scheduling::Ledger::DetectMachine();
    capacity.accelerators = options.config.accelerators;
    app->ledger_ = std::make_unique<scheduling::Ledger>(capacity, options.config.overcommit);
    app->venvs_ =
        std::make_unique<pyenv::VenvCache>(pyenv::VenvCache::Options{.root = absl::StrCat(options.home, "/venvs")});
    app->planner_ = std::make_unique<control::LocalPlanner>(app->images_.get(), app->object_store_.get(),
                                                            app->ledger_.get(), app->venvs_.get());
    app->reconciler_ =
        std::make_unique<control::CustomJobReconciler>(app->store_.get(), app->runtime_.get(), app->planner_.get(),
                                                       app->clock_, control::CustomJobReconciler::Options());
    app->reconciler_->Start();
    app->uploader_ = std::make_unique<RegistryUploader>(app->registry_.get());
    app->pipeline_reconciler_ =
        std::make_unique<control::PipelineReconciler>(app->store_.get(), app->uploader_.get(), app->clock_);
    app->pipeline_reconciler_->Start();
  }
  // Cloud Logging's entries:list over replica output (gcloud ai custom-jobs stream-logs).
  app->log_entries_ = std::make_unique<cloud_logging::LogEntriesService>(app->store_.get(), app->runtime_.get());
  app->api_->RegisterTyped<google::logging::v2::ListLogEntriesRequest, google::logging::v2::ListLogEntriesResponse>(
      "google.logging.v2.LoggingServiceV2.ListLogEntries",
      [logs = app->log_entries_.get()](const auto& r, const server::CallContext& context) {
        return logs->ListLogEntries(r, context.may_read_project);
      });
  app->extensions_ = std::make_unique<JobExtensions>(app->store_.get(), app->reconciler_.get(), app->runtime_.get());
  if (absl::Status s = app->extensions_->Register(*app->api_); !s.ok()) return s;
  if (absl::Status s = RegisterStorageRoutes(*app->api_, app->object_store_.get()); !s.ok()) return s;
  return app;
}

}  // namespace kiln::app
