#include "server/transcoder.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "protojson/json_codec.h"

namespace kiln::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

const FieldDescriptor* FindField(const Descriptor* d, absl::string_view name) {
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->name() == name || f->json_name() == name) return f;
  }
  return nullptr;
}

// Resolves a dotted field path to the message that holds its last field, creating parents.
absl::Status Resolve(Message* root, absl::string_view dotted, Message** holder, const FieldDescriptor** field) {
  Message* m = root;
  std::vector<absl::string_view> parts = absl::StrSplit(dotted, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* f = FindField(m->GetDescriptor(), parts[i]);
    if (f == nullptr) return absl::NotFoundError(parts[i]);
    if (i + 1 == parts.size()) {
      *holder = m;
      *field = f;
      return absl::OkStatus();
    }
    if (f->type() != FieldDescriptor::TYPE_MESSAGE || f->is_repeated()) return absl::NotFoundError(parts[i]);
    m = m->GetReflection()->MutableMessage(m, f);
  }
  return absl::NotFoundError(dotted);
}

// Resolves a dotted field path on descriptors only (for query parameters, which must not mutate).
const FieldDescriptor* ResolveField(const Descriptor* d, absl::string_view dotted) {
  const FieldDescriptor* f = nullptr;
  for (absl::string_view part : absl::StrSplit(dotted, '.')) {
    if (f != nullptr) {
      if (f->type() != FieldDescriptor::TYPE_MESSAGE || f->is_repeated()) return nullptr;
      d = f->message_type();
    }
    f = FindField(d, part);
    if (f == nullptr) return nullptr;
  }
  return f;
}

bool IsWellKnown(const Descriptor* d) { return d->file()->name().rfind("google/protobuf/", 0) == 0; }

// The JSON form of one query-parameter value for a field of this type.
nlohmann::json QueryValueToJson(const FieldDescriptor* f, const std::string& value) {
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_BOOL) {
    std::string lower = absl::AsciiStrToLower(value);
    if (lower == "true" || lower == "1") return true;
    if (lower == "false" || lower == "0") return false;
  }
  // Numbers, enums, durations, timestamps and field masks all accept their string form.
  return value;
}

}  // namespace

bool IsSystemParameter(absl::string_view name) {
  static const char* const kSystem[] = {
      "alt",       "$alt",      "prettyPrint",  "$prettyPrint",    "key",        "fields",  "$fields",     "callback",
      "$callback", "quotaUser", "access_token", "upload_protocol", "uploadType", "$.xgafv", "oauth_token", "userIp"};
  for (const char* s : kSystem) {
    if (name == s) return true;
  }
  return false;
}

absl::Status Transcode(const Route& route, const std::vector<PathTemplate::Binding>& bindings, const QueryParams& query,
                       absl::string_view body, Message* request) {
  // 1. The body.
  absl::string_view trimmed = absl::StripAsciiWhitespace(body);
  if (route.body == "*") {
    if (!trimmed.empty()) {
      if (absl::Status s = protojson::ParseJsonToMessage(trimmed, request); !s.ok()) return s;
    }
  } else if (!route.body.empty()) {
    const FieldDescriptor* f = request->GetDescriptor()->FindFieldByName(route.body);
    if (f == nullptr || f->type() != FieldDescriptor::TYPE_MESSAGE) {
      return absl::InternalError(absl::StrCat("route body field ", route.body, " is not a message"));
    }
    if (trimmed.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("The request body (", f->json_name(), ") is required."));
    }
    Message* target = request->GetReflection()->MutableMessage(request, f);
    if (absl::Status s = protojson::ParseJsonToMessage(trimmed, target); !s.ok()) return s;
  }

  // 2. Path variables.
  for (const auto& [field_path, value] : bindings) {
    Message* holder = nullptr;
    const FieldDescriptor* f = nullptr;
    if (!Resolve(request, field_path, &holder, &f).ok() || f->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
      return absl::InternalError(absl::StrCat("route variable ", field_path, " is not a string field"));
    }
    holder->GetReflection()->SetString(holder, f, value);
  }

  // 3. Query parameters, gathered into one JSON document so protobuf's parser types them.
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& [name, value] : query) {
    if (IsSystemParameter(name)) continue;
    const FieldDescriptor* f = ResolveField(request->GetDescriptor(), name);
    bool bindable =
        f != nullptr && !f->is_map() && (f->type() != FieldDescriptor::TYPE_MESSAGE || IsWellKnown(f->message_type()));
    // Fields that travel in the body cannot also come from the query.
    std::string top(*absl::StrSplit(name, '.').begin());
    const FieldDescriptor* top_field = FindField(request->GetDescriptor(), top);
    bool in_body = route.body == "*" || (top_field != nullptr && top_field->name() == route.body);
    if (!bindable || in_body) {
      return absl::InvalidArgumentError(absl::StrCat("Invalid JSON payload received. Unknown name \"", name,
                                                     "\": Cannot bind query parameter. Field '", name,
                                                     "' could not be found in request message."));
    }
    nlohmann::json* node = &doc;
    std::vector<std::string> parts = absl::StrSplit(name, '.');
    for (size_t i = 0; i + 1 < parts.size(); ++i) node = &(*node)[parts[i]];
    nlohmann::json v = QueryValueToJson(f, value);
    nlohmann::json& slot = (*node)[parts.back()];
    if (f->is_repeated()) {
      if (slot.is_null()) slot = nlohmann::json::array();
      slot.push_back(std::move(v));
    } else {
      slot = std::move(v);
    }
  }
  if (!doc.empty()) {
    std::unique_ptr<Message> from_query(request->New());
    if (absl::Status s = protojson::ParseJsonDocumentToMessage(doc, from_query.get()); !s.ok()) return s;
    request->MergeFrom(*from_query);
  }
  return absl::OkStatus();
}

}  // namespace kiln::server
