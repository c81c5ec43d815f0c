// The CLI11 side of the verbs declared in model_verbs.h.

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/command_support.h"
#include "client/model_verbs.h"

namespace kiln::client {
namespace {

void AddModelArgument(CLI::App& verb, const NounSpec& noun, absl::string_view what, std::string* value) {
  verb.add_option("ID_OR_NAME", *value,
                  absl::StrCat(what,
                               ": an ID (expanded with --project and "
                               "--region) or a full name "
                               "projects/P/locations/R/",
                               noun.collection, "/ID"))
      ->required();
}

}  // namespace

void AddModelVersionsVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                          const CommandIo& io) {
  CLI::App* verb = AddVerbCommand(noun_command, "versions", "List the versions of one model");
  auto id_or_name = std::make_shared<std::string>();
  AddModelArgument(*verb, noun, "The model", id_or_name.get());
  auto args = std::make_shared<ListArgs>();
  verb->add_option("--filter", args->filter, "A ListModelVersions filter");
  verb->add_option("--page-size", args->page_size, "Items per request (default: the server's)");
  verb->add_option("--limit", args->limit, "Stop after this many versions (default: all)");
  verb->callback([spec = &noun, flags, id_or_name, args, io] {
    FinishCommand(RunModelVersions(*spec, *flags, *id_or_name, *args, *io.out, *io.err));
  });
}

void AddModelDeleteVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                        const CommandIo& io) {
  CLI::App* verb = AddVerbCommand(noun_command, "delete",
                                  "Delete a model with all its versions (ID), or one version "
                                  "(ID@VERSION); prints the long-running operation");
  auto id_or_name = std::make_shared<std::string>();
  AddModelArgument(*verb, noun, "The model or ID@VERSION", id_or_name.get());
  verb->callback([spec = &noun, flags, id_or_name, io] {
    FinishCommand(RunModelDelete(*spec, *flags, *id_or_name, *io.out, *io.err));
  });
}

void AddModelMergeAliasesVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                              const CommandIo& io) {
  CLI::App* verb =
      AddVerbCommand(noun_command, "merge-aliases", "Add (ALIAS) or remove (-ALIAS) aliases of one model version");
  auto id_or_name = std::make_shared<std::string>();
  AddModelArgument(*verb, noun, "The version, ID@VERSION", id_or_name.get());
  auto aliases = std::make_shared<std::string>();
  verb->add_option("--aliases", *aliases, "Comma-separated; write --aliases=a,-b to remove b")->required();
  verb->callback([spec = &noun, flags, id_or_name, aliases, io] {
    FinishCommand(RunMergeVersionAliases(*spec, *flags, *id_or_name, *aliases, *io.out, *io.err));
  });
}

void AddModelUploadVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                        const CommandIo& io) {
  CLI::App* verb =
      AddVerbCommand(noun_command, "upload", "Upload a model (or a new version of one) to the Model Registry");
  auto args = std::make_shared<ModelUploadArgs>();
  verb->add_option("--display-name", args->display_name, "Display name of the model (required)");
  verb->add_option("--artifact-uri", args->artifact_uri, "gs:// folder with the model files");
  verb->add_option("--container-image-uri", args->container_image_uri, "The serving image (containerSpec.imageUri)");
  verb->add_option("--description", args->description, "Model description");
  verb->add_option("--parent-model", args->parent_model, "Upload as a new version of this model (ID or name)");
  verb->add_option("--model-id", args->model_id, "The ID of the new model");
  verb->add_option("--version-aliases", args->version_aliases, "Aliases of the new version, comma-separated");
  verb->add_option("--labels", args->labels, "Labels as KEY=VALUE,...");
  auto timeout_seconds = std::make_shared<double>(1800);
  verb->add_option("--timeout", *timeout_seconds, "Seconds to wait for the upload operation")->capture_default_str();
  verb->callback([spec = &noun, flags, args, timeout_seconds, io] {
    args->timeout = absl::Seconds(*timeout_seconds);
    FinishCommand(RunModelUpload(*spec, *flags, *args, *io.out, *io.err));
  });
}

}  // namespace kiln::client
