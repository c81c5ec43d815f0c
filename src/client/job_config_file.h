#ifndef KILN_CLIENT_JOB_CONFIG_FILE_H_
#define KILN_CLIENT_JOB_CONFIG_FILE_H_

// `kiln custom-jobs create --config FILE`: reading a CustomJobSpec written in
// YAML or JSON, with camelCase or snake_case keys, into a CustomJobSpec.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "nlohmann/json.hpp"

namespace kiln::client {

// Converts one YAML document to JSON. Quoted scalars stay strings; plain
// scalars become null (~, null, empty), booleans (true/false in any case),
// integers, floats, or else strings. Maps become objects (keys as written),
// sequences arrays. An empty document is null. INVALID_ARGUMENT (with the
// parser's line/column message) for malformed YAML.
absl::StatusOr<nlohmann::json> YamlTextToJson(absl::string_view text);

// A copy of `value` whose object keys are camelCase ("worker_pool_specs" ->
// "workerPoolSpecs"), recursively, except the keys of any object found under
// a "labels" key (label keys are data, not field names).
nlohmann::json CamelCaseKeys(const nlohmann::json& value);

// Reads `path` as a CustomJobSpec: JSON when the text starts with '{' (after
// whitespace), YAML otherwise; keys camelCased (CamelCaseKeys), then parsed
// with the server's codec (protojson), so the file is checked as strictly as
// a request body. Errors, all naming the file: NOT_FOUND (missing or
// unreadable), INVALID_ARGUMENT (malformed, not a mapping, a whole CustomJob,
// i.e. with a jobSpec key, or not a CustomJobSpec: the codec's message with
// the field's path, e.g. `workerPoolSpecs[0].replicaCount: invalid value
// "x": expected an integer` or Google's `Unknown name "foo"`).
absl::StatusOr<google::cloud::aiplatform::v1::CustomJobSpec> LoadJobSpecFile(absl::string_view path);

}  // namespace kiln::client

#endif  // KILN_CLIENT_JOB_CONFIG_FILE_H_
