#include "client/worker_pool_flags.h"

#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "client/job_config_file.h"
#include "common/status_macros.h"

namespace kiln::client {
namespace {

using nlohmann::json;

constexpr char kUnsupportedBuildHint[] =
    "is not supported by kiln; upload the package with kiln storage cp and "
    "use --python-package-uris with executor-image-uri and python-module";

bool IsLabelText(absl::string_view text) {
  for (char c : text) {
    if (!absl::ascii_islower(static_cast<unsigned char>(c)) && !absl::ascii_isdigit(static_cast<unsigned char>(c)) &&
        c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

absl::Status PoolError(int index, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("--worker-pool-spec #", index, ": ", message));
}

absl::StatusOr<int64_t> PositiveInt(int index, absl::string_view key, absl::string_view value) {
  int64_t number = 0;
  if (!absl::SimpleAtoi(value, &number) || number < 1) {
    return PoolError(index, absl::StrCat(key, "=", value, " must be a whole number >= 1"));
  }
  return number;
}

bool IsBuildKey(absl::string_view key) {
  return key == "local-package-path" || key == "script" || key == "requirements" || key == "extra-packages" ||
         key == "extra-dirs" || key == "output-image-uri";
}

// Applies --args, --command and --env-vars to one pool (see BuildCustomJob).
absl::Status ApplyToPool(json& pool, size_t index, const CreateJobFlags& flags, const json& env) {
  if (!pool.is_object() || pool.empty()) return absl::OkStatus();
  json* spec = nullptr;
  if (pool.contains("containerSpec") && pool["containerSpec"].is_object()) {
    spec = &pool["containerSpec"];
  } else if (pool.contains("pythonPackageSpec") && pool["pythonPackageSpec"].is_object()) {
    spec = &pool["pythonPackageSpec"];
    if (!flags.command.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--command applies to container pools only; worker pool ", index, " is a python package pool"));
    }
  }
  if (spec == nullptr) return absl::OkStatus();
  if (!flags.args.empty()) (*spec)["args"] = SplitListFlag(flags.args);
  if (!flags.command.empty()) {
    (*spec)["command"] = SplitListFlag(flags.command);
  }
  if (!env.empty()) {
    if (!spec->contains("env") || !(*spec)["env"].is_array()) {
      (*spec)["env"] = json::array();
    }
    for (const json& entry : env) (*spec)["env"].push_back(entry);
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string>& WorkerPoolSpecKeys() {
  static const std::vector<std::string>* const kKeys =
      new std::vector<std::string>{"machine-type",        "replica-count",      "accelerator-type", "accelerator-count",
                                   "container-image-uri", "executor-image-uri", "python-module"};
  return *kKeys;
}

std::vector<std::string> SplitListFlag(absl::string_view text) {
  if (text.empty()) return {};
  return absl::StrSplit(text, ',');
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseKeyValueFlag(absl::string_view flag,
                                                                                   absl::string_view text) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::set<std::string> seen;
  for (const std::string& item : SplitListFlag(text)) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": \"", item, "\" is not KEY=VALUE (expected ", flag, "=KEY=VALUE,KEY2=VALUE2)"));
    }
    std::string key = item.substr(0, eq);
    if (!seen.insert(key).second) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": key \"", key, "\" is given twice"));
    }
    pairs.emplace_back(std::move(key), item.substr(eq + 1));
  }
  return pairs;
}

absl::StatusOr<json> ParseLabels(absl::string_view text) {
  KILN_ASSIGN_OR_RETURN(auto pairs, ParseKeyValueFlag("--labels", text));
  if (pairs.size() > 64) {
    return absl::InvalidArgumentError("--labels: at most 64 labels");
  }
  json labels = json::object();
  for (const auto& [key, value] : pairs) {
    if (key.size() > 63 || !IsLabelText(key) || !absl::ascii_islower(static_cast<unsigned char>(key[0]))) {
      return absl::InvalidArgumentError(absl::StrCat("--labels: key \"", key,
                                                     "\" must be 1-63 lowercase letters, digits, '_' or '-', starting "
                                                     "with a letter"));
    }
    if (value.size() > 63 || !IsLabelText(value)) {
      return absl::InvalidArgumentError(absl::StrCat("--labels: value \"", value, "\" of ", key,
                                                     " must be at most 63 lowercase letters, digits, '_' or '-'"));
    }
    labels[key] = value;
  }
  return labels;
}

absl::StatusOr<json> ParseWorkerPoolSpec(absl::string_view spec, int index,
                                         const std::vector<std::string>& python_package_uris) {
  if (spec.empty()) {
    if (index == 0) {
      return PoolError(index, "the first worker pool cannot be empty");
    }
    return json::object();
  }
  const std::vector<std::string>& allowed = WorkerPoolSpecKeys();
  std::map<std::string, std::string> values;
  for (const std::string& item : SplitListFlag(spec)) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return PoolError(index, absl::StrCat("\"", item, "\" is not KEY=VALUE; keys: ", absl::StrJoin(allowed, ", ")));
    }
    const std::string key = item.substr(0, eq);
    if (IsBuildKey(key)) return PoolError(index, absl::StrCat(key, " ", kUnsupportedBuildHint));
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return PoolError(index, absl::StrCat("unknown key \"", key, "\"; allowed keys: ", absl::StrJoin(allowed, ", ")));
    }
    if (!values.emplace(key, item.substr(eq + 1)).second) {
      return PoolError(index, absl::StrCat("key ", key, " is given twice"));
    }
  }
  auto value = [&values](const char* key) -> std::string {
    auto it = values.find(key);
    return it == values.end() ? "" : it->second;
  };
  json pool = json::object();
  if (value("machine-type").empty()) {
    return PoolError(index, "machine-type is required");
  }
  pool["machineSpec"] = {{"machineType", value("machine-type")}};
  if (!value("accelerator-type").empty()) {
    pool["machineSpec"]["acceleratorType"] = value("accelerator-type");
    int64_t count = 1;
    if (values.count("accelerator-count") > 0) {
      KILN_ASSIGN_OR_RETURN(count, PositiveInt(index, "accelerator-count", value("accelerator-count")));
    }
    pool["machineSpec"]["acceleratorCount"] = count;
  } else if (values.count("accelerator-count") > 0) {
    return PoolError(index, "accelerator-count needs accelerator-type");
  }
  int64_t replicas = 1;
  if (values.count("replica-count") > 0) {
    KILN_ASSIGN_OR_RETURN(replicas, PositiveInt(index, "replica-count", value("replica-count")));
  }
  pool["replicaCount"] = absl::StrCat(replicas);

  const std::string container = value("container-image-uri");
  const std::string executor = value("executor-image-uri");
  const std::string module = value("python-module");
  if (container.empty() == executor.empty()) {
    return PoolError(index,
                     "give exactly one of container-image-uri (a container "
                     "job) and executor-image-uri with python-module (a "
                     "python package job)");
  }
  if (!container.empty()) {
    if (!module.empty()) {
      return PoolError(index,
                       "python-module goes with executor-image-uri, not "
                       "container-image-uri");
    }
    pool["containerSpec"] = {{"imageUri", container}};
    return pool;
  }
  if (module.empty()) {
    return PoolError(index, "executor-image-uri needs python-module");
  }
  if (python_package_uris.empty()) {
    return PoolError(index,
                     "executor-image-uri needs --python-package-uris "
                     "(gs:// URIs of the packages to install)");
  }
  pool["pythonPackageSpec"] = {
      {"executorImageUri", executor}, {"packageUris", python_package_uris}, {"pythonModule", module}};
  return pool;
}

absl::StatusOr<std::string> ParseTimeoutFlag(absl::string_view text) {
  absl::Duration duration;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(text, &seconds)) {
    duration = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &duration)) {
    return absl::InvalidArgumentError(absl::StrCat("--timeout: \"", text, "\" is not a duration such as 3600s or 2h"));
  }
  if (duration <= absl::ZeroDuration() || duration != absl::Seconds(absl::ToInt64Seconds(duration))) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout: \"", text, "\" must be a positive whole number of seconds"));
  }
  return absl::StrCat(absl::ToInt64Seconds(duration), "s");
}

absl::StatusOr<json> BuildCustomJob(const CreateJobFlags& flags) {
  if (flags.display_name.empty()) {
    return absl::InvalidArgumentError("--display-name is required");
  }
  if (flags.display_name.size() > 128) {
    return absl::InvalidArgumentError("--display-name must be at most 128 characters");
  }
  json job = {{"displayName", flags.display_name}};
  if (!flags.labels.empty()) {
    KILN_ASSIGN_OR_RETURN(job["labels"], ParseLabels(flags.labels));
  }
  json spec = json::object();
  if (!flags.config_file.empty()) {
    KILN_ASSIGN_OR_RETURN(spec, LoadJobSpecFile(flags.config_file));
  }
  const bool file_pools = spec.contains("workerPoolSpecs");
  if (file_pools && !flags.worker_pool_specs.empty()) {
    return absl::InvalidArgumentError(
        "both --config and --worker-pool-spec give worker pools; give them in "
        "one place only");
  }
  if (!file_pools && flags.worker_pool_specs.empty()) {
    return absl::InvalidArgumentError(
        "no worker pools: give --worker-pool-spec (one per pool) or --config "
        "with workerPoolSpecs");
  }
  if (file_pools && !spec["workerPoolSpecs"].is_array()) {
    return absl::InvalidArgumentError("--config: workerPoolSpecs must be a list");
  }
  const std::vector<std::string> packages = SplitListFlag(flags.python_package_uris);
  if (!flags.worker_pool_specs.empty()) {
    json pools = json::array();
    bool uses_packages = false;
    for (size_t i = 0; i < flags.worker_pool_specs.size(); ++i) {
      KILN_ASSIGN_OR_RETURN(json pool, ParseWorkerPoolSpec(flags.worker_pool_specs[i], static_cast<int>(i), packages));
      uses_packages = uses_packages || pool.contains("pythonPackageSpec");
      pools.push_back(std::move(pool));
    }
    if (!packages.empty() && !uses_packages) {
      return absl::InvalidArgumentError(
          "--python-package-uris needs a --worker-pool-spec with "
          "executor-image-uri and python-module");
    }
    spec["workerPoolSpecs"] = std::move(pools);
  } else if (!packages.empty()) {
    return absl::InvalidArgumentError(
        "--python-package-uris applies to --worker-pool-spec pools; put "
        "packageUris in the --config file instead");
  }
  json env = json::array();
  KILN_ASSIGN_OR_RETURN(auto env_pairs, ParseKeyValueFlag("--env-vars", flags.env_vars));
  for (const auto& [name, value] : env_pairs) {
    env.push_back({{"name", name}, {"value", value}});
  }
  json& pools = spec["workerPoolSpecs"];
  for (size_t i = 0; i < pools.size(); ++i) {
    KILN_RETURN_IF_ERROR(ApplyToPool(pools[i], i, flags, env));
  }
  if (!flags.timeout.empty()) {
    KILN_ASSIGN_OR_RETURN(std::string timeout, ParseTimeoutFlag(flags.timeout));
    if (!spec.contains("scheduling") || !spec["scheduling"].is_object()) {
      spec["scheduling"] = json::object();
    }
    spec["scheduling"]["timeout"] = timeout;
  }
  if (!flags.base_output_dir.empty()) {
    spec["baseOutputDirectory"] = {{"outputUriPrefix", flags.base_output_dir}};
  }
  job["jobSpec"] = std::move(spec);
  return job;
}

}  // namespace kiln::client
