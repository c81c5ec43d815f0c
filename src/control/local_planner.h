#ifndef KILN_CONTROL_LOCAL_PLANNER_H_
#define KILN_CONTROL_LOCAL_PLANNER_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "control/custom_job_reconciler.h"
#include "jobs/image_map.h"
#include "pyenv/venv_cache.h"
#include "scheduling/ledger.h"
#include "storage/object_store.h"

namespace kiln::control {

// Plans replicas for the local runtime: reserves the whole job's CPU, memory and accelerators
// in the ledger (all or nothing; accelerators become CUDA_VISIBLE_DEVICES), one distinct free
// 127.0.0.1 port per replica (for CLUSTER_SPEC, TF_CONFIG and MASTER_PORT), replica folders
// under `jobs_root/<job id>/`, and jobs::PlanReplicas for argv and environment.
// pythonPackageSpec pools get a venv with their packages installed offline (pyenv::VenvCache),
// built on a thread of its own: meanwhile Plan answers RESOURCE_EXHAUSTED ("preparing the
// Python environment") and the job waits QUEUED; when the build ends the reconciler is woken.
// A build that fails makes the next Plan fail the job with pip's reason.
// Thread-safe: the ledger and the venv cache are; the rest is under mu_.
class LocalPlanner : public ReplicaPlanner {
 public:
  // `venvs` may be null: python package jobs then fail saying kiln has no venv cache.
  LocalPlanner(std::string jobs_root, const jobs::ImageMap* images, const storage::ObjectStore* storage,
               scheduling::Ledger* ledger, pyenv::VenvCache* venvs);
  ~LocalPlanner() override;
  // Waits for venv builds under way and stops waking the reconciler. Idempotent.
  void Shutdown();
  void SetWakeCallback(std::function<void(const std::string& job_name)> wake) override;

  absl::StatusOr<Planned> Plan(const google::cloud::aiplatform::v1::CustomJob& job) override;
  absl::Status Restore(const google::cloud::aiplatform::v1::CustomJob& job, const std::string& grant) override;
  void Release(const std::string& job_name) override;

 private:
  absl::StatusOr<Planned> PlanReserved(const google::cloud::aiplatform::v1::CustomJob& job,
                                       const std::vector<scheduling::ReplicaDemand>& demands,
                                       const scheduling::Grant& grant);

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

  std::string jobs_root_;
  const jobs::ImageMap* images_;
  const storage::ObjectStore* storage_;
  scheduling::Ledger* ledger_;
  pyenv::VenvCache* venvs_;
  Mutex mu_;
  std::map<std::string, PythonEnv> envs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<std::string>> acquired_ ABSL_GUARDED_BY(mu_);  // job → venv pythons
  std::function<void(const std::string&)> wake_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  int builders_running_ ABSL_GUARDED_BY(mu_) = 0;
  CondVar builders_idle_;  // signalled when builders_running_ drops to 0
};

// What each replica of `job` asks of the ledger, in replica order (pools in order, `{}` pools
// skipped): its machine type's vCPUs and memory, and its accelerators (explicit, or implied by
// A2/G2/A3 machine types).
absl::StatusOr<std::vector<scheduling::ReplicaDemand>> DemandsOf(const google::cloud::aiplatform::v1::CustomJob& job);

// `count` distinct ports the kernel reports free on 127.0.0.1 right now (all sockets are held
// until every port is chosen, so they differ). UNAVAILABLE if the kernel refuses.
absl::StatusOr<std::vector<int>> FreeLoopbackPorts(int count);

}  // namespace kiln::control

#endif  // KILN_CONTROL_LOCAL_PLANNER_H_
