#include "client/pipeline_flags.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/proto_io.h"
#include "client/worker_pool_flags.h"
#include "common/status_macros.h"

namespace kiln::client {
namespace {

namespace v1 = google::cloud::aiplatform::v1;

absl::Status Usage(absl::string_view message) { return absl::InvalidArgumentError(message); }

bool IsIdChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }

// ParseLabels reports errors as "--labels: ..."; rename the flag.
absl::StatusOr<std::map<std::string, std::string>> ParseLabelsFlag(absl::string_view flag, absl::string_view text) {
  absl::StatusOr<std::map<std::string, std::string>> labels = ParseLabels(text);
  if (labels.ok() || flag == "--labels") return labels;
  std::string message(labels.status().message());
  absl::string_view rest = message;
  if (absl::ConsumePrefix(&rest, "--labels")) {
    message = absl::StrCat(flag, rest);
  }
  return absl::InvalidArgumentError(message);
}

bool WantsModel(const PipelineFlags& flags) {
  return !flags.model_display_name.empty() || !flags.model_serving_container_image_uri.empty() ||
         !flags.model_description.empty() || !flags.parent_model.empty() || !flags.model_id.empty() ||
         !flags.version_aliases.empty() || !flags.model_labels.empty() || !flags.artifact_uri.empty();
}

absl::StatusOr<v1::Model> BuildModelToUpload(const PipelineFlags& flags) {
  v1::Model model;
  model.set_display_name(flags.model_display_name.empty() ? flags.display_name : flags.model_display_name);
  if (!flags.model_description.empty()) model.set_description(flags.model_description);
  if (!flags.model_serving_container_image_uri.empty()) {
    model.mutable_container_spec()->set_image_uri(flags.model_serving_container_image_uri);
  }
  if (!flags.artifact_uri.empty()) model.set_artifact_uri(flags.artifact_uri);
  if (!flags.version_aliases.empty()) {
    const std::vector<std::string> aliases = SplitListFlag(flags.version_aliases);
    KILN_RETURN_IF_ERROR(CheckVersionAliases("--version-aliases", aliases, false));
    SetStrings(aliases, model.mutable_version_aliases());
  }
  if (!flags.model_labels.empty()) {
    KILN_ASSIGN_OR_RETURN(auto labels, ParseLabelsFlag("--model-labels", flags.model_labels));
    model.mutable_labels()->insert(labels.begin(), labels.end());
  }
  return model;
}

// The task part of every worker pool: containerSpec or pythonPackageSpec, with
// the args and environment.
void SetTask(const PipelineFlags& flags, PipelineSource source, const std::optional<StagedScript>& script,
             const std::vector<v1::EnvVar>& env, v1::WorkerPoolSpec* pool) {
  google::protobuf::RepeatedPtrField<std::string>* args = nullptr;
  google::protobuf::RepeatedPtrField<v1::EnvVar>* env_field = nullptr;
  if (source == PipelineSource::kContainer) {
    v1::ContainerSpec* spec = pool->mutable_container_spec();
    spec->set_image_uri(flags.container_image_uri);
    if (!flags.command.empty()) SetStrings(SplitListFlag(flags.command), spec->mutable_command());
    args = spec->mutable_args();
    env_field = spec->mutable_env();
  } else {
    v1::PythonPackageSpec* spec = pool->mutable_python_package_spec();
    spec->set_executor_image_uri(flags.container_uri);
    if (source == PipelineSource::kScript) {
      spec->add_package_uris(script->package_uri);
      spec->set_python_module(script->python_module);
    } else {
      SetStrings(SplitListFlag(flags.python_package_uris), spec->mutable_package_uris());
      spec->set_python_module(flags.python_module);
    }
    args = spec->mutable_args();
    env_field = spec->mutable_env();
  }
  std::vector<std::string> all_args = SplitListFlag(flags.args);
  all_args.insert(all_args.end(), flags.arg.begin(), flags.arg.end());
  SetStrings(all_args, args);
  for (const v1::EnvVar& entry : env) *env_field->Add() = entry;
}

}  // namespace

absl::StatusOr<PipelineSource> CheckPipelineSource(const PipelineFlags& flags) {
  const bool package = !flags.python_package_uris.empty() || !flags.python_module.empty();
  const bool script = !flags.script.empty();
  const bool container = !flags.container_image_uri.empty();
  const int sources = int{package} + int{script} + int{container};
  if (sources == 0) {
    return Usage(
        "no training code: give --python-package-uris with --python-module "
        "and --container-uri, or --script with --container-uri, or "
        "--container-image-uri");
  }
  if (sources > 1) {
    std::vector<std::string> given;
    if (package) given.push_back("--python-package-uris/--python-module");
    if (script) given.push_back("--script");
    if (container) given.push_back("--container-image-uri");
    return Usage(absl::StrCat("give one training source, not ", absl::StrJoin(given, " and ")));
  }
  if (!flags.command.empty() && !container) {
    return Usage(
        "--command applies to --container-image-uri only (python packages "
        "and scripts run as python -m MODULE)");
  }
  if (!flags.staging_bucket.empty() && !script) {
    return Usage("--staging-bucket applies to --script only");
  }
  if (container) {
    if (!flags.container_uri.empty()) {
      return Usage(
          "--container-uri is the executor image for --python-package-uris "
          "or --script; a custom container goes in --container-image-uri "
          "alone");
    }
    return PipelineSource::kContainer;
  }
  if (flags.container_uri.empty()) {
    return Usage(absl::StrCat(script ? "--script" : "--python-package-uris",
                              " needs --container-uri (the executor image that runs the code)"));
  }
  if (script) return PipelineSource::kScript;
  if (flags.python_package_uris.empty()) {
    return Usage("--python-module needs --python-package-uris (gs:// URIs)");
  }
  if (flags.python_module.empty()) {
    return Usage("--python-package-uris needs --python-module (e.g. trainer.task)");
  }
  for (const std::string& uri : SplitListFlag(flags.python_package_uris)) {
    if (uri.empty()) {
      return Usage("--python-package-uris: empty item in the list");
    }
  }
  return PipelineSource::kPythonPackage;
}

absl::StatusOr<std::string> ExpandModelName(absl::string_view flag, absl::string_view location,
                                            absl::string_view id_or_name) {
  if (absl::StrContains(id_or_name, '@')) {
    return Usage(absl::StrCat(flag, ": \"", id_or_name, "\" names a version; give the model only"));
  }
  if (absl::StartsWith(id_or_name, "projects/")) {
    std::vector<absl::string_view> parts = absl::StrSplit(id_or_name, '/');
    if (parts.size() == 6 && parts[2] == "locations" && parts[4] == "models" && !parts[1].empty() &&
        !parts[3].empty() && !parts[5].empty()) {
      return std::string(id_or_name);
    }
  } else if (!id_or_name.empty() && std::all_of(id_or_name.begin(), id_or_name.end(), IsIdChar)) {
    return absl::StrCat(location, "/models/", id_or_name);
  }
  return Usage(
      absl::StrCat(flag, ": \"", id_or_name, "\" is not a model ID or a name projects/P/locations/R/models/ID"));
}

absl::Status CheckVersionAliases(absl::string_view flag, const std::vector<std::string>& aliases, bool allow_removal) {
  for (const std::string& item : aliases) {
    absl::string_view alias = item;
    if (allow_removal) absl::ConsumePrefix(&alias, "-");
    bool ok = alias.size() >= 2 && alias.size() <= 128 &&
              absl::ascii_islower(static_cast<unsigned char>(alias.front())) &&
              (absl::ascii_islower(static_cast<unsigned char>(alias.back())) ||
               absl::ascii_isdigit(static_cast<unsigned char>(alias.back())));
    for (char c : alias) {
      ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-');
    }
    if (!ok) {
      return Usage(absl::StrCat(flag, ": \"", item,
                                "\" is not a version alias (2-128 letters, digits or '-', starting "
                                "with a lowercase letter and ending with one or a digit)"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckModelId(absl::string_view model_id) {
  bool ok = !model_id.empty() && model_id.size() <= 63 &&
            !absl::ascii_isdigit(static_cast<unsigned char>(model_id[0])) && model_id[0] != '-';
  for (char c : model_id) {
    ok = ok && (absl::ascii_islower(static_cast<unsigned char>(c)) ||
                absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_');
  }
  if (ok) return absl::OkStatus();
  return Usage(absl::StrCat("--model-id: \"", model_id,
                            "\" must be 1-63 lowercase letters, digits, '_' or '-', not starting "
                            "with a digit or '-'"));
}

absl::StatusOr<v1::TrainingPipeline> BuildTrainingPipeline(const PipelineFlags& flags, absl::string_view location,
                                                           const std::optional<StagedScript>& script) {
  if (flags.display_name.empty()) return Usage("--display-name is required");
  if (flags.display_name.size() > 128) {
    return Usage("--display-name must be at most 128 characters");
  }
  KILN_ASSIGN_OR_RETURN(PipelineSource source, CheckPipelineSource(flags));
  if ((source == PipelineSource::kScript) != script.has_value()) {
    return absl::InternalError("the script must be staged for --script only");
  }
  if (flags.replica_count < 1) {
    return Usage("--replica-count must be >= 1 (1 primary + N-1 workers)");
  }
  if (flags.machine_type.empty()) return Usage("--machine-type is empty");
  if (flags.accelerator_count < 0) {
    return Usage("--accelerator-count must be >= 0");
  }
  v1::MachineSpec machine;
  machine.set_machine_type(flags.machine_type);
  const bool has_accelerator =
      !flags.accelerator_type.empty() && flags.accelerator_type != "ACCELERATOR_TYPE_UNSPECIFIED";
  if (has_accelerator) {
    KILN_ASSIGN_OR_RETURN(v1::AcceleratorType type, ParseAcceleratorType("--accelerator-type", flags.accelerator_type));
    machine.set_accelerator_type(type);
    machine.set_accelerator_count(std::max(flags.accelerator_count, 1));
  } else if (flags.accelerator_count > 0) {
    return Usage("--accelerator-count needs --accelerator-type");
  }

  KILN_ASSIGN_OR_RETURN(auto env_pairs, ParseKeyValueFlag("--env-vars", flags.env_vars));
  std::vector<v1::EnvVar> env;
  for (const auto& [name, value] : env_pairs) {
    v1::EnvVar& entry = env.emplace_back();
    entry.set_name(name);
    entry.set_value(value);
  }
  v1::CustomJobSpec inputs;
  v1::WorkerPoolSpec* primary = inputs.add_worker_pool_specs();
  *primary->mutable_machine_spec() = machine;
  primary->set_replica_count(1);
  SetTask(flags, source, script, env, primary);
  if (flags.replica_count > 1) {
    v1::WorkerPoolSpec* workers = inputs.add_worker_pool_specs();
    *workers = *primary;
    workers->set_replica_count(flags.replica_count - 1);
  }
  if (!flags.base_output_dir.empty()) {
    inputs.mutable_base_output_directory()->set_output_uri_prefix(flags.base_output_dir);
  }
  if (!flags.timeout.empty()) {
    KILN_ASSIGN_OR_RETURN(*inputs.mutable_scheduling()->mutable_timeout(), ParseTimeoutFlag(flags.timeout));
  }

  v1::TrainingPipeline pipeline;
  pipeline.set_display_name(flags.display_name);
  pipeline.set_training_task_definition(kCustomTaskDefinition);
  *pipeline.mutable_training_task_inputs() = MessageToValue(inputs);
  if (!flags.labels.empty()) {
    KILN_ASSIGN_OR_RETURN(auto labels, ParseLabels(flags.labels));
    pipeline.mutable_labels()->insert(labels.begin(), labels.end());
  }
  if (!WantsModel(flags)) return pipeline;
  KILN_ASSIGN_OR_RETURN(*pipeline.mutable_model_to_upload(), BuildModelToUpload(flags));
  if (!flags.parent_model.empty() && !flags.model_id.empty()) {
    return Usage(
        "--parent-model and --model-id exclude each other (a new version "
        "joins the parent's ID)");
  }
  if (!flags.parent_model.empty()) {
    KILN_ASSIGN_OR_RETURN(*pipeline.mutable_parent_model(),
                          ExpandModelName("--parent-model", location, flags.parent_model));
  }
  if (!flags.model_id.empty()) {
    KILN_RETURN_IF_ERROR(CheckModelId(flags.model_id));
    pipeline.set_model_id(flags.model_id);
  }
  return pipeline;
}

}  // namespace kiln::client
