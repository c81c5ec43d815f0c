#include "jobs/validation.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "jobs/machine_types.h"

namespace kiln::jobs {
namespace {

namespace aip = google::cloud::aiplatform::v1;

// "<path>.<field>" or just "<field>" when the spec is the request's root.
std::string Join(absl::string_view path, absl::string_view field) {
  return path.empty() ? std::string(field) : absl::StrCat(path, ".", field);
}

size_t CodePoints(absl::string_view text) {
  return std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

// Sums args across pools and reports the field where the total crosses the limit.
class ArgsBudget {
 public:
  absl::Status Add(absl::string_view field, const google::protobuf::RepeatedPtrField<std::string>& args) {
    for (const std::string& arg : args) total_ += CodePoints(arg);
    if (total_ > kMaxArgsChars) {
      return FieldError(field,
                        absl::StrCat("arguments of all worker pools total more than ", "100,000 characters (", total_,
                                     " so far); pass "
                                     "large inputs in a file instead"));
    }
    return absl::OkStatus();
  }

 private:
  size_t total_ = 0;
};

absl::Status ValidateEnv(absl::string_view field, const google::protobuf::RepeatedPtrField<aip::EnvVar>& env) {
  if (env.size() > kMaxEnvPerContainer) {
    return FieldError(field, absl::StrCat("has ", env.size(), " entries; at most ", kMaxEnvPerContainer,
                                          " are allowed per container: merge or drop some"));
  }
  for (int i = 0; i < env.size(); ++i) {
    const std::string& name = env[i].name();
    std::string name_field = absl::StrCat(field, "[", i, "].name");
    if (!IsValidEnvName(name)) {
      return FieldError(name_field, absl::StrCat("'", name,
                                                 "' is not a valid environment variable name: "
                                                 "use letters, digits and '_', not starting with a digit"));
    }
    if (std::find(kReservedEnvNames.begin(), kReservedEnvNames.end(), name) != kReservedEnvNames.end()) {
      return FieldError(name_field, absl::StrCat(name,
                                                 " is set by kiln to describe the job it "
                                                 "launched and cannot be overridden; remove "
                                                 "this entry"));
    }
  }
  return absl::OkStatus();
}

absl::Status ResolveImage(const ImageMap& images, absl::string_view field, absl::string_view image_uri,
                          ImageRuntime* runtime) {
  if (image_uri.empty()) {
    return FieldError(field, "is required: the image to run (see kiln's image map)");
  }
  absl::StatusOr<ImageRuntime> resolved = images.Resolve(image_uri);
  if (!resolved.ok()) return FieldError(field, resolved.status().message());
  *runtime = *std::move(resolved);
  return absl::OkStatus();
}

absl::Status ValidateContainer(absl::string_view pool_path, const aip::ContainerSpec& spec, const JobsConfig& config,
                               ArgsBudget& args) {
  std::string base = Join(pool_path, "containerSpec");
  ImageRuntime runtime;
  KILN_RETURN_IF_ERROR(ResolveImage(*config.images, Join(base, "imageUri"), spec.image_uri(), &runtime));
  if (spec.command().empty() && runtime.entrypoint.empty()) {
    return FieldError(Join(base, "command"), absl::StrCat("is empty and the image map entry for '", spec.image_uri(),
                                                          "' (pattern '", runtime.pattern,
                                                          "') has no entrypoint; set containerSpec.command or add an "
                                                          "entrypoint for this image to the image map"));
  }
  KILN_RETURN_IF_ERROR(args.Add(Join(base, "args"), spec.args()));
  return ValidateEnv(Join(base, "env"), spec.env());
}

absl::Status ValidatePythonPackage(absl::string_view pool_path, const aip::PythonPackageSpec& spec,
                                   const JobsConfig& config, ArgsBudget& args) {
  std::string base = Join(pool_path, "pythonPackageSpec");
  ImageRuntime runtime;
  std::string image_field = Join(base, "executorImageUri");
  KILN_RETURN_IF_ERROR(ResolveImage(*config.images, image_field, spec.executor_image_uri(), &runtime));
  if (runtime.python.empty()) {
    return FieldError(image_field, absl::StrCat("the image map entry for '", spec.executor_image_uri(), "' (pattern '",
                                                runtime.pattern,
                                                "') names no Python interpreter; set python in that entry "
                                                "to run Python packages with this image"));
  }
  if (spec.package_uris().empty()) {
    return FieldError(Join(base, "packageUris"),
                      "is required: give at least one gs:// or file:// URI of the Python "
                      "source distribution that holds pythonModule");
  }
  if (spec.package_uris().size() > kMaxPackageUris) {
    return FieldError(Join(base, "packageUris"), absl::StrCat("has ", spec.package_uris().size(), " entries; at most ",
                                                              kMaxPackageUris, " are allowed"));
  }
  for (int i = 0; i < spec.package_uris().size(); ++i) {
    KILN_RETURN_IF_ERROR(
        config.storage->ToLocalPath(spec.package_uris(i), absl::StrCat(base, ".packageUris[", i, "]")).status());
  }
  if (spec.python_module().empty()) {
    return FieldError(Join(base, "pythonModule"), "is required: the module to run with `python -m`, e.g. trainer.task");
  }
  KILN_RETURN_IF_ERROR(args.Add(Join(base, "args"), spec.args()));
  return ValidateEnv(Join(base, "env"), spec.env());
}

// Checks the machine spec and returns the accelerators one replica needs.
absl::Status ValidateMachine(absl::string_view pool_path, const aip::MachineSpec& machine, const JobsConfig& config,
                             std::string* accelerator_type, int* accelerator_count) {
  std::string base = Join(pool_path, "machineSpec");
  std::string type_field = Join(base, "acceleratorType");
  std::string count_field = Join(base, "acceleratorCount");
  absl::string_view machine_type = machine.machine_type().empty() ? kDefaultMachineType : machine.machine_type();
  absl::StatusOr<MachineShape> shape = LookupMachineType(machine_type);
  if (!shape.ok()) return FieldError(Join(base, "machineType"), shape.status().message());

  if (!aip::AcceleratorType_IsValid(machine.accelerator_type())) {
    return FieldError(type_field, absl::StrCat("unknown accelerator type ", machine.accelerator_type(),
                                               "; use a name such as NVIDIA_TESLA_T4"));
  }
  bool has_type = machine.accelerator_type() != aip::ACCELERATOR_TYPE_UNSPECIFIED;
  std::string type_name = aip::AcceleratorType_Name(machine.accelerator_type());
  if (machine.accelerator_count() < 0) {
    return FieldError(count_field, "must be ≥ 0");
  }
  if (machine.accelerator_count() > 0 && !has_type) {
    return FieldError(count_field,
                      "is set but acceleratorType is not; set acceleratorType "
                      "(e.g. NVIDIA_TESLA_T4) or remove acceleratorCount");
  }
  if (has_type && machine.accelerator_count() == 0) {
    return FieldError(type_field, absl::StrCat("is ", type_name,
                                               " but acceleratorCount is not set; set "
                                               "acceleratorCount ≥ 1 or remove "
                                               "acceleratorType"));
  }

  *accelerator_type = has_type ? type_name : shape->implied_accelerator_type;
  *accelerator_count = has_type ? machine.accelerator_count() : shape->implied_accelerator_count;
  if (shape->implied_accelerator_count > 0 && has_type) {
    if (type_name != shape->implied_accelerator_type) {
      return FieldError(
          type_field, absl::StrCat("machine type ", shape->name, " comes with ", shape->implied_accelerator_type,
                                   "; set acceleratorType to ", shape->implied_accelerator_type, " or leave it unset"));
    }
    if (machine.accelerator_count() != shape->implied_accelerator_count) {
      return FieldError(
          count_field, absl::StrCat("machine type ", shape->name, " comes with ", shape->implied_accelerator_count, " ",
                                    shape->implied_accelerator_type, "; set acceleratorCount to ",
                                    shape->implied_accelerator_count, " or leave it unset"));
    }
  }
  if (*accelerator_count == 0) return absl::OkStatus();

  auto it = config.accelerator_inventory.find(*accelerator_type);
  int have = it == config.accelerator_inventory.end() ? 0 : it->second;
  std::string where = has_type ? type_field : Join(base, "machineType");
  if (have <= 0) {
    return FieldError(where, absl::StrCat("can never be satisfied: this kiln has 0 ", *accelerator_type,
                                          "; add them to kiln's accelerator inventory or "
                                          "choose another accelerator or machine type"));
  }
  if (*accelerator_count > have) {
    return FieldError(has_type ? count_field : where,
                      absl::StrCat("can never be satisfied: one replica needs ", *accelerator_count, " ",
                                   *accelerator_type, " and this kiln has ", have, "; lower the count"));
  }
  return absl::OkStatus();
}

absl::Status ValidateTimeout(absl::string_view path, const aip::CustomJobSpec& spec) {
  if (!spec.has_scheduling() || !spec.scheduling().has_timeout()) return absl::OkStatus();
  const google::protobuf::Duration& timeout = spec.scheduling().timeout();
  std::string field = Join(path, "scheduling.timeout");
  if (timeout.seconds() < 0 || timeout.nanos() < 0 || (timeout.seconds() == 0 && timeout.nanos() == 0)) {
    return FieldError(field, "must be > 0; leave it unset for the default of 7 days");
  }
  if (timeout.seconds() > kMaxTimeoutSeconds || (timeout.seconds() == kMaxTimeoutSeconds && timeout.nanos() > 0)) {
    return FieldError(field,
                      absl::StrCat("must be at most 7 days (", kMaxTimeoutSeconds, "s); got ", timeout.seconds(), "s"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidEnvName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(name.front())) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
}

absl::Status ValidateCustomJobSpec(absl::string_view path, const aip::CustomJobSpec& spec, const JobsConfig& config) {
  if (config.images == nullptr || config.storage == nullptr) {
    return absl::InternalError("JobsConfig needs an image map and an object store");
  }
  std::string pools_field = Join(path, "workerPoolSpecs");
  if (spec.worker_pool_specs().empty()) {
    return FieldError(pools_field,
                      "is required: give at least the primary worker pool "
                      "(containerSpec or pythonPackageSpec, machineSpec, "
                      "replicaCount 1)");
  }
  if (spec.worker_pool_specs().size() > kMaxWorkerPools) {
    return FieldError(pools_field, absl::StrCat("has ", spec.worker_pool_specs().size(),
                                                " pools; at most 4 are allowed (primary, "
                                                "workers, parameter servers, evaluators)"));
  }
  ArgsBudget args;
  std::map<std::string, int64_t> accelerators_needed;  // type → all replicas together
  for (int p = 0; p < spec.worker_pool_specs().size(); ++p) {
    const aip::WorkerPoolSpec& pool = spec.worker_pool_specs(p);
    std::string pool_path = absl::StrCat(pools_field, "[", p, "]");
    if (pool.ByteSizeLong() == 0) {
      if (p == 0) {
        return FieldError(pool_path,
                          "the primary worker pool must not be empty: set "
                          "containerSpec or pythonPackageSpec, machineSpec and "
                          "replicaCount 1");
      }
      continue;  // pools after the first may be {}: nothing runs there
    }
    std::string replicas_field = Join(pool_path, "replicaCount");
    if (pool.replica_count() < 1) return FieldError(replicas_field, "must be ≥ 1");
    if (p == 0 && pool.replica_count() != 1) {
      return FieldError(replicas_field,
                        "must be 1: the primary pool runs exactly one "
                        "replica; put more replicas in workerPoolSpecs[1]");
    }
    std::string accelerator_type;
    int accelerator_count = 0;
    KILN_RETURN_IF_ERROR(
        ValidateMachine(pool_path, pool.machine_spec(), config, &accelerator_type, &accelerator_count));
    switch (pool.task_case()) {
      case aip::WorkerPoolSpec::kContainerSpec:
        KILN_RETURN_IF_ERROR(ValidateContainer(pool_path, pool.container_spec(), config, args));
        break;
      case aip::WorkerPoolSpec::kPythonPackageSpec:
        KILN_RETURN_IF_ERROR(ValidatePythonPackage(pool_path, pool.python_package_spec(), config, args));
        break;
      default:
        return FieldError(pool_path,
                          "sets neither containerSpec nor pythonPackageSpec; set "
                          "one of them (or make the whole pool {} to skip it)");
    }
    if (accelerator_count > 0) {
      int64_t& needed = accelerators_needed[accelerator_type];
      needed += int64_t{accelerator_count} * pool.replica_count();
      int have = config.accelerator_inventory.at(accelerator_type);  // checked above
      if (needed > have) {
        return FieldError(replicas_field, absl::StrCat("can never be satisfied: the job's replicas run "
                                                       "together and need ",
                                                       needed, " ", accelerator_type, " in all; this kiln has ", have,
                                                       "; lower replicaCount or acceleratorCount"));
      }
    }
  }
  KILN_RETURN_IF_ERROR(ValidateTimeout(path, spec));
  if (!spec.base_output_directory().output_uri_prefix().empty()) {
    KILN_RETURN_IF_ERROR(config.storage
                             ->ToLocalPath(spec.base_output_directory().output_uri_prefix(),
                                           Join(path, "baseOutputDirectory.outputUriPrefix"))
                             .status());
  }
  return absl::OkStatus();
}

}  // namespace kiln::jobs
