#include "registry/records.h"
#include "protojson/proto_time.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"

namespace kiln::registry::internal {

std::string VersionName(absl::string_view model, absl::string_view version_id) {
  return absl::StrCat(model, "@", version_id);
}
std::string VersionCounterKey(absl::string_view model) { return absl::StrCat("registry/versions/", model); }
std::string DigestKey(absl::string_view version_name) { return absl::StrCat("registry/digest/", version_name); }
std::string IdempotencyKey(absl::string_view location, absl::string_view key) {
  return absl::StrCat("registry/idempotency/", location, "/", key);
}
std::string SnapshotPath(absl::string_view model, absl::string_view version_id) {
  return absl::StrCat(model, "/versions/", version_id);
}

namespace {

absl::StatusOr<Model> Decode(const store::Resource& r) {
  Model m;
  if (!m.ParseFromString(r.data)) return absl::DataLossError(absl::StrCat("stored model ", r.name, " does not parse"));
  return m;
}

bool HasAlias(const Model& m, absl::string_view alias) {
  return std::find(m.version_aliases().begin(), m.version_aliases().end(), alias) != m.version_aliases().end();
}

}  // namespace

absl::StatusOr<Model> GetModelRecord(store::Transaction& tx, absl::string_view model_name) {
  absl::StatusOr<store::Resource> r = tx.Get(model_name);
  if (!r.ok()) {
    if (r.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("Model ", model_name, " not found."));
    }
    return r.status();
  }
  return Decode(*r);
}

absl::StatusOr<std::vector<Model>> AllVersions(store::Transaction& tx, absl::string_view model_name) {
  std::vector<Model> versions;
  int64_t after = 0;
  constexpr int kBatch = 256;
  while (true) {
    KILN_ASSIGN_OR_RETURN(std::vector<store::Resource> batch, tx.List(kVersionsKind, model_name, after, kBatch));
    for (const store::Resource& r : batch) {
      after = r.seq;
      KILN_ASSIGN_OR_RETURN(Model m, Decode(r));
      versions.push_back(std::move(m));
    }
    if (static_cast<int>(batch.size()) < kBatch) return versions;
  }
}

absl::StatusOr<Model> ResolveVersion(store::Transaction& tx, const ModelRef& ref) {
  std::string model = ref.ModelName();
  if (ref.HasVersionId()) {
    absl::StatusOr<store::Resource> r = tx.Get(VersionName(model, ref.version));
    if (r.ok()) return Decode(*r);
    if (r.status().code() != absl::StatusCode::kNotFound) return r.status();
    KILN_RETURN_IF_ERROR(GetModelRecord(tx, model).status());
    return absl::NotFoundError(absl::StrCat("Model ", model, " has no version ", ref.version, "."));
  }
  std::string alias = ref.version.empty() || ref.version == "-" ? kDefaultAlias : ref.version;
  KILN_RETURN_IF_ERROR(GetModelRecord(tx, model).status());
  KILN_ASSIGN_OR_RETURN(std::vector<Model> versions, AllVersions(tx, model));
  for (Model& v : versions) {
    if (HasAlias(v, alias)) return std::move(v);
  }
  return absl::NotFoundError(absl::StrCat("Model ", model, " has no version with alias \"", alias, "\"."));
}

Model View(const Model& version, const Model& record) {
  Model view = version;
  view.set_display_name(record.display_name());
  view.set_description(record.description());
  *view.mutable_create_time() = record.create_time();
  *view.mutable_update_time() = record.update_time();
  return view;
}

absl::Status PutVersion(store::Transaction& tx, const Model& version, bool insert) {
  store::Resource r{.name = VersionName(version.name(), version.version_id()),
                    .kind = kVersionsKind,
                    .parent = version.name(),
                    .data = version.SerializeAsString()};
  return insert ? tx.Insert(r) : tx.Update(r);
}

absl::Status SaveModelRecord(store::Transaction& tx, const Model& model_fields, absl::string_view location,
                             bool insert) {
  KILN_ASSIGN_OR_RETURN(std::vector<Model> versions, AllVersions(tx, model_fields.name()));
  const Model* def = nullptr;
  for (const Model& v : versions) {
    if (HasAlias(v, kDefaultAlias)) def = &v;
  }
  if (def == nullptr)
    return absl::InternalError(absl::StrCat("model ", model_fields.name(), " has no default version"));
  store::Resource r{.name = model_fields.name(),
                    .kind = kModelsKind,
                    .parent = std::string(location),
                    .data = View(*def, model_fields).SerializeAsString()};
  return insert ? tx.Insert(r) : tx.Update(r);
}

absl::Status TakeAlias(store::Transaction& tx, absl::string_view model_name, absl::string_view alias,
                       absl::string_view keep_version_id, absl::Time now) {
  KILN_ASSIGN_OR_RETURN(std::vector<Model> versions, AllVersions(tx, model_name));
  for (Model& v : versions) {
    if (v.version_id() == keep_version_id || !HasAlias(v, alias)) continue;
    auto* aliases = v.mutable_version_aliases();
    aliases->erase(std::remove(aliases->begin(), aliases->end(), alias), aliases->end());
    *v.mutable_version_update_time() = protojson::ToTimestamp(now);
    KILN_RETURN_IF_ERROR(PutVersion(tx, v, /*insert=*/false));
  }
  return absl::OkStatus();
}

}  // namespace kiln::registry::internal
