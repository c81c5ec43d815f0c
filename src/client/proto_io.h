#ifndef KILN_CLIENT_PROTO_IO_H_
#define KILN_CLIENT_PROTO_IO_H_

// The CLI's requests and the server's answers as google.cloud.aiplatform.v1
// messages, so a field name the protos do not have cannot compile.
//
// Requests are printed with the server's own codec (protojson::MessageToJson:
// lowerCamel names, enums by name, int64 as strings, unset fields left out).
// Answers are read leniently, the way Google's client libraries read them:
// fields this client's protos do not know are ignored, so a newer server still
// works; a value of the wrong shape is INTERNAL naming what was read.
//
// Stateless and thread-safe.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/longrunning/operations.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/repeated_field.h"
#include "google/protobuf/struct.pb.h"
#include "google/rpc/status.pb.h"
#include "nlohmann/json.hpp"

namespace kiln::client {

// The request body for `message`, as the server's codec prints it.
std::string RequestJson(const google::protobuf::Message& message);

// The same as a parsed document (for tests, and for embedding in other JSON).
nlohmann::json MessageJson(const google::protobuf::Message& message);

// `message` as a google.protobuf.Value holding its JSON object, for fields that
// are free-form on purpose (a TrainingPipeline's trainingTaskInputs is the
// custom task's CustomJobSpec).
google::protobuf::Value MessageToValue(const google::protobuf::Message& message);

// Replaces the items of a repeated string field with `items`.
void SetStrings(const std::vector<std::string>& items, google::protobuf::RepeatedPtrField<std::string>* field);

// Reads a server answer into `message` (cleared first), ignoring unknown
// fields. INTERNAL "the server's answer to WHAT is not a TYPE: ..." when a
// known field has the wrong shape.
absl::Status ReadAnswer(const nlohmann::json& answer, absl::string_view what, google::protobuf::Message* message);

template <typename T>
absl::StatusOr<T> ReadAnswer(const nlohmann::json& answer, absl::string_view what) {
  T message;
  absl::Status status = ReadAnswer(answer, what, static_cast<google::protobuf::Message*>(&message));
  if (!status.ok()) return status;
  return message;
}

// Reads a google.longrunning.Operation. Its `response` is read into `response`
// (when not null) as that message, whether or not the answer names its type
// with "@type"; `metadata` is not read.
absl::Status ReadOperation(const nlohmann::json& answer, absl::string_view what,
                           google::longrunning::Operation* operation, google::protobuf::Message* response = nullptr);

// A google.rpc.Status (a job's, pipeline's or operation's `error`) as a
// Status that is never OK: codes outside 1..16 become UNKNOWN; an empty
// message becomes `fallback_message`.
absl::Status FromRpcStatus(const google::rpc::Status& status, absl::string_view fallback_message);

// A finished Operation's error as FromRpcStatus makes it; OK without one.
absl::Status OperationError(const google::longrunning::Operation& operation, absl::string_view fallback_message);

// The JSON key of field number `number` of message type `T` (its json_name),
// e.g. JsonKey<ListModelVersionsResponse>(ListModelVersionsResponse::kModelsFieldNumber)
// is "models": for reading parts of an answer that are printed as received.
template <typename T>
std::string JsonKey(int number) {
  return T::descriptor()->FindFieldByNumber(number)->json_name();
}

}  // namespace kiln::client

#endif  // KILN_CLIENT_PROTO_IO_H_
