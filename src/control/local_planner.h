#ifndef KILN_CONTROL_LOCAL_PLANNER_H_
#define KILN_CONTROL_LOCAL_PLANNER_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "control/custom_job_reconciler.h"
#include "jobs/image_map.h"
#include "pyenv/venv_cache.h"
#include "scheduling/ledger.h"
#include "storage/object_store.h"

namespace kiln::control {

// Plans jobs for the local runtime: reserves the whole job's CPU, memory and accelerators in the
// ledger (all or nothing; accelerators become CUDA_VISIBLE_DEVICES) and prepares its launch:
// one port per replica (the runtime chooses them), and a builder that expands the pools with
// jobs::PlanReplicas from the places the runtime chose (hosts, ports, folders), after creating
// the AIP_* output folders. pythonPackageSpec pools get a venv with their packages installed
// offline (pyenv::VenvCache), built on a thread of the planner's: meanwhile Plan answers
// RESOURCE_EXHAUSTED ("preparing the Python environment") and the job waits QUEUED; when the
// build ends the reconciler is woken (OnWake). A build that fails makes the next Plan fail the
// job with pip's reason.
// Thread-safe: the ledger and the venv cache are; the rest is under mu_. Builders are joined by
// Shutdown.
class LocalPlanner : public JobPlanner {
 public:
  // `venvs` may be null: python package jobs then fail saying kiln has no venv cache.
  LocalPlanner(const jobs::ImageMap* images, const storage::ObjectStore* storage, scheduling::Ledger* ledger,
               pyenv::VenvCache* venvs);
  ~LocalPlanner() override;
  // Waits for venv builds under way (joining their threads); no wake-up is delivered after it.
  // Idempotent; Plan may start builds again afterwards.
  void Shutdown();
  Subscription OnWake(std::function<void(const std::string& job_name)> wake) override;

  absl::StatusOr<runtime::JobLaunch> Plan(const google::cloud::aiplatform::v1::CustomJob& job) override;
  absl::Status Restore(const google::cloud::aiplatform::v1::CustomJob& job, const std::string& grant) override;
  void Release(const std::string& job_name) override;

 private:
  // The builder of `job`'s launch: jobs::PlanReplicas over the runtime's places.
  runtime::CommandBuilder Builder(const google::cloud::aiplatform::v1::CustomJob& job, const scheduling::Grant& grant,
                                  const std::vector<scheduling::ReplicaDemand>& demands,
                                  std::map<int, std::string> python_by_pool) const;

  // The venv python for each python package pool's (interpreter, packages), or the status to
  // wait on. OK: ready; nullopt in the map: building.
  struct PythonEnv {
    bool done = false;
    absl::Status status;
    std::string python;
    std::set<std::string> waiting_jobs;
  };
  absl::Status ResolvePythonEnvs(const google::cloud::aiplatform::v1::CustomJob& job,
                                 std::map<int, std::string>* python_by_pool);

  const jobs::ImageMap* images_;
  const storage::ObjectStore* storage_;
  scheduling::Ledger* ledger_;
  pyenv::VenvCache* venvs_;
  CallbackList<const std::string&> wake_;
  Mutex mu_;
  std::map<std::string, PythonEnv> envs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<std::string>> acquired_ ABSL_GUARDED_BY(mu_);  // job → venv pythons
  std::vector<std::thread> builders_ ABSL_GUARDED_BY(mu_);  // joined by Shutdown (or the next Plan once done)
  std::vector<std::thread::id> finished_builders_ ABSL_GUARDED_BY(mu_);
};

// What each replica of `job` asks of the ledger, in replica order (pools in order, `{}` pools
// skipped): its machine type's vCPUs and memory, and its accelerators (explicit, or implied by
// A2/G2/A3 machine types).
absl::StatusOr<std::vector<scheduling::ReplicaDemand>> DemandsOf(const google::cloud::aiplatform::v1::CustomJob& job);

}  // namespace kiln::control

#endif  // KILN_CONTROL_LOCAL_PLANNER_H_
