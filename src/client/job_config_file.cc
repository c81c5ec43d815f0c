#include "client/job_config_file.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/proto_io.h"
#include "common/status_macros.h"
#include "protojson/json_codec.h"

namespace kiln::client {
namespace {

using nlohmann::json;

// Whether `text` is an integer or a float literal as YAML 1.2's core schema
// would read it (digits, optional sign, fraction and exponent).
bool LooksNumeric(const std::string& text, bool* is_integer) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  size_t digits = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    ++i;
    ++digits;
  }
  *is_integer = true;
  if (i < text.size() && text[i] == '.') {
    *is_integer = false;
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      ++digits;
    }
  }
  if (digits == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    *is_integer = false;
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    size_t exponent_digits = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      ++exponent_digits;
    }
    if (exponent_digits == 0) return false;
  }
  return i == text.size();
}

json PlainScalar(const std::string& text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (text.empty() || text == "~" || lower == "null") return nullptr;
  if (lower == "true") return true;
  if (lower == "false") return false;
  bool is_integer = false;
  if (LooksNumeric(text, &is_integer)) {
    int64_t integer = 0;
    if (is_integer && absl::SimpleAtoi(text, &integer)) return integer;
    double real = 0;
    if (!is_integer && absl::SimpleAtod(text, &real)) return real;
  }
  return text;
}

json NodeToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      // yaml-cpp tags quoted scalars "!" and plain ones "?".
      if (node.Tag() == "!") return node.Scalar();
      return PlainScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      json array = json::array();
      for (const YAML::Node& item : node) array.push_back(NodeToJson(item));
      return array;
    }
    case YAML::NodeType::Map: {
      json object = json::object();
      for (const auto& entry : node) {
        object[entry.first.as<std::string>()] = NodeToJson(entry.second);
      }
      return object;
    }
  }
  return nullptr;
}

std::string CamelCase(const std::string& key) {
  std::string out;
  out.reserve(key.size());
  bool upper_next = false;
  for (char c : key) {
    if (c == '_' && !out.empty()) {
      upper_next = true;
      continue;
    }
    out.push_back(upper_next ? absl::ascii_toupper(static_cast<unsigned char>(c)) : c);
    upper_next = false;
  }
  return out;
}

}  // namespace

absl::StatusOr<json> YamlTextToJson(absl::string_view text) {
  try {
    return NodeToJson(YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(e.what());
  }
}

json CamelCaseKeys(const json& value) {
  if (value.is_array()) {
    json array = json::array();
    for (const json& item : value) array.push_back(CamelCaseKeys(item));
    return array;
  }
  if (!value.is_object()) return value;
  json object = json::object();
  for (const auto& [key, item] : value.items()) {
    const std::string camel = CamelCase(key);
    object[camel] = camel == "labels" ? item : CamelCaseKeys(item);
  }
  return object;
}

absl::StatusOr<google::cloud::aiplatform::v1::CustomJobSpec> LoadJobSpecFile(absl::string_view path) {
  const std::string file(path);
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read --config file ", file));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  json spec;
  const absl::string_view stripped = absl::StripLeadingAsciiWhitespace(text);
  if (!stripped.empty() && stripped.front() == '{') {
    spec = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (spec.is_discarded()) {
      return absl::InvalidArgumentError(absl::StrCat("--config file ", file, " is not valid JSON"));
    }
  } else {
    absl::StatusOr<json> parsed = YamlTextToJson(text);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--config file ", file, " is not valid YAML: ", parsed.status().message()));
    }
    spec = *std::move(parsed);
  }
  if (!spec.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("--config file ", file,
                                                   " must hold a CustomJobSpec mapping (workerPoolSpecs, scheduling, "
                                                   "...)"));
  }
  spec = CamelCaseKeys(spec);
  if (spec.contains(JsonKey<google::cloud::aiplatform::v1::CustomJob>(
          google::cloud::aiplatform::v1::CustomJob::kJobSpecFieldNumber))) {
    return absl::InvalidArgumentError(absl::StrCat("--config file ", file,
                                                   " holds a whole CustomJob; --config takes a CustomJobSpec (the "
                                                   "contents of jobSpec), as gcloud's does"));
  }
  google::cloud::aiplatform::v1::CustomJobSpec message;
  absl::Status parsed = protojson::ParseJsonDocumentToMessage(spec, &message);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--config file ", file, ": ", parsed.message()));
  }
  return message;
}

}  // namespace kiln::client
