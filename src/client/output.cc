#include "client/output.h"

#include <algorithm>
#include <cstddef>
#include <regex>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "yaml-cpp/yaml.h"

namespace kiln::client {
namespace {

using nlohmann::json;

// True when a YAML 1.1/1.2 reader (PyYAML, yaml-cpp, gcloud) would resolve the
// plain scalar `s` to something other than a string.
bool LooksLikeNonString(const std::string& s) {
  static const auto* const kWords =
      new std::vector<std::string>{"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"};
  const std::string lower = absl::AsciiStrToLower(s);
  if (std::find(kWords->begin(), kWords->end(), lower) != kWords->end()) {
    return true;
  }
  static const auto* const kNumber = new std::regex(R"([-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?)"
                                                    R"(|0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+)"
                                                    R"(|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?)"
                                                    R"(|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))");
  static const auto* const kTimestamp = new std::regex(R"([0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt \t].*)?)");
  return std::regex_match(s, *kNumber) || std::regex_match(s, *kTimestamp);
}

void EmitString(YAML::Emitter& emitter, const std::string& s) {
  if (LooksLikeNonString(s)) {
    emitter << YAML::SingleQuoted << s;
  } else {
    emitter << s;
  }
}

void EmitValue(YAML::Emitter& emitter, const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      if (value.empty()) emitter << YAML::Flow;
      emitter << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        emitter << YAML::Key;
        EmitString(emitter, key);
        emitter << YAML::Value;
        EmitValue(emitter, item);
      }
      emitter << YAML::EndMap;
      return;
    case json::value_t::array:
      if (value.empty()) emitter << YAML::Flow;
      emitter << YAML::BeginSeq;
      for (const json& item : value) EmitValue(emitter, item);
      emitter << YAML::EndSeq;
      return;
    case json::value_t::string:
      EmitString(emitter, value.get_ref<const std::string&>());
      return;
    case json::value_t::boolean:
      emitter << (value.get<bool>() ? "true" : "false");
      return;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      emitter << value.dump();
      return;
    case json::value_t::null:
    case json::value_t::binary:
    case json::value_t::discarded:
      emitter << YAML::Null;
      return;
  }
}

// Follows a dotted path ("a.b.c"); nullptr when any step is missing.
const json* Lookup(const json& root, absl::string_view dotted_path) {
  const json* node = &root;
  for (absl::string_view step : absl::StrSplit(dotted_path, '.')) {
    if (!node->is_object()) return nullptr;
    auto it = node->find(std::string(step));
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return node;
}

std::string ScalarText(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return value.get<std::string>();
    case json::value_t::null:
      return "";
    case json::value_t::boolean:
      return value.get<bool>() ? "True" : "False";
    case json::value_t::array: {
      std::vector<std::string> parts;
      for (const json& item : value) parts.push_back(ScalarText(item));
      return absl::StrJoin(parts, ",");
    }
    default:
      return value.dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

// Display width approximated as the number of UTF-8 code points.
size_t DisplayWidth(absl::string_view text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Keeps a cell on one line.
std::string OneLine(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  return text;
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text) {
  if (text == "json") return OutputFormat::kJson;
  if (text == "yaml") return OutputFormat::kYaml;
  if (text == "table") return OutputFormat::kTable;
  return absl::InvalidArgumentError(absl::StrCat("unknown output format \"", text, "\": use json, yaml or table"));
}

absl::string_view OutputFormatName(OutputFormat format) {
  switch (format) {
    case OutputFormat::kJson:
      return "json";
    case OutputFormat::kYaml:
      return "yaml";
    case OutputFormat::kTable:
      return "table";
  }
  return "table";
}

std::string FormatJson(const json& value) { return value.dump(2, ' ', false, json::error_handler_t::replace) + "\n"; }

absl::StatusOr<std::string> FormatYaml(const json& value) {
  YAML::Emitter emitter;
  emitter.SetNullFormat(YAML::LowerNull);
  emitter.SetIndent(2);
  EmitValue(emitter, value);
  if (!emitter.good()) {
    return absl::InternalError(absl::StrCat("cannot render YAML: ", emitter.GetLastError()));
  }
  return absl::StrCat(emitter.c_str(), "\n");
}

std::string CellText(const json& row, const Column& column) {
  const json* value = Lookup(row, column.field);
  switch (column.kind) {
    case ColumnKind::kBool:
      return value != nullptr && value->is_boolean() && value->get<bool>() ? "True" : "False";
    case ColumnKind::kLastSegment: {
      if (value == nullptr) return "";
      std::string text = ScalarText(*value);
      size_t slash = text.rfind('/');
      return slash == std::string::npos ? text : text.substr(slash + 1);
    }
    case ColumnKind::kText:
      return value == nullptr ? "" : ScalarText(*value);
  }
  return "";
}

std::string FormatTable(const std::vector<json>& rows, const std::vector<Column>& columns) {
  if (rows.empty() || columns.empty()) return "";
  std::vector<std::vector<std::string>> cells;
  cells.reserve(rows.size() + 1);
  std::vector<std::string> header;
  for (const Column& column : columns) header.push_back(column.header);
  cells.push_back(std::move(header));
  for (const json& row : rows) {
    std::vector<std::string> line;
    for (const Column& column : columns) {
      line.push_back(OneLine(CellText(row, column)));
    }
    cells.push_back(std::move(line));
  }
  std::vector<size_t> widths(columns.size(), 0);
  for (const auto& line : cells) {
    for (size_t i = 0; i < line.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(line[i]));
    }
  }
  std::string text;
  for (const auto& line : cells) {
    std::string rendered;
    for (size_t i = 0; i < line.size(); ++i) {
      rendered += line[i];
      if (i + 1 < line.size()) {
        rendered.append(widths[i] - DisplayWidth(line[i]) + 2, ' ');
      }
    }
    size_t end = rendered.find_last_not_of(' ');
    rendered.resize(end == std::string::npos ? 0 : end + 1);
    absl::StrAppend(&text, rendered, "\n");
  }
  return text;
}

absl::Status PrintList(const std::vector<json>& items, const std::vector<Column>& columns, OutputFormat format,
                       std::ostream& out, std::ostream& err) {
  if (items.empty()) {
    if (format == OutputFormat::kJson) out << "[]\n";
    err << "Listed 0 items.\n";
    return absl::OkStatus();
  }
  switch (format) {
    case OutputFormat::kJson:
      out << FormatJson(json(items));
      break;
    case OutputFormat::kYaml:
      for (size_t i = 0; i < items.size(); ++i) {
        absl::StatusOr<std::string> yaml = FormatYaml(items[i]);
        if (!yaml.ok()) return yaml.status();
        if (i > 0) out << "---\n";
        out << *yaml;
      }
      break;
    case OutputFormat::kTable:
      out << FormatTable(items, columns);
      break;
  }
  return absl::OkStatus();
}

absl::Status PrintResource(const json& resource, const std::vector<Column>& columns, OutputFormat format,
                           std::ostream& out) {
  switch (format) {
    case OutputFormat::kJson:
      out << FormatJson(resource);
      break;
    case OutputFormat::kYaml: {
      absl::StatusOr<std::string> yaml = FormatYaml(resource);
      if (!yaml.ok()) return yaml.status();
      out << *yaml;
      break;
    }
    case OutputFormat::kTable:
      out << FormatTable({resource}, columns);
      break;
  }
  return absl::OkStatus();
}

}  // namespace kiln::client
