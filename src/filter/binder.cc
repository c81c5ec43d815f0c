#include "filter/binder.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace kiln::filter::internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

constexpr absl::string_view kTimestampType = "google.protobuf.Timestamp";

absl::Status SpecError(const FieldSpec& spec, absl::string_view why) {
  return absl::InternalError(
      absl::StrCat("filter spec \"", spec.filter_name, "\" -> \"", spec.proto_path, "\": ", why));
}

// True for map<string, string> fields, the only maps a filter can address.
bool IsStringMap(const FieldDescriptor* field) {
  if (!field->is_map()) return false;
  const Descriptor* entry = field->message_type();
  return entry->map_key()->cpp_type() == FieldDescriptor::CPPTYPE_STRING &&
         entry->map_value()->cpp_type() == FieldDescriptor::CPPTYPE_STRING;
}

// Classifies the last field of a path; false when it cannot be filtered on.
bool Classify(const FieldDescriptor* field, Check* check) {
  if (field->is_map()) {
    *check = Check::kMapValue;
    return IsStringMap(field);
  }
  if (field->is_repeated()) return false;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      *check = Check::kString;
      return true;
    case FieldDescriptor::CPPTYPE_ENUM:
      *check = Check::kEnum;
      return true;
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
      *check = Check::kInt;
      return true;
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      *check = Check::kUint;
      return true;
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      *check = Check::kDouble;
      return true;
    case FieldDescriptor::CPPTYPE_BOOL:
      *check = Check::kBool;
      return true;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      *check = Check::kTimestamp;
      return field->message_type()->full_name() == kTimestampType;
  }
  return false;
}

absl::string_view KindName(Check check) {
  switch (check) {
    case Check::kString:
      return "string";
    case Check::kEnum:
      return "enum";
    case Check::kInt:
    case Check::kUint:
      return "integer";
    case Check::kDouble:
      return "number";
    case Check::kBool:
      return "bool";
    case Check::kTimestamp:
      return "timestamp";
    case Check::kMapValue:
    case Check::kMapHasKey:
      return "map";
  }
  return "";
}

// Splits a word/string value at its wildcard stars.
Glob MakeGlob(const Token& value) {
  Glob glob;
  size_t from = 0;
  for (size_t star : value.stars) {
    glob.pieces.push_back(value.text.substr(from, star - from));
    from = star + 1;
  }
  glob.pieces.push_back(value.text.substr(from));
  return glob;
}

// `*` on its own: the presence form of `:`.
bool IsLoneStar(const Token& value) { return value.text == "*" && value.stars.size() == 1; }

}  // namespace

absl::StatusOr<FieldTable> FieldTable::Build(const Descriptor* descriptor, const std::vector<FieldSpec>& specs) {
  if (descriptor == nullptr) return absl::InternalError("filter: no message descriptor given");
  FieldTable table;
  std::vector<std::string> names;
  for (const FieldSpec& spec : specs) {
    if (spec.filter_name.empty()) return SpecError(spec, "empty filter name");
    if (std::find(names.begin(), names.end(), spec.filter_name) != names.end()) {
      return SpecError(spec, "filter name listed twice");
    }
    ResolvedField resolved;
    resolved.filter_name = spec.filter_name;
    resolved.ordered = spec.ordered;
    const Descriptor* current = descriptor;
    std::vector<std::string> steps = absl::StrSplit(spec.proto_path, '.');
    for (size_t i = 0; i < steps.size(); ++i) {
      const FieldDescriptor* field = current->FindFieldByName(steps[i]);
      if (field == nullptr) {
        return SpecError(spec, absl::StrCat(current->full_name(), " has no field \"", steps[i], "\""));
      }
      if (i + 1 < steps.size()) {
        if (field->is_repeated() || field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
          return SpecError(spec, absl::StrCat("\"", steps[i], "\" is not a singular message field"));
        }
        resolved.parents.push_back(field);
        current = field->message_type();
      } else {
        resolved.field = field;
      }
    }
    if (!Classify(resolved.field, &resolved.check)) {
      return SpecError(spec, "the field's type cannot be filtered on");
    }
    names.push_back(spec.filter_name);
    table.fields_.push_back(std::move(resolved));
  }
  std::sort(names.begin(), names.end());
  table.supported_ = names.empty() ? "(none)" : absl::StrJoin(names, ", ");
  return table;
}

absl::StatusOr<Target> FieldTable::Resolve(absl::string_view text, const Token& word) const {
  Target target;
  target.offset = word.offset;
  target.spelled = word.text;
  const ResolvedField* best_map = nullptr;
  for (const ResolvedField& field : fields_) {
    if (field.filter_name == word.text) {
      target.field = &field;
      return target;
    }
    if (field.check == Check::kMapValue && word.text.size() > field.filter_name.size() &&
        absl::StartsWith(word.text, field.filter_name) && word.text[field.filter_name.size()] == '.' &&
        (best_map == nullptr || field.filter_name.size() > best_map->filter_name.size())) {
      best_map = &field;
    }
  }
  if (best_map != nullptr) {
    target.field = best_map;
    target.has_key = true;
    target.key = word.text.substr(best_map->filter_name.size() + 1);
    if (target.key.empty()) {
      return ErrorAt(text, word.offset + word.text.size(),
                     absl::StrCat("expected a map key after \"", word.text, "\""));
    }
    return target;
  }
  return ErrorAt(text, word.offset, absl::StrCat("unknown field \"", word.text, "\""),
                 absl::StrCat("; supported: ", supported_));
}

absl::Status FieldTable::CheckOperator(absl::string_view text, const Target& target, const Token& op) const {
  const Check check = target.field->check;
  if (check == Check::kMapValue && !target.has_key) {
    if (op.op == Op::kHas) return absl::OkStatus();
    return ErrorAt(text, op.offset,
                   absl::StrCat("operator \"", op.text, "\" does not apply to map field \"", target.spelled, "\""),
                   absl::StrCat("; use ", target.spelled, ".KEY", op.text, "VALUE or ", target.spelled, ":KEY"));
  }
  absl::string_view allowed;
  switch (check) {
    case Check::kEnum:
      if (op.op == Op::kEq || op.op == Op::kNe) return absl::OkStatus();
      if (target.field->ordered && op.op != Op::kHas) return absl::OkStatus();
      allowed = target.field->ordered ? "= != < <= > >=" : "= !=";
      break;
    case Check::kBool:
      if (op.op == Op::kEq || op.op == Op::kNe) return absl::OkStatus();
      allowed = "= !=";
      break;
    case Check::kTimestamp:
      if (op.op != Op::kHas) return absl::OkStatus();
      allowed = "= != < <= > >=";
      break;
    default:
      return absl::OkStatus();
  }
  return ErrorAt(
      text, op.offset,
      absl::StrCat("operator \"", op.text, "\" does not apply to ", KindName(check), " field \"", target.spelled, "\""),
      absl::StrCat("; use one of: ", allowed));
}

absl::StatusOr<Comparison> FieldTable::Bind(absl::string_view text, const Target& target, Op op,
                                            const Token& value) const {
  const ResolvedField& field = *target.field;
  Comparison out;
  out.filter_name = field.filter_name;
  out.parents = field.parents;
  out.field = field.field;
  out.check = field.check;
  out.op = op;
  const std::string& v = value.text;
  auto bad = [&](absl::string_view what) {
    return ErrorAt(text, value.offset, absl::StrCat(Describe(value), " ", what));
  };

  if (op == Op::kHas && IsLoneStar(value) && field.check != Check::kMapValue) {
    out.presence = true;  // scalar `field:*` — set to a non-default value
    return out;
  }
  switch (field.check) {
    case Check::kMapValue:
      if (!target.has_key) {
        out.check = Check::kMapHasKey;
        out.glob = MakeGlob(value);
        return out;
      }
      out.map_key = target.key;
      if (op == Op::kHas) {
        out.presence = IsLoneStar(value);
        out.glob = MakeGlob(value);
      } else {
        out.text = v;
      }
      return out;
    case Check::kString:
    case Check::kMapHasKey:
      if (op == Op::kHas) {
        out.glob = MakeGlob(value);
      } else {
        out.text = v;
      }
      return out;
    case Check::kEnum: {
      const google::protobuf::EnumDescriptor* type = field.field->enum_type();
      const google::protobuf::EnumValueDescriptor* found = type->FindValueByName(v);
      int number = 0;
      if (found == nullptr && absl::SimpleAtoi(v, &number)) found = type->FindValueByNumber(number);
      if (found == nullptr) return bad(absl::StrCat("is not a value of ", type->full_name()));
      out.int_value = found->number();
      return out;
    }
    case Check::kInt:
      if (!absl::SimpleAtoi(v, &out.int_value)) return bad("is not an integer");
      return out;
    case Check::kUint:
      if (!absl::SimpleAtoi(v, &out.uint_value)) return bad("is not an unsigned integer");
      return out;
    case Check::kDouble:
      if (!absl::SimpleAtod(v, &out.double_value) || std::isnan(out.double_value)) {
        return bad("is not a number");
      }
      return out;
    case Check::kBool:
      if (absl::EqualsIgnoreCase(v, "true")) {
        out.bool_value = true;
      } else if (!absl::EqualsIgnoreCase(v, "false")) {
        return bad("is not true or false");
      }
      return out;
    case Check::kTimestamp: {
      std::string error;
      if (!absl::ParseTime(absl::RFC3339_full, v, &out.time, &error) || out.time == absl::InfiniteFuture() ||
          out.time == absl::InfinitePast()) {
        return ErrorAt(text, value.offset, absl::StrCat("bad timestamp ", Describe(value)),
                       " (want RFC 3339, e.g. 2024-01-02T03:04:05Z)");
      }
      return out;
    }
  }
  return absl::InternalError("filter: unhandled field kind");
}

}  // namespace kiln::filter::internal
