#include "control/local_planner.h"

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "jobs/machine_types.h"
#include "jobs/replica_plan.h"

namespace kiln::control {

absl::StatusOr<std::vector<scheduling::ReplicaDemand>> DemandsOf(const google::cloud::aiplatform::v1::CustomJob& job) {
  std::vector<scheduling::ReplicaDemand> demands;
  const auto& pools = job.job_spec().worker_pool_specs();
  for (int p = 0; p < pools.size(); ++p) {
    const auto& pool = pools[p];
    if (pool.ByteSizeLong() == 0) continue;
    std::string type = pool.machine_spec().machine_type().empty() ? std::string(jobs::kDefaultMachineType)
                                                                  : pool.machine_spec().machine_type();
    absl::StatusOr<jobs::MachineShape> shape = jobs::LookupMachineType(type);
    if (!shape.ok()) return shape.status();
    std::string accelerator = shape->implied_accelerator_type;
    int count = shape->implied_accelerator_count;
    if (pool.machine_spec().accelerator_type() != google::cloud::aiplatform::v1::ACCELERATOR_TYPE_UNSPECIFIED) {
      accelerator = google::cloud::aiplatform::v1::AcceleratorType_Name(pool.machine_spec().accelerator_type());
    }
    if (pool.machine_spec().accelerator_count() > 0) count = pool.machine_spec().accelerator_count();
    if (accelerator.empty()) count = 0;
    for (int64_t i = 0; i < pool.replica_count(); ++i) {
      demands.push_back({absl::StrCat("workerpool", p, "-", i), shape->vcpus, shape->memory_gib, accelerator, count});
    }
  }
  return demands;
}

LocalPlanner::LocalPlanner(const jobs::ImageMap* images, const storage::ObjectStore* storage,
                           scheduling::Ledger* ledger, pyenv::VenvCache* venvs)
    : images_(images), storage_(storage), ledger_(ledger), venvs_(venvs) {}

LocalPlanner::~LocalPlanner() { Shutdown(); }

void LocalPlanner::Shutdown() {
  std::vector<std::thread> builders;
  {
    MutexLock lock(&mu_);
    builders.swap(builders_);
    finished_builders_.clear();
  }
  for (std::thread& t : builders) t.join();
}

Subscription LocalPlanner::OnWake(std::function<void(const std::string& job_name)> wake) {
  return wake_.Add(std::move(wake));
}

absl::Status LocalPlanner::ResolvePythonEnvs(const google::cloud::aiplatform::v1::CustomJob& job,
                                             std::map<int, std::string>* python_by_pool) {
  const auto& pools = job.job_spec().worker_pool_specs();
  int building = 0;
  // Environments this job uses that are ready: forgotten only once every one of its pools is
  // ready, so pools sharing packages (or a second environment still building) never make it
  // build an environment again.
  std::set<std::string> consumed;
  for (int p = 0; p < pools.size(); ++p) {
    if (!pools[p].has_python_package_spec()) continue;
    const auto& spec = pools[p].python_package_spec();
    absl::StatusOr<jobs::ImageRuntime> image = images_->Resolve(spec.executor_image_uri());
    if (!image.ok()) return image.status();
    if (venvs_ == nullptr) return absl::FailedPreconditionError("this kiln has no Python environment cache");
    std::vector<std::string> packages;
    for (int i = 0; i < spec.package_uris_size(); ++i) {
      absl::StatusOr<std::string> path = storage_->ToLocalPath(
          spec.package_uris(i),
          absl::StrCat("jobSpec.workerPoolSpecs[", p, "].pythonPackageSpec.packageUris[", i, "]"));
      if (!path.ok()) return path.status();
      packages.push_back(*path);
    }
    std::string key = absl::StrCat(image->python, "\n", absl::StrJoin(packages, "\n"));
    MutexLock lock(&mu_);
    auto [it, inserted] = envs_.try_emplace(key);
    PythonEnv& env = it->second;
    if (inserted) {
      // Builders that have finished are joined here, so the list stays short; Shutdown joins
      // the rest.
      for (std::thread::id id : finished_builders_) {
        auto t =
            std::find_if(builders_.begin(), builders_.end(), [&](const std::thread& b) { return b.get_id() == id; });
        if (t != builders_.end()) {
          t->join();
          builders_.erase(t);
        }
      }
      finished_builders_.clear();
      builders_.emplace_back([this, key, base = image->python, packages] {
        absl::StatusOr<std::string> python = venvs_->Prepare(base, packages);
        std::set<std::string> waiting;
        {
          MutexLock lock(&mu_);
          PythonEnv& built = envs_[key];
          built.done = true;
          built.status = python.status();
          if (python.ok()) built.python = *python;
          waiting.swap(built.waiting_jobs);
        }
        for (const std::string& job : waiting) wake_.Notify(job);
        MutexLock lock(&mu_);
        finished_builders_.push_back(std::this_thread::get_id());  // last touch of `this`
      });
    }
    if (!env.done) {
      env.waiting_jobs.insert(job.name());
      ++building;
      continue;
    }
    if (!env.status.ok()) {
      absl::Status failed = env.status;
      envs_.erase(it);  // the next job with these packages tries again
      return absl::FailedPreconditionError(absl::StrCat("installing the Python packages of jobSpec.workerPoolSpecs[", p,
                                                        "] failed: ", failed.message()));
    }
    (*python_by_pool)[p] = env.python;
    consumed.insert(key);
  }
  if (building > 0) {
    return absl::ResourceExhaustedError("preparing the Python environment (installing packages offline)");
  }
  // Consumed: forget them, so the map stays small (VenvCache keeps the venvs, and a later job
  // with the same packages finds them there at once).
  MutexLock lock(&mu_);
  for (const std::string& key : consumed) {
    auto it = envs_.find(key);
    if (it != envs_.end() && it->second.done && it->second.waiting_jobs.empty()) envs_.erase(it);
  }
  return absl::OkStatus();
}

absl::Status LocalPlanner::Restore(const google::cloud::aiplatform::v1::CustomJob& job, const std::string& grant) {
  absl::StatusOr<std::vector<scheduling::ReplicaDemand>> demands = DemandsOf(job);
  if (!demands.ok()) return demands.status();
  absl::StatusOr<scheduling::Grant> parsed = scheduling::GrantFromJson(grant);
  if (!parsed.ok()) return parsed.status();
  return ledger_->Restore(job.name(), *demands, *parsed);
}

void LocalPlanner::Release(const std::string& job_name) {
  ledger_->Release(job_name);
  std::vector<std::string> pythons;
  {
    MutexLock lock(&mu_);
    auto it = acquired_.find(job_name);
    if (it == acquired_.end()) return;
    pythons = std::move(it->second);
    acquired_.erase(it);
  }
  for (const std::string& python : pythons) venvs_->Release(python);
}

absl::StatusOr<runtime::JobLaunch> LocalPlanner::Plan(const google::cloud::aiplatform::v1::CustomJob& job) {
  std::map<int, std::string> python_by_pool;
  if (absl::Status s = ResolvePythonEnvs(job, &python_by_pool); !s.ok()) return s;
  absl::StatusOr<std::vector<scheduling::ReplicaDemand>> demands = DemandsOf(job);
  if (!demands.ok()) return demands.status();
  absl::StatusOr<scheduling::Grant> grant = ledger_->TryReserve(job.name(), *demands);
  if (!grant.ok()) return grant.status();  // RESOURCE_EXHAUSTED: the job waits

  runtime::JobLaunch launch;
  launch.key = job.name().substr(job.name().rfind('/') + 1);
  launch.name = job.name();
  launch.annotation = scheduling::GrantToJson(*grant);
  for (const scheduling::ReplicaDemand& d : *demands) launch.replicas.push_back({.task = d.task_name, .ports = 1});
  // Python package replicas run the venv's interpreter; the venvs are held until Release.
  std::vector<std::string> acquired;
  for (const auto& [pool, python] : python_by_pool) {
    for (const scheduling::ReplicaDemand& d : *demands) {
      if (absl::StartsWith(d.task_name, absl::StrCat("workerpool", pool, "-"))) {
        venvs_->Acquire(python);
        acquired.push_back(python);
      }
    }
  }
  if (!acquired.empty()) {
    MutexLock lock(&mu_);
    auto& held = acquired_[job.name()];
    held.insert(held.end(), acquired.begin(), acquired.end());
  }
  launch.build = Builder(job, *grant, *demands, std::move(python_by_pool));
  return launch;
}

runtime::CommandBuilder LocalPlanner::Builder(const google::cloud::aiplatform::v1::CustomJob& job,
                                              const scheduling::Grant& grant,
                                              const std::vector<scheduling::ReplicaDemand>& demands,
                                              std::map<int, std::string> python_by_pool) const {
  jobs::JobContext context;
  context.job_name = job.name();
  context.job_id = job.name().substr(job.name().rfind('/') + 1);
  if (!grant.device_ids_by_task.empty()) {
    for (const scheduling::ReplicaDemand& d : demands) {
      context.accelerator_ids_per_replica.push_back(scheduling::CudaVisibleDevices(grant, d.task_name));
    }
  }
  // Called by the runtime inside LaunchJob, so the planner outlives it.
  return [this, job, context,
          python_by_pool = std::move(python_by_pool)](const std::vector<runtime::ReplicaPlace>& places) mutable
         -> absl::StatusOr<std::vector<runtime::ReplicaCommand>> {
    for (const runtime::ReplicaPlace& place : places) {
      context.sites.push_back({.host = place.host, .port = place.ports.empty() ? 0 : place.ports[0], .dir = place.dir});
    }
    absl::StatusOr<std::vector<jobs::ReplicaPlan>> plans = jobs::PlanReplicas(job, context, *images_, *storage_);
    if (!plans.ok()) return plans.status();
    // The AIP_* folders exist before the code starts, as they do under Cloud Storage FUSE.
    if (job.job_spec().has_base_output_directory()) {
      absl::StatusOr<std::string> base = jobs::LocalOutputDirectory(job.job_spec(), "", *storage_);
      if (!base.ok()) return base.status();
      for (const char* sub : {"model", "checkpoints", "logs"}) {
        std::error_code error;
        std::filesystem::create_directories(std::filesystem::path(*base) / sub, error);
        if (error) {
          return absl::FailedPreconditionError(
              absl::StrCat("cannot create the output folder ", *base, sub, ": ", error.message()));
        }
      }
    }
    std::vector<runtime::ReplicaCommand> commands;
    for (jobs::ReplicaPlan& plan : *plans) {
      auto python = python_by_pool.find(plan.pool);
      if (python != python_by_pool.end()) plan.argv[0] = python->second;
      commands.push_back({.argv = std::move(plan.argv), .env = std::move(plan.env), .working_dir = plan.working_dir});
    }
    return commands;
  };
}

}  // namespace kiln::control
