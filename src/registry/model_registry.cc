// ModelRegistry: uploads and deletes (the reads and alias changes are in model_registry_queries.cc).
#include "registry/model_registry.h"
#include "protojson/proto_time.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "registry/records.h"
#include "registry/snapshot.h"

namespace kiln::registry {
namespace {

namespace fs = std::filesystem;
using internal::Model;

// A name no other upload (of this or another process) uses, under <bucket root>/.staging/.
std::string UniqueName() {
  static std::atomic<int64_t> counter{0};
  return absl::StrCat(getpid(), "-", absl::ToUnixNanos(absl::Now()), "-", counter.fetch_add(1));
}

// The fields of an uploaded model that are the server's to set.
Model InputFields(const Model& in) {
  Model m = in;
  for (int field :
       {Model::kNameFieldNumber, Model::kVersionIdFieldNumber, Model::kVersionCreateTimeFieldNumber,
        Model::kVersionUpdateTimeFieldNumber, Model::kCreateTimeFieldNumber, Model::kUpdateTimeFieldNumber,
        Model::kTrainingPipelineFieldNumber, Model::kSupportedExportFormatsFieldNumber,
        Model::kSupportedDeploymentResourcesTypesFieldNumber, Model::kSupportedInputStorageFormatsFieldNumber,
        Model::kSupportedOutputStorageFormatsFieldNumber, Model::kDeployedModelsFieldNumber, Model::kEtagFieldNumber,
        Model::kModelSourceInfoFieldNumber, Model::kOriginalModelInfoFieldNumber, Model::kMetadataArtifactFieldNumber,
        Model::kSatisfiesPzsFieldNumber, Model::kSatisfiesPziFieldNumber, Model::kCheckpointsFieldNumber}) {
    m.GetReflection()->ClearField(&m, Model::descriptor()->FindFieldByNumber(field));
  }
  return m;
}

absl::Status ValidateUpload(const ModelRegistry::UploadRequest& request, ModelRef* parent_model) {
  if (absl::Status s = ModelRef::Parse(absl::StrCat(request.parent, "/models/x"), "parent").status(); !s.ok()) {
    return FieldError("parent", absl::StrCat("\"", request.parent,
                                             "\" is not a location; want projects/{project}/locations/{location}"));
  }
  KILN_RETURN_IF_ERROR(ValidateUploadedModel("model", request.model));
  if (!request.model_id.empty()) KILN_RETURN_IF_ERROR(ValidateModelId("modelId", request.model_id));
  if (!request.parent_model.empty()) {
    KILN_ASSIGN_OR_RETURN(*parent_model, ModelRef::Parse(request.parent_model, "parentModel"));
    if (!parent_model->version.empty()) return FieldError("parentModel", "must name a model, without @version");
    if (parent_model->location != request.parent) {
      return FieldError("parentModel", absl::StrCat("must be a model in ", request.parent));
    }
    if (!request.model_id.empty() && request.model_id != parent_model->model_id) {
      return FieldError("modelId", "must be empty (or parentModel's id) when parentModel is set");
    }
  }
  return absl::OkStatus();
}

}  // namespace

ModelRegistry::ModelRegistry(store::Store* store, const storage::ObjectStore* objects, const Clock* clock)
    : store_(store), objects_(objects), clock_(clock) {}

absl::StatusOr<std::string> ModelRegistry::BucketRoot() const {
  KILN_ASSIGN_OR_RETURN(std::string root, objects_->ToLocalPath(absl::StrCat("gs://", kBucket), "registry bucket"));
  std::error_code ec;
  fs::create_directories(fs::path(root) / ".staging", ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create the registry bucket ", root, ": ", ec.message()));
  return root;
}

absl::StatusOr<ModelRegistry::UploadResult> ModelRegistry::Upload(const UploadRequest& request,
                                                                  const InCommit& in_commit) const {
  ModelRef parent_ref;
  KILN_RETURN_IF_ERROR(ValidateUpload(request, &parent_ref));
  const std::string idem_key =
      request.idempotency_key.empty() ? "" : internal::IdempotencyKey(request.parent, request.idempotency_key);

  // Cheap checks before copying anything (repeated in the commit, which decides).
  bool repeat = false;
  KILN_RETURN_IF_ERROR(store_->Read([&](store::Transaction& tx) -> absl::Status {
    if (!idem_key.empty()) {
      if (absl::StatusOr<std::string> existing = tx.GetMeta(idem_key); existing.ok()) {
        absl::StatusOr<ModelRef> ref = ModelRef::Parse(*existing);
        repeat = ref.ok() && internal::ResolveVersion(tx, *ref).ok();  // a deleted version is uploaded anew
        if (repeat) return absl::OkStatus();
      }
    }
    if (!request.parent_model.empty()) return internal::GetModelRecord(tx, parent_ref.ModelName()).status();
    if (!request.model_id.empty() && tx.Get(absl::StrCat(request.parent, "/models/", request.model_id)).ok()) {
      return absl::AlreadyExistsError(
          absl::StrCat("Model ", request.parent, "/models/", request.model_id, " already exists."));
    }
    return absl::OkStatus();
  }));

  std::string bucket, staging, final_dir, stats_digest;
  if (!request.model.artifact_uri().empty() && !repeat) {
    KILN_ASSIGN_OR_RETURN(std::string source, objects_->ToLocalPath(request.model.artifact_uri(), "model.artifactUri"));
    KILN_ASSIGN_OR_RETURN(bucket, BucketRoot());
    staging = (fs::path(bucket) / ".staging" / UniqueName()).string();
    absl::StatusOr<SnapshotStats> stats = SnapshotTree(source, staging, request.model.artifact_uri());
    if (!stats.ok()) {
      std::error_code ec;
      fs::remove_all(staging, ec);
      return stats.status();
    }
    stats_digest = stats->digest;
  }

  UploadResult result;
  std::string digest = stats_digest;
  std::string moved_version;  // the version whose snapshot was moved into place
  absl::Status status = store_->Write([&](store::Transaction& tx) -> absl::Status {
    if (!idem_key.empty()) {
      if (absl::StatusOr<std::string> existing = tx.GetMeta(idem_key); existing.ok()) {
        absl::StatusOr<ModelRef> ref = ModelRef::Parse(*existing);
        absl::StatusOr<Model> version = ref.ok() ? internal::ResolveVersion(tx, *ref) : ref.status();
        if (version.ok()) {
          KILN_ASSIGN_OR_RETURN(Model record, internal::GetModelRecord(tx, version->name()));
          result.model = internal::View(*version, record);
          result.version_id = version->version_id();
          return in_commit ? in_commit(tx, result.model) : absl::OkStatus();
        }
        if (version.status().code() != absl::StatusCode::kNotFound) return version.status();
        // The version was deleted since: upload anew.
      }
    }
    if (repeat)
      return absl::AbortedError("the model version for this idempotency key was deleted during the upload; retry");
    absl::Time now = clock_->Now();
    Model record;
    bool new_model = request.parent_model.empty();
    if (new_model) {
      std::string id = request.model_id;
      if (id.empty()) {
        KILN_ASSIGN_OR_RETURN(int64_t n, tx.NextId("resources"));
        id = absl::StrCat(n);
      }
      record.set_name(absl::StrCat(request.parent, "/models/", id));
      if (tx.Get(record.name()).ok())
        return absl::AlreadyExistsError(absl::StrCat("Model ", record.name(), " already exists."));
      record.set_display_name(request.model.display_name());
      record.set_description(request.model.description());
      *record.mutable_create_time() = protojson::ToTimestamp(now);
    } else {
      KILN_ASSIGN_OR_RETURN(record, internal::GetModelRecord(tx, parent_ref.ModelName()));
    }
    *record.mutable_update_time() = protojson::ToTimestamp(now);

    int64_t last = 0;
    if (absl::StatusOr<std::string> v = tx.GetMeta(internal::VersionCounterKey(record.name())); v.ok()) {
      if (!absl::SimpleAtoi(*v, &last)) return absl::DataLossError("a model version counter does not parse");
    }
    std::string version_id = absl::StrCat(last + 1);
    KILN_RETURN_IF_ERROR(tx.PutMeta(internal::VersionCounterKey(record.name()), version_id));

    Model version = InputFields(request.model);
    version.set_name(record.name());
    version.set_version_id(version_id);
    *version.mutable_version_create_time() = protojson::ToTimestamp(now);
    *version.mutable_version_update_time() = protojson::ToTimestamp(now);
    version.set_training_pipeline(request.training_pipeline);
    bool has_default = false;
    for (const std::string& a : version.version_aliases()) has_default = has_default || a == kDefaultAlias;
    if (new_model && !has_default) version.add_version_aliases(kDefaultAlias);
    for (const std::string& alias : version.version_aliases()) {
      KILN_RETURN_IF_ERROR(internal::TakeAlias(tx, record.name(), alias, version_id, now));
    }
    std::string version_name = internal::VersionName(record.name(), version_id);
    if (!staging.empty()) {
      std::string rel = internal::SnapshotPath(record.name(), version_id);
      final_dir = (fs::path(bucket) / rel).string();
      version.set_artifact_uri(absl::StrCat("gs://", kBucket, "/", rel, "/"));
      std::error_code ec;
      fs::remove_all(final_dir, ec);  // a leftover of a crash: this version id was never committed
      fs::create_directories(fs::path(final_dir).parent_path(), ec);
      if (!ec) fs::rename(staging, final_dir, ec);
      if (ec) return absl::InternalError(absl::StrCat("cannot move the snapshot to ", final_dir, ": ", ec.message()));
      moved_version = version_name;
      KILN_RETURN_IF_ERROR(tx.PutMeta(internal::DigestKey(version_name), digest));
    }
    KILN_RETURN_IF_ERROR(internal::PutVersion(tx, version, /*insert=*/true));
    if (!idem_key.empty()) KILN_RETURN_IF_ERROR(tx.PutMeta(idem_key, version_name));
    KILN_RETURN_IF_ERROR(internal::SaveModelRecord(tx, record, request.parent, new_model));
    result.model = internal::View(version, record);
    result.version_id = version_id;
    return in_commit ? in_commit(tx, result.model) : absl::OkStatus();
  });
  std::error_code ec;
  if (!status.ok() && !moved_version.empty()) {
    // Under the store's write lock, so no later upload of the same version id can be racing us.
    (void)store_->Write([&](store::Transaction& tx) -> absl::Status {
      if (tx.Get(moved_version).ok()) return absl::OkStatus();
      fs::remove_all(final_dir, ec);
      for (fs::path p = fs::path(final_dir).parent_path(); p != fs::path(bucket) && p.has_relative_path();
           p = p.parent_path()) {
        if (!fs::remove(p, ec)) break;  // only empty folders go
      }
      return absl::OkStatus();
    });
  }
  if (!staging.empty()) fs::remove_all(staging, ec);  // still there unless it was moved into place
  if (!status.ok()) return status;
  return result;
}

absl::Status ModelRegistry::DeleteVersion(absl::string_view name, const InCommit& in_commit) const {
  KILN_ASSIGN_OR_RETURN(ModelRef ref, ModelRef::Parse(name));
  if (ref.version.empty() || ref.version == "-") {
    return FieldError("name", "must name a version: projects/{project}/locations/{location}/models/{model}@{version}");
  }
  KILN_ASSIGN_OR_RETURN(std::string bucket, BucketRoot());
  std::string trash = (fs::path(bucket) / ".staging" / absl::StrCat(UniqueName(), "-deleted")).string();
  std::string snapshot;
  absl::Status status = store_->Write([&](store::Transaction& tx) -> absl::Status {
    KILN_ASSIGN_OR_RETURN(Model version, internal::ResolveVersion(tx, ref));
    std::string version_name = internal::VersionName(version.name(), version.version_id());
    for (const std::string& a : version.version_aliases()) {
      if (a == kDefaultAlias) {
        return absl::FailedPreconditionError(
            absl::StrCat("Model version ", version_name,
                         " is the default version; make another version the default "
                         "(mergeVersionAliases with \"default\") or delete the whole model."));
      }
    }
    KILN_ASSIGN_OR_RETURN(Model record, internal::GetModelRecord(tx, version.name()));
    *record.mutable_update_time() = protojson::ToTimestamp(clock_->Now());
    KILN_RETURN_IF_ERROR(tx.Delete(version_name));
    if (absl::Status s = tx.DeleteMeta(internal::DigestKey(version_name)); !s.ok() && !absl::IsNotFound(s)) return s;
    KILN_RETURN_IF_ERROR(internal::SaveModelRecord(tx, record, ref.location, /*insert=*/false));
    if (in_commit) KILN_RETURN_IF_ERROR(in_commit(tx, internal::View(version, record)));
    std::string dir = (fs::path(bucket) / internal::SnapshotPath(version.name(), version.version_id())).string();
    std::error_code ec;
    if (fs::exists(dir, ec)) {
      fs::rename(dir, trash, ec);
      if (ec) return absl::InternalError(absl::StrCat("cannot remove the snapshot ", dir, ": ", ec.message()));
      snapshot = dir;
    }
    return absl::OkStatus();
  });
  std::error_code ec;
  if (!snapshot.empty()) {
    if (status.ok()) {
      fs::remove_all(trash, ec);
    } else {
      fs::rename(trash, snapshot, ec);  // the commit failed: the version is still there
    }
  }
  return status;
}

absl::Status ModelRegistry::DeleteModel(absl::string_view name, const InCommit& in_commit) const {
  KILN_ASSIGN_OR_RETURN(ModelRef ref, ModelRef::Parse(name));
  if (!ref.version.empty() && ref.version != "-") {
    return FieldError("name", "must name a model without @version; use deleteVersion to delete one version");
  }
  KILN_ASSIGN_OR_RETURN(std::string bucket, BucketRoot());
  std::string trash = (fs::path(bucket) / ".staging" / absl::StrCat(UniqueName(), "-deleted")).string();
  std::string snapshots;
  absl::Status status = store_->Write([&](store::Transaction& tx) -> absl::Status {
    std::string model = ref.ModelName();
    KILN_ASSIGN_OR_RETURN(Model record, internal::GetModelRecord(tx, model));
    KILN_ASSIGN_OR_RETURN(std::vector<Model> versions, internal::AllVersions(tx, model));
    for (const Model& v : versions) {
      std::string version_name = internal::VersionName(model, v.version_id());
      KILN_RETURN_IF_ERROR(tx.Delete(version_name));
      if (absl::Status s = tx.DeleteMeta(internal::DigestKey(version_name)); !s.ok() && !absl::IsNotFound(s)) return s;
    }
    KILN_RETURN_IF_ERROR(tx.Delete(model));
    if (absl::Status s = tx.DeleteMeta(internal::VersionCounterKey(model)); !s.ok() && !absl::IsNotFound(s)) return s;
    if (in_commit) KILN_RETURN_IF_ERROR(in_commit(tx, record));
    std::string dir = (fs::path(bucket) / model).string();
    std::error_code ec;
    if (fs::exists(dir, ec)) {
      fs::rename(dir, trash, ec);
      if (ec) return absl::InternalError(absl::StrCat("cannot remove the snapshots in ", dir, ": ", ec.message()));
      snapshots = dir;
    }
    return absl::OkStatus();
  });
  std::error_code ec;
  if (!snapshots.empty()) {
    if (status.ok()) {
      fs::remove_all(trash, ec);
    } else {
      fs::rename(trash, snapshots, ec);
    }
  }
  return status;
}

absl::StatusOr<std::string> ModelRegistry::Digest(absl::string_view name) const {
  KILN_ASSIGN_OR_RETURN(ModelRef ref, ModelRef::Parse(name));
  std::string digest;
  KILN_RETURN_IF_ERROR(store_->Read([&](store::Transaction& tx) -> absl::Status {
    KILN_ASSIGN_OR_RETURN(Model version, internal::ResolveVersion(tx, ref));
    absl::StatusOr<std::string> d =
        tx.GetMeta(internal::DigestKey(internal::VersionName(version.name(), version.version_id())));
    if (d.ok()) digest = *d;
    return d.ok() || absl::IsNotFound(d.status()) ? absl::OkStatus() : d.status();
  }));
  return digest;
}

}  // namespace kiln::registry
