#ifndef KILN_JOBS_CLUSTER_ENV_H_
#define KILN_JOBS_CLUSTER_ENV_H_

// Internal to kiln_jobs: the variables that describe a distributed job to its replicas
// (CLUSTER_SPEC, TF_CONFIG, PyTorch's MASTER_ADDR/MASTER_PORT/WORLD_SIZE/RANK).

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace kiln::jobs::internal {

// "host:port" of every replica, indexed [pool][index]; a skipped pool has no addresses.
struct Cluster {
  std::vector<std::vector<std::string>> addresses;
  int TotalReplicas() const;
};

// {"cluster": {"workerpool<N>": [addresses], ...non-empty pools only}, "environment": "cloud",
//  "task": {"type": "workerpool<pool>", "index": index[, "trial": trial_id]}, "job": job}.
std::string ClusterSpec(const Cluster& cluster, int pool, int index, absl::string_view trial_id,
                        const nlohmann::json& job);

// {"cluster": {"chief": pool 0, "worker": pool 1, "ps": pool 2 (non-empty ones only)},
//  "task": {"type": chief|worker|ps|evaluator, "index": index[, "trial": trial_id]},
//  "environment": "cloud"}. Evaluators (pool 3) are never in "cluster".
std::string TfConfig(const Cluster& cluster, int pool, int index, absl::string_view trial_id);

// MASTER_ADDR/MASTER_PORT (workerpool0-0), WORLD_SIZE (replicas in pools 0 and 1) and, for
// pools 0 and 1 only, RANK (0 for the primary, 1 + index for worker `index`).
std::vector<std::pair<std::string, std::string>> TorchDistributedEnv(const Cluster& cluster, int pool, int index,
                                                                     absl::string_view host, int primary_port);

}  // namespace kiln::jobs::internal

#endif  // KILN_JOBS_CLUSTER_ENV_H_
