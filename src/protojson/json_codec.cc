#include "protojson/json_codec.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace kiln::protojson {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::OneofDescriptor;

std::string Join(absl::string_view prefix, absl::string_view key) {
  return prefix.empty() ? std::string(key) : absl::StrCat(prefix, ".", key);
}

// Well-known types have a special JSON form that protobuf validates on its own.
bool HasSpecialJsonForm(const Descriptor* d) { return d->file()->name().rfind("google/protobuf/", 0) == 0; }

const FieldDescriptor* FindField(const Descriptor* d, absl::string_view key) {
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->name() == key || f->json_name() == key) return f;
  }
  return nullptr;
}

std::string EnumValueList(const EnumDescriptor* e) {
  std::vector<std::string> names;
  for (int i = 0; i < e->value_count(); ++i) names.push_back(e->value(i)->name());
  return absl::StrJoin(names, ", ");
}

absl::Status BadValue(absl::string_view path, const nlohmann::json& v, absl::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": invalid value ", v.dump(), ": ", want));
}

absl::Status CheckEnum(const FieldDescriptor* f, const nlohmann::json& v, absl::string_view path) {
  const EnumDescriptor* e = f->enum_type();
  if (e->full_name() == "google.protobuf.NullValue") return absl::OkStatus();
  bool known = false;
  if (v.is_string()) {
    known = e->FindValueByName(v.get<std::string>()) != nullptr;
  } else if (v.is_number_integer()) {
    known = e->FindValueByNumber(v.get<int>()) != nullptr;
  }
  if (known) return absl::OkStatus();
  return BadValue(path, v, absl::StrCat("not a value of ", e->full_name(), " (one of ", EnumValueList(e), ")"));
}

absl::Status Walk(const nlohmann::json& j, const Descriptor* d, const std::string& path);

// Checks one (non-null) value of field `f`, not treating it as repeated.
// What a scalar field wants, for errors.
std::string ScalarWant(const FieldDescriptor* f) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return "expected a string";
    case FieldDescriptor::CPPTYPE_BOOL:
      return "expected true or false";
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
      return "expected a number";
    default:
      return "expected an integer";
  }
}

absl::Status WalkSingle(const nlohmann::json& v, const FieldDescriptor* f, const std::string& path) {
  if (v.is_null()) return absl::OkStatus();
  if (f->type() != FieldDescriptor::TYPE_MESSAGE && (v.is_array() || v.is_object())) {
    return BadValue(path, v, f->type() == FieldDescriptor::TYPE_ENUM ? "expected an enum value name" : ScalarWant(f));
  }
  if (f->type() == FieldDescriptor::TYPE_ENUM) return CheckEnum(f, v, path);
  if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
    const Descriptor* md = f->message_type();
    if (HasSpecialJsonForm(md)) return absl::OkStatus();
    if (!v.is_object()) return BadValue(path, v, "expected an object");
    return Walk(v, md, path);
  }
  return absl::OkStatus();
}

absl::Status Walk(const nlohmann::json& j, const Descriptor* d, const std::string& path) {
  if (!j.is_object()) return absl::OkStatus();
  std::vector<std::pair<const OneofDescriptor*, std::string>> oneofs_seen;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& v = it.value();
    const FieldDescriptor* f = FindField(d, key);
    if (f == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("Invalid JSON payload received. Unknown name \"", key, "\"",
                                                     path.empty() ? "" : absl::StrCat(" at '", path, "'"),
                                                     ": Cannot find field."));
    }
    std::string field_path = Join(path, key);
    if (v.is_null()) continue;
    if (const OneofDescriptor* o = f->real_containing_oneof(); o != nullptr) {
      for (const auto& [seen, seen_key] : oneofs_seen) {
        if (seen == o) {
          return absl::InvalidArgumentError(absl::StrCat(Join(path, seen_key), ": only one of the oneof '", o->name(),
                                                         "' may be set, but ", key, " is set too"));
        }
      }
      oneofs_seen.emplace_back(o, key);
    }
    if (f->is_map()) {
      if (!v.is_object()) return BadValue(field_path, v, "expected an object (a map)");
      const FieldDescriptor* value_field = f->message_type()->map_value();
      for (auto e = v.begin(); e != v.end(); ++e) {
        std::string entry_path = absl::StrCat(field_path, ".", e.key());
        if (value_field->cpp_type() == FieldDescriptor::CPPTYPE_STRING && !e.value().is_string()) {
          return BadValue(entry_path, e.value(), "expected a string");
        }
        if (absl::Status s = WalkSingle(e.value(), value_field, entry_path); !s.ok()) return s;
      }
    } else if (f->is_repeated()) {
      if (!v.is_array()) return BadValue(field_path, v, "expected a list");
      for (size_t i = 0; i < v.size(); ++i) {
        if (v[i].is_null())
          return BadValue(absl::StrCat(field_path, "[", i, "]"), v[i], "null is not allowed in a list");
        if (absl::Status s = WalkSingle(v[i], f, absl::StrCat(field_path, "[", i, "]")); !s.ok()) return s;
      }
    } else {
      if (absl::Status s = WalkSingle(v, f, field_path); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// Turns protobuf's proto-name path "job_spec.worker_pool_specs[0].replica_count" into the keys
// the user sent ("jobSpec.workerPoolSpecs[0].replicaCount"), walking the document alongside.
std::string UserPath(absl::string_view proto_path, const nlohmann::json& doc, absl::string_view prefix) {
  std::string out(prefix);
  const nlohmann::json* node = &doc;
  for (absl::string_view part : absl::StrSplit(proto_path, '.')) {
    absl::string_view name = part;
    std::vector<int> indexes;
    size_t bracket = part.find('[');
    if (bracket != absl::string_view::npos) {
      name = part.substr(0, bracket);
      for (absl::string_view idx : absl::StrSplit(part.substr(bracket), '[', absl::SkipEmpty())) {
        int i = 0;
        if (absl::SimpleAtoi(absl::StripSuffix(idx, "]"), &i)) indexes.push_back(i);
      }
    }
    std::string key(name);
    if (node != nullptr && node->is_object()) {
      // Find the key the user wrote: proto name or lowerCamel.
      std::string camel;
      bool upper = false;
      for (char c : name) {
        if (c == '_') {
          upper = true;
        } else {
          camel += upper ? absl::ascii_toupper(c) : c;
          upper = false;
        }
      }
      if (node->contains(camel)) key = camel;
      node = node->contains(key) ? &(*node)[key] : nullptr;
    } else {
      node = nullptr;
    }
    // "labels[0].value" indexes a map: name the key instead.
    bool map_entry = false;
    for (int i : indexes) {
      if (node != nullptr && node->is_array() && i >= 0 && static_cast<size_t>(i) < node->size()) {
        absl::StrAppend(&key, "[", i, "]");
        node = &(*node)[i];
      } else if (node != nullptr && node->is_object() && i >= 0 && static_cast<size_t>(i) < node->size()) {
        auto it = node->begin();
        std::advance(it, i);
        absl::StrAppend(&key, ".", it.key());
        node = &it.value();
        map_entry = true;
      } else {
        absl::StrAppend(&key, "[", i, "]");
        node = nullptr;
      }
    }
    if (map_entry) {
      out = Join(out, key);
      break;  // The ".key"/".value" that follows is protobuf's map-entry plumbing.
    }
    out = Join(out, key);
  }
  return out;
}

// Rewrites protobuf's "(path): invalid value X for type T" into kiln's wording.
absl::Status TranslateProtobufError(absl::string_view message, const nlohmann::json& doc, absl::string_view prefix) {
  absl::string_view rest = message;
  std::string path(prefix);
  if (absl::ConsumePrefix(&rest, "(")) {
    size_t close = rest.find(')');
    if (close != absl::string_view::npos) {
      path = UserPath(rest.substr(0, close), doc, prefix);
      rest = absl::StripLeadingAsciiWhitespace(rest.substr(close + 1));
      rest = absl::StripPrefix(rest, ":");
      rest = absl::StripLeadingAsciiWhitespace(rest);
    }
  }
  std::string detail(rest);
  // "invalid value "abc" for type TYPE_INT64"
  if (absl::ConsumePrefix(&rest, "invalid value ")) {
    size_t for_type = rest.rfind(" for type ");
    if (for_type != absl::string_view::npos) {
      absl::string_view value = rest.substr(0, for_type);
      absl::string_view type = rest.substr(for_type + 10);
      std::string want;
      if (type == "TYPE_INT64" || type == "TYPE_INT32" || type == "TYPE_SINT32" || type == "TYPE_SINT64" ||
          type == "TYPE_SFIXED32" || type == "TYPE_SFIXED64") {
        want = "expected an integer";
      } else if (type == "TYPE_UINT64" || type == "TYPE_UINT32" || type == "TYPE_FIXED32" || type == "TYPE_FIXED64") {
        want = "expected a non-negative integer";
      } else if (type == "TYPE_STRING" || type == "TYPE_BYTES") {
        want = "expected a string";
      } else if (type == "TYPE_BOOL") {
        want = "expected true or false";
      } else if (type == "TYPE_DOUBLE" || type == "TYPE_FLOAT") {
        want = "expected a number";
      } else if (absl::EndsWith(type, "google.protobuf.Duration")) {
        want = "expected a duration in seconds with an \"s\" suffix, e.g. \"3600s\"";
        value = value.substr(0, value.find(','));  // protobuf repeats the field name; drop it.
        if (absl::StartsWith(value, "Field ")) value = "";
      } else if (absl::EndsWith(type, "google.protobuf.Timestamp")) {
        want = "expected an RFC 3339 timestamp, e.g. \"2024-01-02T03:04:05Z\"";
        if (absl::StartsWith(value, "Field ")) value = "";
      } else {
        want = absl::StrCat("expected ", absl::StripPrefix(type, "type.googleapis.com/"));
      }
      if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", want));
      return absl::InvalidArgumentError(absl::StrCat(path, ": invalid value ", value, ": ", want));
    }
  }
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat("Invalid JSON payload received. ", detail));
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", detail));
}

}  // namespace

absl::Status ParseJsonDocumentToMessage(const nlohmann::json& doc, google::protobuf::Message* message,
                                        absl::string_view path_prefix) {
  if (!doc.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("Invalid JSON payload received. ",
                                                   path_prefix.empty() ? "The body" : path_prefix,
                                                   " must be a JSON object, got ", doc.type_name(), "."));
  }
  if (absl::Status s = Walk(doc, message->GetDescriptor(), std::string(path_prefix)); !s.ok()) return s;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(doc.dump(), message, options);
  if (!status.ok()) {
    return TranslateProtobufError(std::string(status.message()), doc, path_prefix);
  }
  return absl::OkStatus();
}

absl::Status ParseJsonToMessage(absl::string_view json, google::protobuf::Message* message,
                                absl::string_view path_prefix) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json.begin(), json.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
    absl::string_view what = e.what();
    size_t at = what.find("parse error");
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid JSON payload received. ", at == absl::string_view::npos ? what : what.substr(at)));
  }
  return ParseJsonDocumentToMessage(doc, message, path_prefix);
}

std::string MessageToJson(const google::protobuf::Message& message, bool int_enums) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_enums_as_ints = int_enums;
  options.preserve_proto_field_names = false;
  std::string out;
  // Printing a valid message cannot fail; an empty object is the safe answer if it ever did.
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return "{}";
  return out;
}

}  // namespace kiln::protojson
