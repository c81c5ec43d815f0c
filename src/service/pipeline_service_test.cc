#include "service/pipeline_service.h"

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "service/test_util.h"

namespace kiln::service {
namespace {

namespace v1 = google::cloud::aiplatform::v1;
using ::testing::HasSubstr;

constexpr char kParent[] = "projects/p/locations/us-central1";

v1::TrainingPipeline FromJson(const std::string& json) {
  v1::TrainingPipeline p;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &p).ok()) << json;
  return p;
}

constexpr char kValid[] = R"({
  "displayName": "pipe",
  "trainingTaskDefinition": "gs://google-cloud-aiplatform/schema/trainingjob/definition/custom_task_1.0.0.yaml",
  "trainingTaskInputs": {"workerPoolSpecs": [{"replicaCount": "1", "machineSpec": {"machineType": "n1-standard-4"},
                          "containerSpec": {"imageUri": "img", "command": ["true"]}}],
                         "baseOutputDirectory": {"outputUriPrefix": "gs://b/out"}},
  "modelToUpload": {"displayName": "m"}
})";

class PipelineServiceTest : public ::testing::Test {
 protected:
  PipelineServiceTest() : store_(OpenTestStore()), ops_(store_.get()), service_(store_.get(), &ops_, &clock_) {}

  absl::StatusOr<v1::TrainingPipeline> Create(const v1::TrainingPipeline& p) {
    v1::CreateTrainingPipelineRequest req;
    req.set_parent(kParent);
    *req.mutable_training_pipeline() = p;
    return service_.CreateTrainingPipeline(req);
  }

  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  OperationsService ops_;
  PipelineService service_;
};

TEST_F(PipelineServiceTest, CreateStoresAQueuedPipeline) {
  auto p = Create(FromJson(kValid));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->state(), v1::PIPELINE_STATE_QUEUED);
  EXPECT_THAT(p->name(), HasSubstr("/trainingPipelines/"));
  v1::GetTrainingPipelineRequest get;
  get.set_name(p->name());
  EXPECT_TRUE(service_.GetTrainingPipeline(get).ok());
}

TEST_F(PipelineServiceTest, SnakeCaseInputsAreAccepted) {
  v1::TrainingPipeline p = FromJson(kValid);
  auto spec = FromJson(R"({"trainingTaskInputs": {"worker_pool_specs": [{"replica_count": 1,
      "container_spec": {"image_uri": "img", "command": ["true"]}}],
      "base_output_directory": {"output_uri_prefix": "gs://b/o"}, "scheduling": {"timeout": "60s"}}})");
  *p.mutable_training_task_inputs() = spec.training_task_inputs();
  auto parsed = ParseCustomTaskInputs(p.training_task_inputs());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->worker_pool_specs(0).container_spec().image_uri(), "img");
  EXPECT_EQ(parsed->scheduling().timeout().seconds(), 60);
  EXPECT_TRUE(Create(p).ok());
}

TEST_F(PipelineServiceTest, ErrorsPointIntoTrainingTaskInputs) {
  v1::TrainingPipeline p = FromJson(kValid);
  auto bad = FromJson(R"({"trainingTaskInputs": {"workerPoolSpecs": [{"replicaCount": "x"}]}})");
  *p.mutable_training_task_inputs() = bad.training_task_inputs();
  EXPECT_EQ(Create(p).status().message(),
            "trainingTaskInputs.workerPoolSpecs[0].replicaCount: invalid value \"x\": expected an integer");
  bad = FromJson(R"({"trainingTaskInputs": {"workerPoolSpec": []}})");
  *p.mutable_training_task_inputs() = bad.training_task_inputs();
  EXPECT_EQ(
      Create(p).status().message(),
      "Invalid JSON payload received. Unknown name \"workerPoolSpec\" at 'trainingTaskInputs': Cannot find field.");
  bad = FromJson(
      R"({"trainingTaskInputs": {"workerPoolSpecs": [{"replicaCount": 0, "containerSpec": {"imageUri": "i"}}]}})");
  *p.mutable_training_task_inputs() = bad.training_task_inputs();
  EXPECT_EQ(Create(p).status().message(), "trainingTaskInputs.workerPoolSpecs[0].replicaCount: must be ≥ 1");
}

TEST_F(PipelineServiceTest, TaskDefinitionRules) {
  v1::TrainingPipeline p = FromJson(kValid);
  p.set_training_task_definition("gs://x/y.yaml");
  absl::Status s = Create(p).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      s.message(),
      HasSubstr("supported: gs://google-cloud-aiplatform/schema/trainingjob/definition/custom_task_1.0.0.yaml"));
  p.set_training_task_definition(kHyperparameterTuningTaskDefinition);
  EXPECT_EQ(Create(p).status().code(), absl::StatusCode::kUnimplemented);
  p = FromJson(kValid);
  p.mutable_input_data_config()->set_dataset_id("1");
  s = Create(p).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), HasSubstr("inputDataConfig"));
}

TEST_F(PipelineServiceTest, ModelLocationRules) {
  v1::TrainingPipeline p = FromJson(kValid);
  auto spec = ParseCustomTaskInputs(p.training_task_inputs());
  EXPECT_EQ(*ModelArtifactUri(p, *spec), "gs://b/out/model/");
  p.mutable_model_to_upload()->set_artifact_uri("gs://other/model");
  EXPECT_EQ(*ModelArtifactUri(p, *spec), "gs://other/model") << "artifactUri wins";
  auto no_base = FromJson(
      R"({"trainingTaskInputs": {"workerPoolSpecs": [{"replicaCount": 1, "containerSpec": {"imageUri": "i", "command": ["true"]}}]}})");
  p = FromJson(kValid);
  *p.mutable_training_task_inputs() = no_base.training_task_inputs();
  absl::Status s = Create(p).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("modelToUpload.artifactUri: set it, or trainingTaskInputs.baseOutputDirectory"));
}

TEST_F(PipelineServiceTest, ModelFieldRules) {
  v1::TrainingPipeline p = FromJson(kValid);
  p.set_model_id("9bad");
  EXPECT_THAT(Create(p).status().message(), HasSubstr("modelId: \"9bad\" must be"));
  p.set_model_id("good-id");
  p.set_parent_model("projects/p/locations/us-central1/models/1");
  EXPECT_THAT(Create(p).status().message(), HasSubstr("modelId: must not be set with parentModel"));
  p = FromJson(kValid);
  p.mutable_model_to_upload()->add_version_aliases("Bad");
  EXPECT_THAT(Create(p).status().message(), HasSubstr("modelToUpload.versionAliases[0]"));
  p = FromJson(kValid);
  p.mutable_model_to_upload()->clear_display_name();
  EXPECT_EQ(Create(p).status().message(), "modelToUpload.displayName: is required");
}

TEST_F(PipelineServiceTest, CancelAndDelete) {
  auto p = Create(FromJson(kValid));
  ASSERT_TRUE(p.ok());
  v1::DeleteTrainingPipelineRequest del;
  del.set_name(p->name());
  EXPECT_EQ(service_.DeleteTrainingPipeline(del).status().code(), absl::StatusCode::kFailedPrecondition);
  v1::CancelTrainingPipelineRequest cancel;
  cancel.set_name(p->name());
  ASSERT_TRUE(service_.CancelTrainingPipeline(cancel).ok());
  v1::GetTrainingPipelineRequest get;
  get.set_name(p->name());
  EXPECT_EQ(service_.GetTrainingPipeline(get)->state(), v1::PIPELINE_STATE_CANCELLING);
  v1::ListTrainingPipelinesRequest list;
  list.set_parent(kParent);
  list.set_filter("training_task_definition:\"*custom_task*\" AND state=PIPELINE_STATE_CANCELLING");
  auto listed = service_.ListTrainingPipelines(list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->training_pipelines_size(), 1);
}

}  // namespace
}  // namespace kiln::service
