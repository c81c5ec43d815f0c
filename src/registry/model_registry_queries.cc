// ModelRegistry: reads, lists, alias merges and updates.
#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "filter/filter.h"
#include "protojson/proto_time.h"
#include "registry/model_registry.h"
#include "registry/records.h"
#include "store/page_token.h"

namespace kiln::registry {
namespace {

using internal::Model;

const std::vector<filter::FieldSpec>& ModelFilterFields() {
  static const auto* kFields = new std::vector<filter::FieldSpec>{
      {"display_name", "display_name"}, {"labels", "labels"},         {"create_time", "create_time"},
      {"update_time", "update_time"},   {"version_id", "version_id"},
  };
  return *kFields;
}

const std::vector<filter::FieldSpec>& VersionFilterFields() {
  static const auto* kFields = new std::vector<filter::FieldSpec>{
      {"labels", "labels"},
      {"version_id", "version_id"},
      {"version_create_time", "version_create_time"},
      {"version_update_time", "version_update_time"},
      {"display_name", "display_name"},
  };
  return *kFields;
}

// One page of `kind` under `parent`, each item passed through `view` (built by `prepare` inside the
// read transaction) before the filter sees it.
absl::StatusOr<ModelRegistry::ListResult> ListKind(
    store::Store& store, absl::string_view kind, const ModelRegistry::ListRequest& request,
    const std::vector<filter::FieldSpec>& fields,
    const std::function<absl::StatusOr<std::function<Model(Model)>>(store::Transaction&)>& prepare) {
  KILN_ASSIGN_OR_RETURN(int size, store::EffectivePageSize(request.page_size));
  std::string fingerprint = store::QueryFingerprint({kind, request.parent, request.filter});
  KILN_ASSIGN_OR_RETURN(store::PageCursor cursor, store::DecodePageToken(request.page_token, fingerprint));
  KILN_ASSIGN_OR_RETURN(filter::Filter filter, filter::Filter::Parse(request.filter, Model::descriptor(), fields));
  ModelRegistry::ListResult result;
  KILN_RETURN_IF_ERROR(store.Read([&](store::Transaction& tx) -> absl::Status {
    KILN_ASSIGN_OR_RETURN(std::function<Model(Model)> view, prepare(tx));
    int64_t after = cursor.after_seq, last_returned = cursor.after_seq;
    constexpr int kBatch = 256;
    while (true) {
      KILN_ASSIGN_OR_RETURN(std::vector<store::Resource> batch, tx.List(kind, request.parent, after, kBatch));
      for (const store::Resource& r : batch) {
        after = r.seq;
        Model m;
        if (!m.ParseFromString(r.data)) return absl::DataLossError(absl::StrCat(r.name, " does not parse"));
        m = view(std::move(m));
        if (!filter.Matches(m)) continue;
        if (static_cast<int>(result.models.size()) == size) {
          result.next_page_token = store::EncodePageToken({last_returned}, fingerprint);
          return absl::OkStatus();
        }
        result.models.push_back(std::move(m));
        last_returned = r.seq;
      }
      if (static_cast<int>(batch.size()) < kBatch) return absl::OkStatus();
    }
  }));
  return result;
}

bool HasAlias(const Model& m, absl::string_view alias) {
  return std::find(m.version_aliases().begin(), m.version_aliases().end(), alias) != m.version_aliases().end();
}

}  // namespace

absl::StatusOr<Model> ModelRegistry::Get(absl::string_view name) const {
  KILN_ASSIGN_OR_RETURN(ModelRef ref, ModelRef::Parse(name));
  Model model;
  KILN_RETURN_IF_ERROR(store_->Read([&](store::Transaction& tx) -> absl::Status {
    KILN_ASSIGN_OR_RETURN(Model record, internal::GetModelRecord(tx, ref.ModelName()));
    if (ref.version.empty() || ref.version == "-") {
      model = std::move(record);
      return absl::OkStatus();
    }
    KILN_ASSIGN_OR_RETURN(Model version, internal::ResolveVersion(tx, ref));
    model = internal::View(version, record);
    return absl::OkStatus();
  }));
  return model;
}

absl::StatusOr<ModelRegistry::ListResult> ModelRegistry::ListModels(const ListRequest& request) const {
  KILN_RETURN_IF_ERROR(ModelRef::Parse(absl::StrCat(request.parent, "/models/x"), "parent").status());
  return ListKind(*store_, internal::kModelsKind, request, ModelFilterFields(),
                  [](store::Transaction&) -> absl::StatusOr<std::function<Model(Model)>> {
                    return std::function<Model(Model)>([](Model m) { return m; });
                  });
}

absl::StatusOr<ModelRegistry::ListResult> ModelRegistry::ListVersions(const ListRequest& request) const {
  KILN_ASSIGN_OR_RETURN(ModelRef ref, ModelRef::Parse(request.parent));
  if (!ref.version.empty()) return FieldError("name", "must name a model, without @version");
  return ListKind(*store_, internal::kVersionsKind, request, VersionFilterFields(),
                  [&](store::Transaction& tx) -> absl::StatusOr<std::function<Model(Model)>> {
                    KILN_ASSIGN_OR_RETURN(Model record, internal::GetModelRecord(tx, ref.ModelName()));
                    return std::function<Model(Model)>([record](Model m) { return internal::View(m, record); });
                  });
}

absl::StatusOr<Model> ModelRegistry::MergeVersionAliases(absl::string_view name,
                                                         const std::vector<std::string>& aliases) const {
  KILN_ASSIGN_OR_RETURN(ModelRef ref, ModelRef::Parse(name));
  if (ref.version.empty() || ref.version == "-") {
    return FieldError("name", "must name a version: projects/{project}/locations/{location}/models/{model}@{version}");
  }
  if (aliases.empty()) return FieldError("versionAliases", "is required");
  std::set<std::string> add, remove;
  for (size_t i = 0; i < aliases.size(); ++i) {
    std::string where = absl::StrCat("versionAliases[", i, "]");
    bool removing = absl::StartsWith(aliases[i], "-");
    std::string alias = removing ? aliases[i].substr(1) : aliases[i];
    KILN_RETURN_IF_ERROR(ValidateAlias(where, alias));
    if (removing && alias == kDefaultAlias) {
      return absl::FailedPreconditionError(
          "versionAliases: the \"default\" alias cannot be removed; add it to another version to move it");
    }
    (removing ? remove : add).insert(alias);
  }
  for (auto it = add.begin(); it != add.end();) {  // adding and removing one alias cancel out
    if (remove.erase(*it) > 0) {
      it = add.erase(it);
    } else {
      ++it;
    }
  }
  Model result;
  KILN_RETURN_IF_ERROR(store_->Write([&](store::Transaction& tx) -> absl::Status {
    KILN_ASSIGN_OR_RETURN(Model version, internal::ResolveVersion(tx, ref));
    KILN_ASSIGN_OR_RETURN(Model record, internal::GetModelRecord(tx, version.name()));
    absl::Time now = clock_->Now();
    for (const std::string& alias : add) {
      KILN_RETURN_IF_ERROR(internal::TakeAlias(tx, version.name(), alias, version.version_id(), now));
      if (!HasAlias(version, alias)) version.add_version_aliases(alias);
    }
    auto* list = version.mutable_version_aliases();
    list->erase(std::remove_if(list->begin(), list->end(), [&](const std::string& a) { return remove.count(a) > 0; }),
                list->end());
    *version.mutable_version_update_time() = protojson::ToTimestamp(now);
    *record.mutable_update_time() = protojson::ToTimestamp(now);
    KILN_RETURN_IF_ERROR(internal::PutVersion(tx, version, /*insert=*/false));
    KILN_RETURN_IF_ERROR(internal::SaveModelRecord(tx, record, ref.location, /*insert=*/false));
    result = internal::View(version, record);
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<Model> ModelRegistry::UpdateModel(const Model& model, const google::protobuf::FieldMask& mask) const {
  absl::StatusOr<ModelRef> parsed = ModelRef::Parse(model.name(), "model.name");
  if (!parsed.ok()) return parsed.status();
  const ModelRef ref = *std::move(parsed);
  const bool version_update = ref.HasVersionId() || (!ref.version.empty() && ref.version != "-");
  if (mask.paths().empty()) return FieldError("updateMask", "is required");
  for (const std::string& path : mask.paths()) {
    bool ok = path == "labels" ||
              (version_update ? path == "version_description" : path == "display_name" || path == "description");
    if (!ok) {
      return FieldError(
          "updateMask",
          absl::StrCat("\"", path, "\" cannot be updated ",
                       version_update ? "on a version (name with @): version_description, labels"
                                      : "on a model (name without @): display_name, description, labels"));
    }
    if (path == "display_name") KILN_RETURN_IF_ERROR(ValidateDisplayName("model.displayName", model.display_name()));
    if (path == "labels") KILN_RETURN_IF_ERROR(ValidateLabels("model.labels", model.labels()));
  }
  Model result;
  KILN_RETURN_IF_ERROR(store_->Write([&](store::Transaction& tx) -> absl::Status {
    KILN_ASSIGN_OR_RETURN(Model record, internal::GetModelRecord(tx, ref.ModelName()));
    KILN_ASSIGN_OR_RETURN(Model version, internal::ResolveVersion(tx, ref));  // the default one for a model update
    absl::Time now = clock_->Now();
    bool version_changed = false;
    for (const std::string& path : mask.paths()) {
      if (path == "display_name") record.set_display_name(model.display_name());
      if (path == "description") record.set_description(model.description());
      if (path == "version_description") version.set_version_description(model.version_description());
      if (path == "labels") *version.mutable_labels() = model.labels();
      version_changed = version_changed || path == "version_description" || path == "labels";
    }
    if (version_changed) {
      *version.mutable_version_update_time() = protojson::ToTimestamp(now);
      KILN_RETURN_IF_ERROR(internal::PutVersion(tx, version, /*insert=*/false));
    }
    *record.mutable_update_time() = protojson::ToTimestamp(now);
    KILN_RETURN_IF_ERROR(internal::SaveModelRecord(tx, record, ref.location, /*insert=*/false));
    if (version_update) {
      result = internal::View(version, record);
    } else {
      KILN_ASSIGN_OR_RETURN(result, internal::GetModelRecord(tx, ref.ModelName()));
    }
    return absl::OkStatus();
  }));
  return result;
}

}  // namespace kiln::registry
