#include "control/local_planner.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/unique_fd.h"
#include "jobs/machine_types.h"
#include "jobs/replica_plan.h"

namespace kiln::control {

absl::StatusOr<std::vector<int>> FreeLoopbackPorts(int count) {
  // Every socket stays bound until all ports are chosen, so the ports are distinct.
  std::vector<UniqueFd> fds;
  std::vector<int> ports;
  for (int i = 0; i < count; ++i) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return absl::UnavailableError(absl::StrCat("cannot find a free port: ", std::strerror(errno)));
    }
    ports.push_back(ntohs(addr.sin_port));
    fds.push_back(std::move(fd));
  }
  return ports;
}

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

LocalPlanner::LocalPlanner(std::string jobs_root, const jobs::ImageMap* images, const storage::ObjectStore* storage,
                           scheduling::Ledger* ledger, pyenv::VenvCache* venvs)
    : jobs_root_(std::move(jobs_root)), images_(images), storage_(storage), ledger_(ledger), venvs_(venvs) {}

LocalPlanner::~LocalPlanner() { Shutdown(); }

void LocalPlanner::Shutdown() {
  absl::MutexLock lock(&mu_);
  shutdown_ = true;
  auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return builders_running_ == 0; };
  mu_.Await(absl::Condition(&idle));
}

void LocalPlanner::SetWakeCallback(std::function<void(const std::string& job_name)> wake) {
  absl::MutexLock lock(&mu_);
  wake_ = std::move(wake);
}

absl::Status LocalPlanner::ResolvePythonEnvs(const google::cloud::aiplatform::v1::CustomJob& job,
                                             std::map<int, std::string>* python_by_pool) {
  const auto& pools = job.job_spec().worker_pool_specs();
  int building = 0;
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
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = envs_.try_emplace(key);
    PythonEnv& env = it->second;
    if (inserted && !shutdown_) {
      // Detached: a finished builder must not linger unjoined (every --script pipeline has its
      // own packages). Shutdown waits for builders_running_ to reach zero instead.
      ++builders_running_;
      std::thread([this, key, base = image->python, packages] {
        absl::StatusOr<std::string> python = venvs_->Prepare(base, packages);
        std::set<std::string> waiting;
        std::function<void(const std::string&)> wake;
        {
          absl::MutexLock lock(&mu_);
          PythonEnv& built = envs_[key];
          built.done = true;
          built.status = python.status();
          if (python.ok()) built.python = *python;
          waiting.swap(built.waiting_jobs);
          if (!shutdown_) wake = wake_;
        }
        if (wake) {
          for (const std::string& job : waiting) wake(job);
        }
        absl::MutexLock lock(&mu_);
        --builders_running_;  // last touch of `this`
      }).detach();
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
    // Consumed: forget it, so the map stays small (VenvCache keeps the venv itself, and a later
    // job with the same packages finds it there at once).
    if (env.waiting_jobs.empty()) envs_.erase(it);
  }
  if (building > 0) {
    return absl::ResourceExhaustedError("preparing the Python environment (installing packages offline)");
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
    absl::MutexLock lock(&mu_);
    auto it = acquired_.find(job_name);
    if (it == acquired_.end()) return;
    pythons = std::move(it->second);
    acquired_.erase(it);
  }
  for (const std::string& python : pythons) venvs_->Release(python);
}

absl::StatusOr<ReplicaPlanner::Planned> LocalPlanner::Plan(const google::cloud::aiplatform::v1::CustomJob& job) {
  std::map<int, std::string> python_by_pool;
  if (absl::Status s = ResolvePythonEnvs(job, &python_by_pool); !s.ok()) return s;
  absl::StatusOr<std::vector<scheduling::ReplicaDemand>> demands = DemandsOf(job);
  if (!demands.ok()) return demands.status();
  absl::StatusOr<scheduling::Grant> grant = ledger_->TryReserve(job.name(), *demands);
  if (!grant.ok()) return grant.status();  // RESOURCE_EXHAUSTED: the job waits
  absl::StatusOr<Planned> planned = PlanReserved(job, *demands, *grant);
  if (!planned.ok()) {
    ledger_->Release(job.name());
    return planned;
  }
  // Python package replicas run the venv's interpreter.
  std::vector<std::string> acquired;
  for (Replica& r : planned->replicas) {
    auto python = python_by_pool.find(r.pool);
    if (python == python_by_pool.end()) continue;
    r.spec.argv[0] = python->second;
    venvs_->Acquire(python->second);
    acquired.push_back(python->second);
  }
  if (!acquired.empty()) {
    absl::MutexLock lock(&mu_);
    auto& held = acquired_[job.name()];
    held.insert(held.end(), acquired.begin(), acquired.end());
  }
  return planned;
}

absl::StatusOr<ReplicaPlanner::Planned> LocalPlanner::PlanReserved(
    const google::cloud::aiplatform::v1::CustomJob& job, const std::vector<scheduling::ReplicaDemand>& demands,
    const scheduling::Grant& grant) {
  int count = static_cast<int>(demands.size());
  jobs::JobContext context;
  bool any_devices = !grant.device_ids_by_task.empty();
  for (const scheduling::ReplicaDemand& d : demands) {
    if (any_devices) context.accelerator_ids_per_replica.push_back(scheduling::CudaVisibleDevices(grant, d.task_name));
  }
  context.job_name = job.name();
  context.job_id = job.name().substr(job.name().rfind('/') + 1);
  context.replica_root = absl::StrCat(jobs_root_, "/", context.job_id);
  absl::StatusOr<std::vector<int>> ports = FreeLoopbackPorts(count);
  if (!ports.ok()) return ports.status();
  context.ports = *std::move(ports);

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
  Planned planned;
  planned.grant = scheduling::GrantToJson(grant);
  std::vector<Replica>& replicas = planned.replicas;
  for (jobs::ReplicaPlan& plan : *plans) {
    Replica r;
    r.task_name = plan.task_name;
    r.pool = plan.pool;
    r.spec.replica_dir = plan.replica_dir;
    r.spec.argv = std::move(plan.argv);
    r.spec.env = std::move(plan.env);
    r.spec.working_dir = plan.working_dir;
    replicas.push_back(std::move(r));
  }
  return planned;
}

}  // namespace kiln::control
