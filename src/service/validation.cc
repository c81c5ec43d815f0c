#include "service/validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace kiln::service {
namespace {

bool IsLabelChar(char c) { return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '-'; }

}  // namespace

size_t Utf8Length(absl::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

absl::Status ValidateDisplayName(absl::string_view path, absl::string_view value) {
  if (value.empty()) return FieldError(path, "is required");
  if (Utf8Length(value) > kMaxDisplayNameChars) {
    return FieldError(path,
                      absl::StrCat("must be at most ", kMaxDisplayNameChars, " characters, got ", Utf8Length(value)));
  }
  return absl::OkStatus();
}

absl::Status ValidateLabels(absl::string_view path, const google::protobuf::Map<std::string, std::string>& labels) {
  if (labels.size() > kMaxLabels) {
    return FieldError(path, absl::StrCat("at most ", kMaxLabels, " labels, got ", labels.size()));
  }
  for (const auto& [key, value] : labels) {
    std::string where = absl::StrCat(path, ".", key);
    if (key.empty() || !absl::ascii_islower(key[0])) {
      return FieldError(where, "label keys must start with a lowercase letter");
    }
    if (key.size() > kMaxLabelChars || value.size() > kMaxLabelChars) {
      return FieldError(where, absl::StrCat("label keys and values must be at most ", kMaxLabelChars, " characters"));
    }
    for (char c : key) {
      if (!IsLabelChar(c)) return FieldError(where, "label keys may hold only lowercase letters, digits, '_' and '-'");
    }
    for (char c : value) {
      if (!IsLabelChar(c)) {
        return FieldError(where, "label values may hold only lowercase letters, digits, '_' and '-'");
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace kiln::service
