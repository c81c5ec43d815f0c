#include "registry/model_rules.h"

#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"

namespace kiln::registry {
namespace {

bool IsSegment(absl::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool AllDigits(absl::string_view s) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

bool IsModelIdChar(char c) { return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '-'; }

bool IsLabelChar(char c) { return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '-'; }

size_t Utf8Length(absl::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string ModelRef::ModelName() const { return absl::StrCat(location, "/models/", model_id); }

bool ModelRef::HasVersionId() const { return AllDigits(version); }

absl::StatusOr<ModelRef> ModelRef::Parse(absl::string_view text, absl::string_view field) {
  auto bad = [&] {
    return FieldError(field, absl::StrCat("\"", text,
                                          "\" is not a model name; want projects/{project}/locations/{location}/"
                                          "models/{model}, optionally with @{version id or alias}"));
  };
  std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  if (parts.size() != 6 || parts[0] != "projects" || parts[2] != "locations" || parts[4] != "models" ||
      !IsSegment(parts[1]) || !IsSegment(parts[3])) {
    return bad();
  }
  ModelRef ref;
  ref.location = absl::StrCat("projects/", parts[1], "/locations/", parts[3]);
  absl::string_view id = parts[5];
  if (size_t at = id.find('@'); at != absl::string_view::npos) {
    ref.version = std::string(id.substr(at + 1));
    id = id.substr(0, at);
    if (ref.version != "-" && !AllDigits(ref.version) && !IsValidAlias(ref.version)) return bad();
  }
  if (!AllDigits(id) && !ValidateModelId(field, id).ok()) return bad();
  ref.model_id = std::string(id);
  return ref;
}

absl::Status ValidateModelId(absl::string_view path, absl::string_view id) {
  if (id.empty() || id.size() > 63) return FieldError(path, "must be 1 to 63 characters");
  if (absl::ascii_isdigit(id[0]) || id[0] == '-') return FieldError(path, "must not start with a digit or hyphen");
  for (char c : id) {
    if (!IsModelIdChar(c)) return FieldError(path, absl::StrCat("\"", id, "\" may hold only [a-z0-9_-]"));
  }
  return absl::OkStatus();
}

bool IsValidAlias(absl::string_view alias) {
  if (alias.size() < 2 || alias.size() > 128) return false;
  if (!absl::ascii_islower(alias.front())) return false;
  char last = alias.back();
  if (!absl::ascii_islower(last) && !absl::ascii_isdigit(last)) return false;
  for (char c : alias) {
    if (!absl::ascii_isalnum(c) && c != '-') return false;
  }
  return true;
}

absl::Status ValidateAlias(absl::string_view path, absl::string_view alias) {
  if (IsValidAlias(alias)) return absl::OkStatus();
  return FieldError(path, absl::StrCat("\"", alias, "\" must match [a-z][a-zA-Z0-9-]{0,126}[a-z0-9]"));
}

absl::Status ValidateDisplayName(absl::string_view path, absl::string_view value) {
  if (value.empty()) return FieldError(path, "is required");
  if (Utf8Length(value) > 128) {
    return FieldError(path, absl::StrCat("must be at most 128 characters, got ", Utf8Length(value)));
  }
  return absl::OkStatus();
}

absl::Status ValidateLabels(absl::string_view path, const google::protobuf::Map<std::string, std::string>& labels) {
  if (labels.size() > 64) return FieldError(path, absl::StrCat("at most 64 labels, got ", labels.size()));
  for (const auto& [key, value] : labels) {
    std::string where = absl::StrCat(path, ".", key);
    if (key.empty() || !absl::ascii_islower(key[0]))
      return FieldError(where, "label keys must start with a lowercase letter");
    if (key.size() > 63 || value.size() > 63)
      return FieldError(where, "label keys and values must be at most 63 characters");
    for (char c : key + value) {
      if (!IsLabelChar(c)) return FieldError(where, "labels may hold only lowercase letters, digits, '_' and '-'");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateUploadedModel(absl::string_view path, const google::cloud::aiplatform::v1::Model& model) {
  auto at = [&](absl::string_view field) { return absl::StrCat(path, ".", field); };
  if (absl::Status s = ValidateDisplayName(at("displayName"), model.display_name()); !s.ok()) return s;
  if (absl::Status s = ValidateLabels(at("labels"), model.labels()); !s.ok()) return s;
  std::set<std::string> seen;
  for (int i = 0; i < model.version_aliases_size(); ++i) {
    std::string where = absl::StrCat(at("versionAliases"), "[", i, "]");
    if (absl::Status s = ValidateAlias(where, model.version_aliases(i)); !s.ok()) return s;
    if (!seen.insert(model.version_aliases(i)).second) return FieldError(where, "is repeated");
  }
  return absl::OkStatus();
}

}  // namespace kiln::registry
