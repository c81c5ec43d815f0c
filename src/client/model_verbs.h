#ifndef KILN_CLIENT_MODEL_VERBS_H_
#define KILN_CLIENT_MODEL_VERBS_H_

// The verbs only `kiln models` has (Model Registry): versions, a delete that
// also deletes single versions, merge-aliases and upload; list and describe
// (which takes ID@VERSION and ID@ALIAS) are the generic ones (verbs.h). Same
// shape as verbs.h: Run<Verb> returns the exit code (0 ok, 1 API error, 2
// usage); Add<Verb>Verb is the VerbRegistrar.

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/client_config.h"
#include "client/nouns.h"
#include "client/output.h"
#include "client/verbs.h"
#include "google/cloud/aiplatform/v1/model_service.pb.h"

namespace kiln::client {

// VERSION, ALIASES, DISPLAY_NAME, VERSION_CREATE_TIME.
const std::vector<Column>& ModelVersionColumns();

// GET /v1/{name}:listVersions, following nextPageToken ("models" holds the
// versions) up to args.limit; args.filter and page_size are sent as is.
// Default format: table (ModelVersionColumns). ID@VERSION is a usage error.
int RunModelVersions(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name, const ListArgs& args,
                     std::ostream& out, std::ostream& err);

// ID: DELETE /v1/{name} (the model and all its versions). ID@VERSION:
// DELETE /v1/{name}@{version}:deleteVersion (DeleteModelVersion's http rule).
// Prints the Operation (default yaml) to `out` and "Delete request issued for
// [NAME]." to `err`.
int RunModelDelete(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name, std::ostream& out,
                   std::ostream& err);

// POST /v1/{name}@{version}:mergeVersionAliases {"versionAliases": [...]}
// with the comma-separated `aliases` ("-alias" removes one); prints the
// returned Model (default yaml). The version is required.
int RunMergeVersionAliases(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name,
                           absl::string_view aliases, std::ostream& out, std::ostream& err);

// `kiln models upload` flags; empty strings are "not given".
struct ModelUploadArgs {
  std::string display_name;                    // required
  std::string artifact_uri;                    // model.artifactUri
  std::string container_image_uri;             // model.containerSpec.imageUri
  std::string description;                     // model.description
  std::string parent_model;                    // ID or name -> parentModel
  std::string model_id;                        // -> modelId
  std::string version_aliases;                 // a,b -> model.versionAliases
  std::string labels;                          // k=v,... -> model.labels
  absl::Duration timeout = absl::Minutes(30);  // For the operation.
  absl::Duration poll_interval = absl::Seconds(1);
};

// The UploadModelRequest body {"model": {...}, "parentModel"?, "modelId"?}
// (its `parent` is the path's). Needs --display-name and at least one of
// --artifact-uri and --container-image-uri; `location` expands a
// --parent-model ID.
absl::StatusOr<google::cloud::aiplatform::v1::UploadModelRequest> BuildUploadModelRequest(const ModelUploadArgs& args,
                                                                                          absl::string_view location);

// POST /v1/{parent}/models:upload, then polls GET /v1/{operation} until it is
// done. stdout: the model's name (or operation.response in --format when
// given on the command line); stderr: "Model: NAME version V". Exit 1 when
// the operation failed or is not done within args.timeout.
int RunModelUpload(const NounSpec& noun, const ConfigFlags& flags, const ModelUploadArgs& args, std::ostream& out,
                   std::ostream& err);

void AddModelVersionsVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                          const CommandIo& io);
void AddModelDeleteVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                        const CommandIo& io);
void AddModelMergeAliasesVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                              const CommandIo& io);
void AddModelUploadVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                        const CommandIo& io);

}  // namespace kiln::client

#endif  // KILN_CLIENT_MODEL_VERBS_H_
