#include "client/worker_pool_flags.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "client/job_config_file.h"
#include "client/proto_io.h"
#include "common/status_macros.h"

namespace kiln::client {
namespace {

namespace v1 = google::cloud::aiplatform::v1;

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
absl::Status ApplyToPool(v1::WorkerPoolSpec& pool, size_t index, const CreateJobFlags& flags,
                         const std::vector<v1::EnvVar>& env) {
  google::protobuf::RepeatedPtrField<std::string>* args = nullptr;
  google::protobuf::RepeatedPtrField<v1::EnvVar>* env_field = nullptr;
  switch (pool.task_case()) {
    case v1::WorkerPoolSpec::kContainerSpec:
      args = pool.mutable_container_spec()->mutable_args();
      env_field = pool.mutable_container_spec()->mutable_env();
      if (!flags.command.empty())
        SetStrings(SplitListFlag(flags.command), pool.mutable_container_spec()->mutable_command());
      break;
    case v1::WorkerPoolSpec::kPythonPackageSpec:
      if (!flags.command.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("--command applies to container pools only; worker pool ", index,
                                                       " is a python package pool"));
      }
      args = pool.mutable_python_package_spec()->mutable_args();
      env_field = pool.mutable_python_package_spec()->mutable_env();
      break;
    case v1::WorkerPoolSpec::TASK_NOT_SET:
      return absl::OkStatus();  // An empty pool {}, or one the server will refuse.
  }
  if (!flags.args.empty()) SetStrings(SplitListFlag(flags.args), args);
  for (const v1::EnvVar& entry : env) *env_field->Add() = entry;
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

absl::StatusOr<std::map<std::string, std::string>> ParseLabels(absl::string_view text) {
  KILN_ASSIGN_OR_RETURN(auto pairs, ParseKeyValueFlag("--labels", text));
  if (pairs.size() > 64) {
    return absl::InvalidArgumentError("--labels: at most 64 labels");
  }
  std::map<std::string, std::string> labels;
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

absl::StatusOr<v1::AcceleratorType> ParseAcceleratorType(absl::string_view flag, absl::string_view name) {
  v1::AcceleratorType type = v1::ACCELERATOR_TYPE_UNSPECIFIED;
  if (v1::AcceleratorType_Parse(std::string(name), &type) && type != v1::ACCELERATOR_TYPE_UNSPECIFIED) return type;
  std::vector<std::string> known;
  const google::protobuf::EnumDescriptor* descriptor = v1::AcceleratorType_descriptor();
  for (int i = 0; i < descriptor->value_count(); ++i) {
    if (descriptor->value(i)->number() != v1::ACCELERATOR_TYPE_UNSPECIFIED)
      known.push_back(descriptor->value(i)->name());
  }
  return absl::InvalidArgumentError(
      absl::StrCat(flag, ": \"", name, "\" is not an accelerator type (one of ", absl::StrJoin(known, ", "), ")"));
}

absl::StatusOr<v1::WorkerPoolSpec> ParseWorkerPoolSpec(absl::string_view spec, int index,
                                                       const std::vector<std::string>& python_package_uris) {
  if (spec.empty()) {
    if (index == 0) {
      return PoolError(index, "the first worker pool cannot be empty");
    }
    return v1::WorkerPoolSpec();
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
  v1::WorkerPoolSpec pool;
  if (value("machine-type").empty()) {
    return PoolError(index, "machine-type is required");
  }
  pool.mutable_machine_spec()->set_machine_type(value("machine-type"));
  if (!value("accelerator-type").empty()) {
    absl::StatusOr<v1::AcceleratorType> type = ParseAcceleratorType("accelerator-type", value("accelerator-type"));
    if (!type.ok()) return PoolError(index, type.status().message());
    pool.mutable_machine_spec()->set_accelerator_type(*type);
    int64_t count = 1;
    if (values.count("accelerator-count") > 0) {
      KILN_ASSIGN_OR_RETURN(count, PositiveInt(index, "accelerator-count", value("accelerator-count")));
    }
    if (count > std::numeric_limits<int32_t>::max()) {
      return PoolError(index, absl::StrCat("accelerator-count=", count, " is too large"));
    }
    pool.mutable_machine_spec()->set_accelerator_count(static_cast<int32_t>(count));
  } else if (values.count("accelerator-count") > 0) {
    return PoolError(index, "accelerator-count needs accelerator-type");
  }
  int64_t replicas = 1;
  if (values.count("replica-count") > 0) {
    KILN_ASSIGN_OR_RETURN(replicas, PositiveInt(index, "replica-count", value("replica-count")));
  }
  pool.set_replica_count(replicas);

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
    pool.mutable_container_spec()->set_image_uri(container);
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
  v1::PythonPackageSpec* package = pool.mutable_python_package_spec();
  package->set_executor_image_uri(executor);
  SetStrings(python_package_uris, package->mutable_package_uris());
  package->set_python_module(module);
  return pool;
}

absl::StatusOr<google::protobuf::Duration> ParseTimeoutFlag(absl::string_view text) {
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
  google::protobuf::Duration timeout;
  timeout.set_seconds(absl::ToInt64Seconds(duration));
  return timeout;
}

absl::StatusOr<v1::CustomJob> BuildCustomJob(const CreateJobFlags& flags) {
  if (flags.display_name.empty()) {
    return absl::InvalidArgumentError("--display-name is required");
  }
  if (flags.display_name.size() > 128) {
    return absl::InvalidArgumentError("--display-name must be at most 128 characters");
  }
  v1::CustomJob job;
  job.set_display_name(flags.display_name);
  if (!flags.labels.empty()) {
    KILN_ASSIGN_OR_RETURN(auto labels, ParseLabels(flags.labels));
    job.mutable_labels()->insert(labels.begin(), labels.end());
  }
  v1::CustomJobSpec& spec = *job.mutable_job_spec();
  if (!flags.config_file.empty()) {
    KILN_ASSIGN_OR_RETURN(spec, LoadJobSpecFile(flags.config_file));
  }
  const bool file_pools = spec.worker_pool_specs_size() > 0;
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
  const std::vector<std::string> packages = SplitListFlag(flags.python_package_uris);
  if (!flags.worker_pool_specs.empty()) {
    bool uses_packages = false;
    for (size_t i = 0; i < flags.worker_pool_specs.size(); ++i) {
      KILN_ASSIGN_OR_RETURN(v1::WorkerPoolSpec pool,
                            ParseWorkerPoolSpec(flags.worker_pool_specs[i], static_cast<int>(i), packages));
      uses_packages = uses_packages || pool.has_python_package_spec();
      *spec.add_worker_pool_specs() = std::move(pool);
    }
    if (!packages.empty() && !uses_packages) {
      return absl::InvalidArgumentError(
          "--python-package-uris needs a --worker-pool-spec with "
          "executor-image-uri and python-module");
    }
  } else if (!packages.empty()) {
    return absl::InvalidArgumentError(
        "--python-package-uris applies to --worker-pool-spec pools; put "
        "packageUris in the --config file instead");
  }
  std::vector<v1::EnvVar> env;
  KILN_ASSIGN_OR_RETURN(auto env_pairs, ParseKeyValueFlag("--env-vars", flags.env_vars));
  for (const auto& [name, value] : env_pairs) {
    v1::EnvVar& entry = env.emplace_back();
    entry.set_name(name);
    entry.set_value(value);
  }
  for (int i = 0; i < spec.worker_pool_specs_size(); ++i) {
    KILN_RETURN_IF_ERROR(ApplyToPool(*spec.mutable_worker_pool_specs(i), static_cast<size_t>(i), flags, env));
  }
  if (!flags.timeout.empty()) {
    KILN_ASSIGN_OR_RETURN(*spec.mutable_scheduling()->mutable_timeout(), ParseTimeoutFlag(flags.timeout));
  }
  if (!flags.base_output_dir.empty()) {
    spec.mutable_base_output_directory()->set_output_uri_prefix(flags.base_output_dir);
  }
  return job;
}

}  // namespace kiln::client
