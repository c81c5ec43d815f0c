#include "client/pipeline_flags.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/worker_pool_flags.h"
#include "common/status_macros.h"

namespace kiln::client {
namespace {

using nlohmann::json;

absl::Status Usage(absl::string_view message) { return absl::InvalidArgumentError(message); }

bool IsIdChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }

// ParseLabels reports errors as "--labels: ..."; rename the flag.
absl::StatusOr<json> ParseLabelsFlag(absl::string_view flag, absl::string_view text) {
  absl::StatusOr<json> labels = ParseLabels(text);
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

absl::StatusOr<json> BuildModelToUpload(const PipelineFlags& flags) {
  json model = {{"displayName", flags.model_display_name.empty() ? flags.display_name : flags.model_display_name}};
  if (!flags.model_description.empty()) {
    model["description"] = flags.model_description;
  }
  if (!flags.model_serving_container_image_uri.empty()) {
    model["containerSpec"] = {{"imageUri", flags.model_serving_container_image_uri}};
  }
  if (!flags.artifact_uri.empty()) model["artifactUri"] = flags.artifact_uri;
  if (!flags.version_aliases.empty()) {
    const std::vector<std::string> aliases = SplitListFlag(flags.version_aliases);
    KILN_RETURN_IF_ERROR(CheckVersionAliases("--version-aliases", aliases, false));
    model["versionAliases"] = aliases;
  }
  if (!flags.model_labels.empty()) {
    KILN_ASSIGN_OR_RETURN(model["labels"], ParseLabelsFlag("--model-labels", flags.model_labels));
  }
  return model;
}

// The task part of a worker pool: containerSpec or pythonPackageSpec.
json TaskSpec(const PipelineFlags& flags, PipelineSource source, const std::optional<StagedScript>& script) {
  json spec;
  switch (source) {
    case PipelineSource::kContainer:
      spec = {{"imageUri", flags.container_image_uri}};
      if (!flags.command.empty()) spec["command"] = SplitListFlag(flags.command);
      break;
    case PipelineSource::kPythonPackage:
      spec = {{"executorImageUri", flags.container_uri},
              {"packageUris", SplitListFlag(flags.python_package_uris)},
              {"pythonModule", flags.python_module}};
      break;
    case PipelineSource::kScript:
      spec = {{"executorImageUri", flags.container_uri},
              {"packageUris", json::array({script->package_uri})},
              {"pythonModule", script->python_module}};
      break;
  }
  std::vector<std::string> args = SplitListFlag(flags.args);
  args.insert(args.end(), flags.arg.begin(), flags.arg.end());
  if (!args.empty()) spec["args"] = std::move(args);
  return spec;
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

absl::StatusOr<json> BuildTrainingPipeline(const PipelineFlags& flags, absl::string_view location,
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
  json machine = {{"machineType", flags.machine_type}};
  const bool has_accelerator =
      !flags.accelerator_type.empty() && flags.accelerator_type != "ACCELERATOR_TYPE_UNSPECIFIED";
  if (has_accelerator) {
    machine["acceleratorType"] = flags.accelerator_type;
    machine["acceleratorCount"] = std::max(flags.accelerator_count, 1);
  } else if (flags.accelerator_count > 0) {
    return Usage("--accelerator-count needs --accelerator-type");
  }

  json task = TaskSpec(flags, source, script);
  KILN_ASSIGN_OR_RETURN(auto env_pairs, ParseKeyValueFlag("--env-vars", flags.env_vars));
  if (!env_pairs.empty()) {
    task["env"] = json::array();
    for (const auto& [name, value] : env_pairs) {
      task["env"].push_back({{"name", name}, {"value", value}});
    }
  }
  const char* task_key = source == PipelineSource::kContainer ? "containerSpec" : "pythonPackageSpec";
  json pools = json::array();
  pools.push_back({{"machineSpec", machine}, {"replicaCount", "1"}, {task_key, task}});
  if (flags.replica_count > 1) {
    pools.push_back(
        {{"machineSpec", machine}, {"replicaCount", absl::StrCat(flags.replica_count - 1)}, {task_key, task}});
  }
  json inputs = {{"workerPoolSpecs", std::move(pools)}};
  if (!flags.base_output_dir.empty()) {
    inputs["baseOutputDirectory"] = {{"outputUriPrefix", flags.base_output_dir}};
  }
  if (!flags.timeout.empty()) {
    KILN_ASSIGN_OR_RETURN(std::string timeout, ParseTimeoutFlag(flags.timeout));
    inputs["scheduling"] = {{"timeout", timeout}};
  }

  json pipeline = {{"displayName", flags.display_name},
                   {"trainingTaskDefinition", kCustomTaskDefinition},
                   {"trainingTaskInputs", std::move(inputs)}};
  if (!flags.labels.empty()) {
    KILN_ASSIGN_OR_RETURN(pipeline["labels"], ParseLabels(flags.labels));
  }
  if (!WantsModel(flags)) return pipeline;
  KILN_ASSIGN_OR_RETURN(pipeline["modelToUpload"], BuildModelToUpload(flags));
  if (!flags.parent_model.empty() && !flags.model_id.empty()) {
    return Usage(
        "--parent-model and --model-id exclude each other (a new version "
        "joins the parent's ID)");
  }
  if (!flags.parent_model.empty()) {
    KILN_ASSIGN_OR_RETURN(pipeline["parentModel"], ExpandModelName("--parent-model", location, flags.parent_model));
  }
  if (!flags.model_id.empty()) {
    KILN_RETURN_IF_ERROR(CheckModelId(flags.model_id));
    pipeline["modelId"] = flags.model_id;
  }
  return pipeline;
}

}  // namespace kiln::client
