#ifndef KILN_JOBS_TEST_UTIL_H_
#define KILN_JOBS_TEST_UTIL_H_

// Test helpers for kiln_jobs: protos from JSON, as clients send them.

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace kiln::jobs::testing {

// Parses `json` into a T (camelCase or snake_case names); fails the test when it does not parse.
template <typename T>
T FromJson(absl::string_view json) {
  T message;
  auto status =
      google::protobuf::util::JsonStringToMessage(google::protobuf::StringPiece(json.data(), json.size()), &message);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return message;
}

}  // namespace kiln::jobs::testing

#endif  // KILN_JOBS_TEST_UTIL_H_
