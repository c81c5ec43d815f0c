#include "client/nouns.h"

#include "client/custom_job_verbs.h"
#include "client/model_verbs.h"
#include "client/pipeline_verbs.h"
#include "client/storage_verbs.h"
#include "client/verbs.h"

namespace kiln::client {
namespace {

// Columns shared by the job-like nouns.
std::vector<Column> JobColumns() {
  return {{"ID", "name", ColumnKind::kLastSegment},
          {"DISPLAY_NAME", "displayName"},
          {"STATE", "state"},
          {"CREATE_TIME", "createTime"}};
}

std::vector<NounSpec>* BuildNouns() {
  const std::vector<VerbRegistrar> job_verbs = {AddListVerb, AddDescribeVerb, AddCancelVerb, AddDeleteVerb};
  auto* nouns = new std::vector<NounSpec>;
  nouns->push_back({.name = "custom-jobs",
                    .title = "custom jobs",
                    .collection = "customJobs",
                    .columns = JobColumns(),
                    .verbs = {AddCreateVerb, AddListVerb, AddJobDescribeVerb, AddLogsVerb, AddJobWaitVerb,
                              AddCancelVerb, AddDeleteVerb}});
  nouns->push_back({.name = "pipelines",
                    .title = "training pipelines",
                    .collection = "trainingPipelines",
                    .columns = JobColumns(),
                    .verbs = {AddPipelineCreateVerb, AddListVerb, AddDescribeVerb, AddPipelineWaitVerb, AddCancelVerb,
                              AddDeleteVerb}});
  nouns->push_back({.name = "hp-tuning-jobs",
                    .title = "hyperparameter tuning jobs",
                    .collection = "hyperparameterTuningJobs",
                    .columns = JobColumns(),
                    .verbs = job_verbs});
  nouns->push_back({.name = "datasets",
                    .title = "datasets",
                    .collection = "datasets",
                    .columns = {{"ID", "name", ColumnKind::kLastSegment},
                                {"DISPLAY_NAME", "displayName"},
                                {"CREATE_TIME", "createTime"}},
                    .verbs = {AddListVerb, AddDescribeVerb, AddDeleteVerb}});
  nouns->push_back({.name = "models",
                    .title = "models",
                    .collection = "models",
                    .versioned_ids = true,
                    .columns = {{"ID", "name", ColumnKind::kLastSegment},
                                {"DISPLAY_NAME", "displayName"},
                                {"VERSION", "versionId"},
                                {"ALIASES", "versionAliases"},
                                {"CREATE_TIME", "createTime"}},
                    .verbs = {AddModelUploadVerb, AddListVerb, AddDescribeVerb, AddModelVersionsVerb,
                              AddModelMergeAliasesVerb, AddModelDeleteVerb}});
  nouns->push_back({.name = "operations",
                    .title = "long-running operations",
                    .collection = "operations",
                    .columns = OperationColumns(),
                    .verbs = {AddListVerb, AddDescribeVerb, AddDeleteVerb, AddWaitVerb}});
  nouns->push_back({.name = "storage",
                    .title = "objects in kiln's storage",
                    .collection = "gs://",
                    .columns = {},
                    .verbs = {AddStorageCopyVerb, AddStorageListVerb, AddStorageCatVerb, AddStorageRemoveVerb}});
  return nouns;
}

}  // namespace

const std::vector<NounSpec>& ClientNouns() {
  static const std::vector<NounSpec>* const kNouns = BuildNouns();
  return *kNouns;
}

const NounSpec* FindNoun(absl::string_view name) {
  for (const NounSpec& noun : ClientNouns()) {
    if (noun.name == name) return &noun;
  }
  return nullptr;
}

const std::vector<Column>& OperationColumns() {
  static const std::vector<Column>* const kColumns =
      new std::vector<Column>{{"NAME", "name"}, {"DONE", "done", ColumnKind::kBool}};
  return *kColumns;
}

}  // namespace kiln::client
