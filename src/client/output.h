#ifndef KILN_CLIENT_OUTPUT_H_
#define KILN_CLIENT_OUTPUT_H_

// Rendering of API answers for the `kiln <noun> <verb>` commands, gcloud-like:
// --format=json (pretty), yaml (keys sorted, ambiguous strings quoted), or table
// (aligned columns chosen per noun).

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace kiln::client {

enum class OutputFormat { kJson, kYaml, kTable };

// "json", "yaml" or "table" (exactly, lower case); anything else is INVALID_ARGUMENT.
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text);

// The flag spelling of `format` ("json", ...).
absl::string_view OutputFormatName(OutputFormat format);

// How a table cell is derived from the value found at Column::field.
enum class ColumnKind {
  kText,         // Scalars as text, lists joined with ",", objects as compact JSON.
  kLastSegment,  // The part after the last '/' (resource name -> ID).
  kBool,         // "True"/"False"; a missing field counts as False (proto3 default).
};

// One table column: a header and a dotted path into the resource ("state",
// "encryptionSpec.kmsKeyName"). A missing field renders as an empty cell.
struct Column {
  std::string header;
  std::string field;
  ColumnKind kind = ColumnKind::kText;
};

// Pretty JSON (2-space indent) with a trailing newline. Never fails: invalid
// UTF-8 is replaced.
std::string FormatJson(const nlohmann::json& value);

// Block YAML with a trailing newline. Object keys come out sorted; strings that
// a YAML reader would take for a number, bool, null or timestamp are quoted
// ('123'), null is `null`, empty objects/lists are `{}`/`[]`.
absl::StatusOr<std::string> FormatYaml(const nlohmann::json& value);

// The text of one cell of `row` for `column` (no padding).
std::string CellText(const nlohmann::json& row, const Column& column);

// A header line plus one line per row; each column but the last is padded to
// its widest cell (counted in UTF-8 code points) and followed by two spaces.
// Trailing spaces are trimmed. Empty string when `rows` is empty.
std::string FormatTable(const std::vector<nlohmann::json>& rows, const std::vector<Column>& columns);

// Prints a list result. json: one array; yaml: the items as YAML documents
// separated by "---"; table: FormatTable. An empty list prints "Listed 0 items."
// to `err` (and "[]" to `out` for json).
absl::Status PrintList(const std::vector<nlohmann::json>& items, const std::vector<Column>& columns,
                       OutputFormat format, std::ostream& out, std::ostream& err);

// Prints one resource: json/yaml of the whole object, or a one-row table.
absl::Status PrintResource(const nlohmann::json& resource, const std::vector<Column>& columns, OutputFormat format,
                           std::ostream& out);

}  // namespace kiln::client

#endif  // KILN_CLIENT_OUTPUT_H_
