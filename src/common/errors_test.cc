#include "common/errors.h"

#include "gtest/gtest.h"

namespace kiln {
namespace {

TEST(ErrorsTest, MapsCodesToGoogleHttpStatuses) {
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kCancelled), 499);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(absl::StatusCode::kDeadlineExceeded), 504);
}

TEST(ErrorsTest, NamesCodesCanonically) {
  EXPECT_EQ(CanonicalCodeName(absl::StatusCode::kInvalidArgument), "INVALID_ARGUMENT");
  EXPECT_EQ(CanonicalCodeName(absl::StatusCode::kUnauthenticated), "UNAUTHENTICATED");
}

TEST(ErrorsTest, FieldErrorNamesFieldAndRule) {
  absl::Status s = FieldError("jobSpec.workerPoolSpecs[0].replicaCount", "must be ≥ 1");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "jobSpec.workerPoolSpecs[0].replicaCount: must be ≥ 1");
}

}  // namespace
}  // namespace kiln
