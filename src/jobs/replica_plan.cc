#include "jobs/replica_plan.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "jobs/cluster_env.h"
#include "jobs/expand_variables.h"
#include "jobs/machine_types.h"
#include "jobs/validation.h"
#include "nlohmann/json.hpp"

namespace kiln::jobs {
namespace {

namespace aip = google::cloud::aiplatform::v1;

constexpr absl::string_view kSystemPath = "/usr/local/bin:/usr/bin:/bin";

// An ordered environment: setting an existing name replaces its value in place.
class Environment {
 public:
  void Set(absl::string_view name, std::string value) {
    auto [it, inserted] = index_.try_emplace(name, entries_.size());
    if (inserted) {
      entries_.emplace_back(std::string(name), std::move(value));
    } else {
      entries_[it->second].second = std::move(value);
    }
  }
  std::optional<std::string> Get(absl::string_view name) const {
    auto it = index_.find(name);
    if (it == index_.end()) return std::nullopt;
    return entries_[it->second].second;
  }
  std::string Expand(absl::string_view text) const {
    return ExpandVariables(text, [this](absl::string_view name) { return Get(name); });
  }
  std::vector<std::string> ToList() const {
    std::vector<std::string> list;
    list.reserve(entries_.size());
    for (const auto& [name, value] : entries_) list.push_back(absl::StrCat(name, "=", value));
    return list;
  }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
  absl::flat_hash_map<std::string, size_t> index_;
};

// image path_prefix + the system folders, first occurrence of each folder kept.
std::string SearchPath(const std::vector<std::string>& prefix) {
  std::vector<std::string> folders;
  std::set<std::string> seen;
  std::vector<std::string> all = prefix;
  for (absl::string_view folder : absl::StrSplit(kSystemPath, ':')) {
    all.emplace_back(folder);
  }
  for (std::string& folder : all) {
    if (!folder.empty() && seen.insert(folder).second) folders.push_back(std::move(folder));
  }
  return absl::StrJoin(folders, ":");
}

absl::StatusOr<nlohmann::json> SpecAsJson(const aip::CustomJobSpec& spec) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;  // camelCase names, enums as names
  auto status = google::protobuf::util::MessageToJsonString(spec, &text, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("cannot print the job spec as JSON: ", status.ToString()));
  }
  return nlohmann::json::parse(text);
}

// What every replica of one pool shares.
struct PoolRuntime {
  ImageRuntime image;
  MachineShape machine;
  std::string accelerator_type;
  int accelerator_count = 0;
  std::vector<std::string> package_paths;
};

absl::StatusOr<PoolRuntime> ResolvePool(const aip::WorkerPoolSpec& pool, absl::string_view path, const ImageMap& images,
                                        const storage::ObjectStore& storage) {
  PoolRuntime runtime;
  absl::string_view image_uri;
  std::string image_field;
  if (pool.has_container_spec()) {
    image_uri = pool.container_spec().image_uri();
    image_field = absl::StrCat(path, ".containerSpec.imageUri");
  } else if (pool.has_python_package_spec()) {
    image_uri = pool.python_package_spec().executor_image_uri();
    image_field = absl::StrCat(path, ".pythonPackageSpec.executorImageUri");
  } else {
    return FieldError(path, "sets neither containerSpec nor pythonPackageSpec");
  }
  absl::StatusOr<ImageRuntime> image = images.Resolve(image_uri);
  if (!image.ok()) return FieldError(image_field, image.status().message());
  runtime.image = *std::move(image);

  const aip::MachineSpec& machine = pool.machine_spec();
  absl::StatusOr<MachineShape> shape =
      LookupMachineType(machine.machine_type().empty() ? kDefaultMachineType : machine.machine_type());
  if (!shape.ok()) {
    return FieldError(absl::StrCat(path, ".machineSpec.machineType"), shape.status().message());
  }
  runtime.machine = *std::move(shape);
  if (machine.accelerator_type() != aip::ACCELERATOR_TYPE_UNSPECIFIED) {
    runtime.accelerator_type = aip::AcceleratorType_Name(machine.accelerator_type());
    runtime.accelerator_count = machine.accelerator_count();
  } else {
    runtime.accelerator_type = runtime.machine.implied_accelerator_type;
    runtime.accelerator_count = runtime.machine.implied_accelerator_count;
  }

  if (pool.has_python_package_spec()) {
    const auto& uris = pool.python_package_spec().package_uris();
    for (int i = 0; i < uris.size(); ++i) {
      KILN_ASSIGN_OR_RETURN(
          std::string local,
          storage.ToLocalPath(uris[i], absl::StrCat(path, ".pythonPackageSpec.packageUris[", i, "]")));
      runtime.package_paths.push_back(std::move(local));
    }
  }
  return runtime;
}

absl::Status CheckContext(const JobContext& ctx, int64_t total_replicas) {
  if (static_cast<int64_t>(ctx.sites.size()) != total_replicas) {
    return absl::InvalidArgumentError(absl::StrCat("JobContext.sites: has ", ctx.sites.size(), " sites for ",
                                                   total_replicas, " replicas; give one per replica"));
  }
  std::set<std::pair<std::string, int>> distinct;
  for (const ReplicaSite& site : ctx.sites) distinct.insert({site.host, site.port});
  if (static_cast<int64_t>(distinct.size()) != total_replicas) {
    return absl::InvalidArgumentError("JobContext.sites: addresses (host:port) must be distinct");
  }
  if (!ctx.accelerator_ids_per_replica.empty() &&
      static_cast<int64_t>(ctx.accelerator_ids_per_replica.size()) != total_replicas) {
    return absl::InvalidArgumentError(absl::StrCat("JobContext.accelerator_ids_per_replica: has ",
                                                   ctx.accelerator_ids_per_replica.size(), " entries for ",
                                                   total_replicas, " replicas; give one per replica or none"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> LocalOutputDirectory(const aip::CustomJobSpec& spec, absl::string_view trial_id,
                                                 const storage::ObjectStore& storage) {
  const std::string& prefix = spec.base_output_directory().output_uri_prefix();
  if (prefix.empty()) return std::string();
  KILN_ASSIGN_OR_RETURN(std::string local, storage.ToLocalPath(prefix, "jobSpec.baseOutputDirectory.outputUriPrefix"));
  while (local.size() > 1 && local.back() == '/') local.pop_back();
  if (!trial_id.empty()) {
    absl::string_view last = absl::string_view(local).substr(local.rfind('/') + 1);
    if (last != trial_id) absl::StrAppend(&local, "/", trial_id);
  }
  local.push_back('/');
  return local;
}

std::vector<std::string> ReplicaTasks(const aip::CustomJob& job) {
  std::vector<std::string> tasks;
  const auto& pools = job.job_spec().worker_pool_specs();
  for (int p = 0; p < pools.size(); ++p) {
    if (pools[p].ByteSizeLong() == 0) continue;
    for (int64_t i = 0; i < pools[p].replica_count(); ++i) tasks.push_back(absl::StrCat("workerpool", p, "-", i));
  }
  return tasks;
}

absl::StatusOr<std::vector<ReplicaPlan>> PlanReplicas(const aip::CustomJob& job, const JobContext& ctx,
                                                      const ImageMap& images, const storage::ObjectStore& storage) {
  const aip::CustomJobSpec& spec = job.job_spec();
  if (spec.worker_pool_specs().empty()) {
    return FieldError("jobSpec.workerPoolSpecs", "is required");
  }

  // Pools, their shared runtime, and the cluster's addresses.
  std::vector<std::optional<PoolRuntime>> pools(spec.worker_pool_specs().size());
  internal::Cluster cluster;
  cluster.addresses.resize(pools.size());
  int64_t total = 0;
  for (int p = 0; p < spec.worker_pool_specs().size(); ++p) {
    const aip::WorkerPoolSpec& pool = spec.worker_pool_specs(p);
    if (pool.ByteSizeLong() == 0) continue;
    std::string path = absl::StrCat("jobSpec.workerPoolSpecs[", p, "]");
    if (pool.replica_count() < 1) {
      return FieldError(absl::StrCat(path, ".replicaCount"), "must be ≥ 1");
    }
    KILN_ASSIGN_OR_RETURN(pools[p], ResolvePool(pool, path, images, storage));
    total += pool.replica_count();
  }
  if (!pools[0].has_value()) {
    return FieldError("jobSpec.workerPoolSpecs[0]", "the primary worker pool must not be empty");
  }
  KILN_RETURN_IF_ERROR(CheckContext(ctx, total));
  {
    int r = 0;
    for (int p = 0; p < static_cast<int>(pools.size()); ++p) {
      if (!pools[p].has_value()) continue;
      for (int64_t i = 0; i < spec.worker_pool_specs(p).replica_count(); ++i) {
        const ReplicaSite& site = ctx.sites[r++];
        cluster.addresses[p].push_back(absl::StrCat(site.host, ":", site.port));
      }
    }
  }
  KILN_ASSIGN_OR_RETURN(nlohmann::json job_json, SpecAsJson(spec));
  KILN_ASSIGN_OR_RETURN(std::string output_dir, LocalOutputDirectory(spec, ctx.trial_id, storage));

  std::vector<ReplicaPlan> plans;
  plans.reserve(total);
  int r = 0;
  for (int p = 0; p < static_cast<int>(pools.size()); ++p) {
    if (!pools[p].has_value()) continue;
    const PoolRuntime& runtime = *pools[p];
    const aip::WorkerPoolSpec& pool = spec.worker_pool_specs(p);
    for (int i = 0; i < static_cast<int>(pool.replica_count()); ++i, ++r) {
      ReplicaPlan plan;
      plan.pool = p;
      plan.index = i;
      plan.task_name = absl::StrCat("workerpool", p, "-", i);
      plan.replica_dir = ctx.sites[r].dir;
      plan.working_dir = runtime.image.working_dir.empty() ? plan.replica_dir : runtime.image.working_dir;
      plan.cpus = runtime.machine.vcpus;
      plan.memory_gib = runtime.machine.memory_gib;
      plan.accelerator_type = runtime.accelerator_type;
      plan.accelerator_count = runtime.accelerator_count;
      plan.image_uri = runtime.image.image_uri;
      plan.package_paths = runtime.package_paths;

      Environment env;
      env.Set("PATH", SearchPath(runtime.image.path_prefix));
      env.Set("HOME", plan.replica_dir);
      env.Set("LANG", "C.UTF-8");
      env.Set("PYTHONUNBUFFERED", "1");
      env.Set("CLOUD_ML_JOB_ID", ctx.job_id);
      if (!ctx.trial_id.empty()) env.Set("CLOUD_ML_TRIAL_ID", ctx.trial_id);
      if (!output_dir.empty()) {
        env.Set("AIP_MODEL_DIR", absl::StrCat(output_dir, "model/"));
        env.Set("AIP_CHECKPOINT_DIR", absl::StrCat(output_dir, "checkpoints/"));
        env.Set("AIP_TENSORBOARD_LOG_DIR", absl::StrCat(output_dir, "logs/"));
      }
      env.Set("CLUSTER_SPEC", internal::ClusterSpec(cluster, p, i, ctx.trial_id, job_json));
      if (total > 1) {
        env.Set("TF_CONFIG", internal::TfConfig(cluster, p, i, ctx.trial_id));
        for (auto& [name, value] : internal::TorchDistributedEnv(cluster, p, i, ctx.sites[0].host, ctx.sites[0].port)) {
          env.Set(name, std::move(value));
        }
      }
      if (!ctx.accelerator_ids_per_replica.empty() && !ctx.accelerator_ids_per_replica[r].empty()) {
        env.Set("CUDA_VISIBLE_DEVICES", ctx.accelerator_ids_per_replica[r]);
      }

      const auto& user_env = pool.has_container_spec() ? pool.container_spec().env() : pool.python_package_spec().env();
      for (int k = 0; k < user_env.size(); ++k) {
        const aip::EnvVar& var = user_env[k];
        if (std::find(kReservedEnvNames.begin(), kReservedEnvNames.end(), var.name()) != kReservedEnvNames.end()) {
          return FieldError(
              absl::StrCat("jobSpec.workerPoolSpecs[", p, "].",
                           pool.has_container_spec() ? "containerSpec" : "pythonPackageSpec", ".env[", k, "].name"),
              absl::StrCat(var.name(), " is set by kiln and cannot be overridden"));
        }
        env.Set(var.name(), env.Expand(var.value()));
      }

      if (pool.has_container_spec()) {
        const aip::ContainerSpec& container = pool.container_spec();
        if (container.command().empty() && runtime.image.entrypoint.empty()) {
          return FieldError(absl::StrCat("jobSpec.workerPoolSpecs[", p, "].containerSpec.command"),
                            "is empty and the image has no entrypoint; set containerSpec.command or add an "
                            "entrypoint for this image to the image map");
        }
        const auto& command = container.command().empty()
                                  ? std::vector<std::string>(runtime.image.entrypoint)
                                  : std::vector<std::string>(container.command().begin(), container.command().end());
        for (const std::string& word : command) plan.argv.push_back(env.Expand(word));
        for (const std::string& arg : container.args()) plan.argv.push_back(env.Expand(arg));
      } else {
        const aip::PythonPackageSpec& python = pool.python_package_spec();
        if (runtime.image.python.empty()) {
          return FieldError(absl::StrCat("jobSpec.workerPoolSpecs[", p, "].pythonPackageSpec.executorImageUri"),
                            "the image map entry names no Python interpreter; set python in "
                            "that entry");
        }
        plan.python_argv_index = 0;
        plan.argv = {runtime.image.python, "-m", python.python_module()};
        for (const std::string& arg : python.args()) plan.argv.push_back(env.Expand(arg));
      }
      plan.env = env.ToList();
      plans.push_back(std::move(plan));
    }
  }
  return plans;
}

}  // namespace kiln::jobs
