#include "jobs/cluster_env.h"

#include "absl/strings/str_cat.h"

namespace kiln::jobs::internal {
namespace {

constexpr const char* kTfTaskTypes[] = {"chief", "worker", "ps", "evaluator"};

size_t PoolSize(const Cluster& cluster, int pool) {
  return pool < static_cast<int>(cluster.addresses.size()) ? cluster.addresses[pool].size() : 0;
}

}  // namespace

int Cluster::TotalReplicas() const {
  size_t total = 0;
  for (const auto& pool : addresses) total += pool.size();
  return static_cast<int>(total);
}

std::string ClusterSpec(const Cluster& cluster, int pool, int index, absl::string_view trial_id,
                        const nlohmann::json& job) {
  nlohmann::json pools = nlohmann::json::object();
  for (size_t p = 0; p < cluster.addresses.size(); ++p) {
    if (!cluster.addresses[p].empty()) {
      pools[absl::StrCat("workerpool", p)] = cluster.addresses[p];
    }
  }
  nlohmann::json task = {{"type", absl::StrCat("workerpool", pool)}, {"index", index}};
  if (!trial_id.empty()) task["trial"] = std::string(trial_id);
  nlohmann::json spec = {{"cluster", pools}, {"environment", "cloud"}, {"task", task}, {"job", job}};
  return spec.dump();
}

std::string TfConfig(const Cluster& cluster, int pool, int index, absl::string_view trial_id) {
  nlohmann::json roles = nlohmann::json::object();
  for (int p = 0; p < 3 && p < static_cast<int>(cluster.addresses.size()); ++p) {
    if (!cluster.addresses[p].empty()) roles[kTfTaskTypes[p]] = cluster.addresses[p];
  }
  nlohmann::json task = {{"type", kTfTaskTypes[pool]}, {"index", index}};
  if (!trial_id.empty()) task["trial"] = std::string(trial_id);
  nlohmann::json config = {{"cluster", roles}, {"task", task}, {"environment", "cloud"}};
  return config.dump();
}

std::vector<std::pair<std::string, std::string>> TorchDistributedEnv(const Cluster& cluster, int pool, int index,
                                                                     absl::string_view host, int primary_port) {
  std::vector<std::pair<std::string, std::string>> env = {
      {"MASTER_ADDR", std::string(host)},
      {"MASTER_PORT", absl::StrCat(primary_port)},
      {"WORLD_SIZE", absl::StrCat(PoolSize(cluster, 0) + PoolSize(cluster, 1))},
  };
  if (pool == 0) env.emplace_back("RANK", "0");
  if (pool == 1) env.emplace_back("RANK", absl::StrCat(1 + index));
  return env;
}

}  // namespace kiln::jobs::internal
