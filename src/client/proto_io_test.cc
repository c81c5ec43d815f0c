#include "client/proto_io.h"

#include <string>

#include "gmock/gmock.h"
#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "google/cloud/aiplatform/v1/job_service.pb.h"
#include "google/cloud/aiplatform/v1/model_service.pb.h"
#include "gtest/gtest.h"

namespace kiln::client {
namespace {

namespace v1 = google::cloud::aiplatform::v1;
using ::nlohmann::json;
using ::testing::HasSubstr;

TEST(ProtoIoTest, RequestsAreWhatTheServersCodecPrints) {
  v1::CustomJob job;
  job.set_display_name("train");
  v1::WorkerPoolSpec* pool = job.mutable_job_spec()->add_worker_pool_specs();
  pool->mutable_machine_spec()->set_accelerator_type(v1::NVIDIA_TESLA_T4);
  pool->set_replica_count(2);
  job.mutable_job_spec()->add_worker_pool_specs();  // an empty pool stays {}
  EXPECT_EQ(RequestJson(job),
            R"({"displayName":"train","jobSpec":{"workerPoolSpecs":[{"machineSpec":{"acceleratorType":)"
            R"("NVIDIA_TESLA_T4"},"replicaCount":"2"},{}]}})");
  EXPECT_EQ(MessageJson(job)["jobSpec"]["workerPoolSpecs"][0]["replicaCount"], "2");
  EXPECT_EQ(RequestJson(v1::CancelCustomJobRequest()), "{}");
}

TEST(ProtoIoTest, MessageToValueHoldsTheMessagesJson) {
  v1::CustomJobSpec spec;
  spec.mutable_base_output_directory()->set_output_uri_prefix("gs://b/out");
  google::protobuf::Value value = MessageToValue(spec);
  ASSERT_TRUE(value.has_struct_value());
  EXPECT_EQ(value.struct_value()
                .fields()
                .at("baseOutputDirectory")
                .struct_value()
                .fields()
                .at("outputUriPrefix")
                .string_value(),
            "gs://b/out");
}

TEST(ProtoIoTest, AnswersIgnoreUnknownFieldsButNotWrongShapes) {
  absl::StatusOr<v1::CustomJob> job = ReadAnswer<v1::CustomJob>(
      json{{"name", "j"}, {"state", 3}, {"kilnStatus", {{"x", 1}}}, {"newerField", true}}, "customJobs.get");
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->name(), "j");
  EXPECT_EQ(job->state(), v1::JOB_STATE_RUNNING);

  absl::StatusOr<v1::CustomJob> bad = ReadAnswer<v1::CustomJob>(json{{"state", json::object()}}, "customJobs.get");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(bad.status().message(), HasSubstr("the server's answer to customJobs.get is not a CustomJob"));
  EXPECT_EQ(ReadAnswer<v1::CustomJob>(json::array(), "x").status().code(), absl::StatusCode::kInternal);
}

TEST(ProtoIoTest, OperationsReadTheirResponseWithOrWithoutType) {
  google::longrunning::Operation operation;
  v1::UploadModelResponse response;
  ASSERT_TRUE(
      ReadOperation(json{{"name", "op"}, {"done", true}, {"response", {{"model", "m"}}}}, "get", &operation, &response)
          .ok());
  EXPECT_TRUE(operation.done());
  EXPECT_EQ(operation.name(), "op");
  EXPECT_EQ(response.model(), "m");

  const json typed = {{"done", true},
                      {"metadata", {{"@type", "type.googleapis.com/unknown.Type"}}},
                      {"response",
                       {{"@type", "type.googleapis.com/google.cloud.aiplatform.v1.UploadModelResponse"},
                        {"model", "m2"},
                        {"modelVersionId", "3"}}}};
  ASSERT_TRUE(ReadOperation(typed, "get", &operation, &response).ok());
  EXPECT_EQ(response.model(), "m2");
  EXPECT_EQ(response.model_version_id(), "3");
  EXPECT_TRUE(ReadOperation(typed, "get", &operation).ok());

  absl::Status bad = ReadOperation(json{{"done", true}, {"response", "m"}}, "get", &operation, &response);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(bad.message(), HasSubstr("response that is not a UploadModelResponse"));
}

TEST(ProtoIoTest, OperationErrors) {
  google::longrunning::Operation operation;
  EXPECT_TRUE(OperationError(operation, "failed").ok());
  operation.mutable_error();
  EXPECT_EQ(OperationError(operation, "the operation failed"), absl::UnknownError("the operation failed"));
  operation.mutable_error()->set_code(9);
  operation.mutable_error()->set_message("boom");
  EXPECT_EQ(OperationError(operation, "x"), absl::FailedPreconditionError("boom"));
  operation.mutable_error()->set_code(99);
  EXPECT_EQ(OperationError(operation, "x").code(), absl::StatusCode::kUnknown);
}

TEST(ProtoIoTest, RpcStatusesAreNeverOk) {
  google::rpc::Status status;
  EXPECT_EQ(FromRpcStatus(status, "job ended in state JOB_STATE_FAILED"),
            absl::UnknownError("job ended in state JOB_STATE_FAILED"));
  status.set_code(5);
  status.set_message("gone");
  EXPECT_EQ(FromRpcStatus(status, "x"), absl::NotFoundError("gone"));
}

TEST(ProtoIoTest, JsonKeysComeFromTheDescriptors) {
  EXPECT_EQ(JsonKey<v1::ListModelVersionsResponse>(v1::ListModelVersionsResponse::kNextPageTokenFieldNumber),
            "nextPageToken");
  EXPECT_EQ(JsonKey<v1::CustomJob>(v1::CustomJob::kJobSpecFieldNumber), "jobSpec");
}

TEST(ProtoIoTest, SetStringsReplacesTheItems) {
  v1::ContainerSpec spec;
  spec.add_args("old");
  SetStrings({"a", "b"}, spec.mutable_args());
  EXPECT_THAT(spec.args(), testing::ElementsAre("a", "b"));
}

}  // namespace
}  // namespace kiln::client
