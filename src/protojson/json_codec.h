#ifndef KILN_PROTOJSON_JSON_CODEC_H_
#define KILN_PROTOJSON_JSON_CODEC_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

namespace kiln::protojson {

// JSON <-> proto for the REST surface, on top of protobuf's JSON util.
//
// Parsing accepts what Google's front ends accept (lowerCamel or proto field names, int64 as
// string or number, enums as names or integers, null as "unset") and rejects what protobuf alone
// lets through (an object where a list belongs, enum integers the enum does not define, two
// fields of one oneof). Every error is INVALID_ARGUMENT naming the path as the user spelled it,
// e.g. `jobSpec.workerPoolSpecs[0].replicaCount: invalid value "abc": expected an integer`, or
// Google's `Invalid JSON payload received. Unknown name "foo" at 'jobSpec': Cannot find field.`
// Stateless and thread-safe.

// Parses `json` into `message` (merging; callers pass a cleared message). `path_prefix` is
// prepended to error paths (e.g. "trainingTaskInputs" when parsing a Struct's contents).
absl::Status ParseJsonToMessage(absl::string_view json, google::protobuf::Message* message,
                                absl::string_view path_prefix = "");

// Same, from an already parsed document.
absl::Status ParseJsonDocumentToMessage(const nlohmann::json& json, google::protobuf::Message* message,
                                        absl::string_view path_prefix = "");

// Renders `message` in lowerCamel JSON; enums as integers when `int_enums`, as names otherwise.
std::string MessageToJson(const google::protobuf::Message& message, bool int_enums);

}  // namespace kiln::protojson

#endif  // KILN_PROTOJSON_JSON_CODEC_H_
