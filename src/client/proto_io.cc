#include "client/proto_io.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "protojson/json_codec.h"

namespace kiln::client {
namespace {

using google::protobuf::FieldDescriptor;
using nlohmann::json;

absl::Status Lenient(const std::string& text, absl::string_view what, google::protobuf::Message* message) {
  message->Clear();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(text, message, options);
  if (status.ok()) return absl::OkStatus();
  message->Clear();
  return absl::InternalError(absl::StrCat("the server's answer to ", what, " is not a ",
                                          message->GetDescriptor()->name(), ": ", std::string(status.message())));
}

}  // namespace

std::string RequestJson(const google::protobuf::Message& message) {
  return protojson::MessageToJson(message, /*int_enums=*/false);
}

json MessageJson(const google::protobuf::Message& message) { return json::parse(RequestJson(message)); }

google::protobuf::Value MessageToValue(const google::protobuf::Message& message) {
  google::protobuf::Value value;
  // A message's JSON is always an object, which any Value holds.
  (void)google::protobuf::util::JsonStringToMessage(RequestJson(message), &value);
  return value;
}

void SetStrings(const std::vector<std::string>& items, google::protobuf::RepeatedPtrField<std::string>* field) {
  field->Clear();
  for (const std::string& item : items) field->Add(std::string(item));
}

absl::Status ReadAnswer(const json& answer, absl::string_view what, google::protobuf::Message* message) {
  return Lenient(answer.dump(-1, ' ', false, json::error_handler_t::replace), what, message);
}

absl::Status ReadOperation(const json& answer, absl::string_view what, google::longrunning::Operation* operation,
                           google::protobuf::Message* response) {
  // The Any fields are read apart: protobuf refuses an Any without "@type",
  // and the caller knows the type it asked for.
  json rest = answer;
  json response_json;
  if (rest.is_object()) {
    const google::protobuf::Descriptor* d = google::longrunning::Operation::descriptor();
    for (int number :
         {google::longrunning::Operation::kResponseFieldNumber, google::longrunning::Operation::kMetadataFieldNumber}) {
      const FieldDescriptor* field = d->FindFieldByNumber(number);
      for (const std::string& key : {field->json_name(), field->name()}) {
        auto it = rest.find(key);
        if (it == rest.end()) continue;
        if (number == google::longrunning::Operation::kResponseFieldNumber) response_json = std::move(*it);
        rest.erase(it);
      }
    }
  }
  absl::Status status = ReadAnswer(rest, what, operation);
  if (!status.ok() || response == nullptr) return status;
  response->Clear();
  if (response_json.is_null()) return absl::OkStatus();
  if (!response_json.is_object()) {
    return absl::InternalError(absl::StrCat("the server's answer to ", what, " has a response that is not a ",
                                            response->GetDescriptor()->name()));
  }
  response_json.erase("@type");
  return ReadAnswer(response_json, what, response);
}

absl::Status FromRpcStatus(const google::rpc::Status& status, absl::string_view fallback_message) {
  const int value = status.code();
  const absl::StatusCode code =
      value > 0 && value <= 16 ? static_cast<absl::StatusCode>(value) : absl::StatusCode::kUnknown;
  return absl::Status(code, status.message().empty() ? fallback_message : status.message());
}

absl::Status OperationError(const google::longrunning::Operation& operation, absl::string_view fallback_message) {
  if (!operation.has_error()) return absl::OkStatus();
  return FromRpcStatus(operation.error(), fallback_message);
}

}  // namespace kiln::client
