// The CLI11 side of the verbs declared in pipeline_verbs.h.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/command_support.h"
#include "client/pipeline_verbs.h"

namespace kiln::client {
namespace {

bool ErrIsTerminal(const CommandIo& io) { return io.err == &std::cerr && isatty(STDERR_FILENO) == 1; }

void AddSourceFlags(CLI::App& verb, PipelineFlags& p) {
  verb.add_option("--python-package-uris", p.python_package_uris,
                  "Python package source: gs:// URIs of sdists, "
                  "comma-separated (with --python-module and "
                  "--container-uri)");
  verb.add_option("--python-module", p.python_module, "The module to run, e.g. trainer.task");
  verb.add_option("--container-uri", p.container_uri,
                  "The executor image that runs --python-package-uris or "
                  "--script");
  verb.add_option("--script", p.script,
                  "Script source: a local python file, packaged and uploaded "
                  "to --staging-bucket (with --container-uri)");
  verb.add_option("--staging-bucket", p.staging_bucket,
                  "gs://BUCKET[/PREFIX] for the packaged --script (default: "
                  "--base-output-dir)");
  verb.add_option("--container-image-uri", p.container_image_uri, "Custom container source: the training image");
  verb.add_option("--command", p.command, "Entrypoint of --container-image-uri, comma-separated");
}

void AddMachineFlags(CLI::App& verb, PipelineFlags& p) {
  verb.add_option("--args", p.args, "Arguments, comma-separated; write --args=--flag,...");
  verb.add_option("--arg", p.arg,
                  "One argument (repeat; may contain commas); appended after "
                  "--args")
      ->allow_extra_args(false);
  verb.add_option("--replica-count", p.replica_count, "Replicas: 1 primary (pool 0) plus N-1 workers (pool 1)")
      ->capture_default_str();
  verb.add_option("--machine-type", p.machine_type, "Machine type")->capture_default_str();
  verb.add_option("--accelerator-type", p.accelerator_type, "e.g. NVIDIA_TESLA_T4");
  verb.add_option("--accelerator-count", p.accelerator_count, "Accelerators per replica (default 1 with a type)");
  verb.add_option("--env-vars", p.env_vars, "Environment as KEY=VALUE,...");
  verb.add_option("--timeout", p.timeout, "scheduling.timeout: 3600s, 3600 or 2h");
  verb.add_option("--base-output-dir", p.base_output_dir, "baseOutputDirectory.outputUriPrefix (gs://...)");
  verb.add_option("--labels", p.labels, "Pipeline labels as KEY=VALUE,...");
}

void AddModelFlags(CLI::App& verb, PipelineFlags& p) {
  verb.add_option("--model-display-name", p.model_display_name,
                  "Display name of the model to upload (default: "
                  "--display-name); any --model-* flag, --parent-model, "
                  "--model-id, --version-aliases or --artifact-uri uploads a "
                  "model");
  verb.add_option("--model-serving-container-image-uri", p.model_serving_container_image_uri,
                  "modelToUpload.containerSpec.imageUri");
  verb.add_option("--model-description", p.model_description, "modelToUpload.description");
  verb.add_option("--parent-model", p.parent_model, "Upload as a new version of this model (ID or name)");
  verb.add_option("--model-id", p.model_id, "The ID of the new model");
  verb.add_option("--version-aliases", p.version_aliases, "Aliases of the new model version, comma-separated");
  verb.add_option("--model-labels", p.model_labels, "Model labels as KEY=VALUE,...");
  verb.add_option("--artifact-uri", p.artifact_uri,
                  "modelToUpload.artifactUri (default: "
                  "<base-output-dir>/model/)");
}

}  // namespace

void AddPipelineCreateVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                           const CommandIo& io) {
  CLI::App* verb = AddVerbCommand(noun_command, "create",
                                  absl::StrCat("Create one of the ", noun.title,
                                               " running custom training (flags as the Python SDK's "
                                               "Custom*TrainingJob)"));
  auto args = std::make_shared<PipelineCreateArgs>();
  verb->add_option("--display-name", args->pipeline.display_name, "Display name of the pipeline (required)");
  AddSourceFlags(*verb, args->pipeline);
  AddMachineFlags(*verb, args->pipeline);
  AddModelFlags(*verb, args->pipeline);
  verb->add_flag("--watch", args->watch,
                 "Follow the pipeline until it is final; exit 0 only if it "
                 "SUCCEEDED");
  verb->callback([spec = &noun, flags, args, io] {
    args->follow.tty = ErrIsTerminal(io);
    FinishCommand(RunPipelineCreate(*spec, *flags, *args, *io.out, *io.err));
  });
}

void AddPipelineWaitVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                         const CommandIo& io) {
  CLI::App* verb =
      AddVerbCommand(noun_command, "wait",
                     absl::StrCat("Wait until one of the ", noun.title, " is final; exit 0 only if it SUCCEEDED"));
  auto id_or_name = std::make_shared<std::string>();
  verb->add_option("ID_OR_NAME", *id_or_name,
                   absl::StrCat("An ID (expanded with --project and "
                                "--region) or a full name "
                                "projects/P/locations/R/",
                                noun.collection, "/ID"))
      ->required();
  auto timeout_seconds = std::make_shared<double>(0);
  verb->add_option("--timeout", *timeout_seconds, "Give up after this many seconds (0: no limit)")
      ->capture_default_str();
  verb->callback([spec = &noun, flags, id_or_name, timeout_seconds, io] {
    PipelineFollowOptions options;
    options.timeout = absl::Seconds(*timeout_seconds);
    options.tty = ErrIsTerminal(io);
    FinishCommand(RunPipelineWait(*spec, *flags, *id_or_name, options, *io.out, *io.err));
  });
}

}  // namespace kiln::client
