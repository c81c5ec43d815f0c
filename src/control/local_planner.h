#ifndef KILN_CONTROL_LOCAL_PLANNER_H_
#define KILN_CONTROL_LOCAL_PLANNER_H_

#include <string>
#include <vector>

#include "control/custom_job_reconciler.h"
#include "jobs/image_map.h"
#include "storage/object_store.h"

namespace kiln::control {

// Plans replicas for the local runtime: one distinct free 127.0.0.1 port per replica (for
// CLUSTER_SPEC, TF_CONFIG and MASTER_PORT), replica folders under `jobs_root/<job id>/`, and
// jobs::PlanReplicas for argv and environment. Thread-safe (stateless beyond its configuration).
class LocalPlanner : public ReplicaPlanner {
 public:
  LocalPlanner(std::string jobs_root, const jobs::ImageMap* images, const storage::ObjectStore* storage);

  absl::StatusOr<std::vector<Replica>> Plan(const google::cloud::aiplatform::v1::CustomJob& job) override;

 private:
  std::string jobs_root_;
  const jobs::ImageMap* images_;
  const storage::ObjectStore* storage_;
};

// `count` distinct ports the kernel reports free on 127.0.0.1 right now (all sockets are held
// until every port is chosen, so they differ). UNAVAILABLE if the kernel refuses.
absl::StatusOr<std::vector<int>> FreeLoopbackPorts(int count);

}  // namespace kiln::control

#endif  // KILN_CONTROL_LOCAL_PLANNER_H_
