#include "protojson/json_codec.h"

#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "google/cloud/aiplatform/v1/training_pipeline.pb.h"
#include "gtest/gtest.h"

namespace kiln::protojson {
namespace {

using google::cloud::aiplatform::v1::CustomJob;
using google::cloud::aiplatform::v1::TrainingPipeline;

absl::Status Parse(const char* json) {
  CustomJob job;
  return ParseJsonToMessage(json, &job);
}

TEST(JsonCodecTest, AcceptsCamelAndSnakeCaseAndInt64AsStringOrNumber) {
  CustomJob job;
  ASSERT_TRUE(
      ParseJsonToMessage(
          R"({"display_name":"a","jobSpec":{"worker_pool_specs":[{"replicaCount":"2"},{"replica_count":3}]}})", &job)
          .ok());
  EXPECT_EQ(job.display_name(), "a");
  EXPECT_EQ(job.job_spec().worker_pool_specs(0).replica_count(), 2);
  EXPECT_EQ(job.job_spec().worker_pool_specs(1).replica_count(), 3);
}

TEST(JsonCodecTest, AcceptsEnumsByNameOrNumber) {
  CustomJob job;
  ASSERT_TRUE(ParseJsonToMessage(R"({"state":"JOB_STATE_RUNNING"})", &job).ok());
  EXPECT_EQ(job.state(), google::cloud::aiplatform::v1::JOB_STATE_RUNNING);
  ASSERT_TRUE(ParseJsonToMessage(R"({"state":4})", &job).ok());
  EXPECT_EQ(job.state(), google::cloud::aiplatform::v1::JOB_STATE_SUCCEEDED);
}

TEST(JsonCodecTest, UnknownFieldNamesThePathAsSent) {
  absl::Status s = Parse(R"({"jobSpec":{"workerPoolSpecs":[{"replicaCount":1},{"noSuchField":1}]}})");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "Invalid JSON payload received. Unknown name \"noSuchField\" at 'jobSpec.workerPoolSpecs[1]': "
            "Cannot find field.");
  s = Parse(R"({"bogus":1})");
  EXPECT_EQ(s.message(), "Invalid JSON payload received. Unknown name \"bogus\": Cannot find field.");
}

TEST(JsonCodecTest, WrongTypeNamesTheUsersPath) {
  absl::Status s = Parse(R"({"jobSpec":{"workerPoolSpecs":[{"replicaCount":"abc"}]}})");
  EXPECT_EQ(s.message(), "jobSpec.workerPoolSpecs[0].replicaCount: invalid value \"abc\": expected an integer");
  s = Parse(R"({"job_spec":{"worker_pool_specs":[{"replica_count":1.5}]}})");
  EXPECT_EQ(s.message(), "job_spec.worker_pool_specs[0].replica_count: invalid value 1.5: expected an integer");
  s = Parse(R"({"displayName":5})");
  EXPECT_EQ(s.message(), "displayName: invalid value 5: expected a string");
}

TEST(JsonCodecTest, BadEnumListsTheValues) {
  absl::Status s = Parse(R"({"state":"RUNNING"})");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("state: invalid value \"RUNNING\": not a value of google.cloud.aiplatform.v1.JobState"),
            absl::string_view::npos)
      << s.message();
  EXPECT_NE(s.message().find("JOB_STATE_RUNNING"), absl::string_view::npos);
  s = Parse(R"({"state":99})");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << "unknown enum numbers are refused";
}

TEST(JsonCodecTest, ShapeErrorsProtobufWouldAccept) {
  EXPECT_EQ(Parse(R"({"jobSpec":{"workerPoolSpecs":{}}})").message(),
            "jobSpec.workerPoolSpecs: invalid value {}: expected a list");
  EXPECT_EQ(Parse(R"({"jobSpec":[]})").message(), "jobSpec: invalid value []: expected an object");
  EXPECT_EQ(Parse(R"({"labels":{"a":1}})").message(), "labels.a: invalid value 1: expected a string");
}

TEST(JsonCodecTest, OneofConflictNamesBothFields) {
  absl::Status s =
      Parse(R"({"jobSpec":{"workerPoolSpecs":[{"containerSpec":{"imageUri":"a"},"pythonPackageSpec":{}}]}})");
  EXPECT_EQ(s.message(),
            "jobSpec.workerPoolSpecs[0].containerSpec: only one of the oneof 'task' may be set, but "
            "pythonPackageSpec is set too");
}

TEST(JsonCodecTest, DurationErrorsSayHowToSpellIt) {
  absl::Status s = Parse(R"({"jobSpec":{"scheduling":{"timeout":"1h"}}})");
  EXPECT_EQ(s.message(),
            "jobSpec.scheduling.timeout: expected a duration in seconds with an \"s\" suffix, e.g. \"3600s\"");
}

TEST(JsonCodecTest, SyntaxErrorsAndNonObjects) {
  EXPECT_NE(Parse(R"({"displayName":)").message().find("Invalid JSON payload received. parse error"),
            absl::string_view::npos);
  EXPECT_EQ(Parse("[1]").message(), "Invalid JSON payload received. The body must be a JSON object, got array.");
}

TEST(JsonCodecTest, StructsTakeAnyJsonAndPrefixesApply) {
  TrainingPipeline p;
  ASSERT_TRUE(ParseJsonToMessage(R"({"trainingTaskInputs":{"anything":[1,{"x":null}]}})", &p).ok());
  CustomJob job;
  absl::Status s = ParseJsonToMessage(R"({"bogus":1})", &job, "trainingTaskInputs");
  EXPECT_EQ(s.message(),
            "Invalid JSON payload received. Unknown name \"bogus\" at 'trainingTaskInputs': Cannot find field.");
}

TEST(JsonCodecTest, PrintsCamelCaseWithNamedOrIntegerEnums) {
  CustomJob job;
  job.set_display_name("a");
  job.set_state(google::cloud::aiplatform::v1::JOB_STATE_QUEUED);
  EXPECT_EQ(MessageToJson(job, false), R"({"displayName":"a","state":"JOB_STATE_QUEUED"})");
  EXPECT_EQ(MessageToJson(job, true), R"({"displayName":"a","state":1})");
}

}  // namespace
}  // namespace kiln::protojson
