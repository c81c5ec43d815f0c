#ifndef KILN_CONTROL_LOCAL_PLANNER_H_
#define KILN_CONTROL_LOCAL_PLANNER_H_

#include <string>
#include <vector>

#include "control/custom_job_reconciler.h"
#include "jobs/image_map.h"
#include "scheduling/ledger.h"
#include "storage/object_store.h"

namespace kiln::control {

// Plans replicas for the local runtime: reserves the whole job's CPU, memory and accelerators
// in the ledger (all or nothing; accelerators become CUDA_VISIBLE_DEVICES), one distinct free
// 127.0.0.1 port per replica (for CLUSTER_SPEC, TF_CONFIG and MASTER_PORT), replica folders
// under `jobs_root/<job id>/`, and jobs::PlanReplicas for argv and environment.
// Thread-safe: the ledger is; the rest is configuration.
class LocalPlanner : public ReplicaPlanner {
 public:
  LocalPlanner(std::string jobs_root, const jobs::ImageMap* images, const storage::ObjectStore* storage,
               scheduling::Ledger* ledger);

  absl::StatusOr<Planned> Plan(const google::cloud::aiplatform::v1::CustomJob& job) override;
  absl::Status Restore(const google::cloud::aiplatform::v1::CustomJob& job, const std::string& grant) override;
  void Release(const std::string& job_name) override;

 private:
  absl::StatusOr<Planned> PlanReserved(const google::cloud::aiplatform::v1::CustomJob& job,
                                       const std::vector<scheduling::ReplicaDemand>& demands,
                                       const scheduling::Grant& grant);

  std::string jobs_root_;
  const jobs::ImageMap* images_;
  const storage::ObjectStore* storage_;
  scheduling::Ledger* ledger_;
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
