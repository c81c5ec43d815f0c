#include "client/pipeline_flags.h"

#include <optional>
#include <string>

#include "client/proto_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::client {
namespace {

using ::nlohmann::json;
using ::testing::HasSubstr;

constexpr char kLocation[] = "projects/demo/locations/us-central1";

PipelineFlags PackageFlags() {
  PipelineFlags flags;
  flags.display_name = "train";
  flags.python_package_uris = "gs://b/trainer-0.1.tar.gz,gs://b/extra.tar.gz";
  flags.python_module = "trainer.task";
  flags.container_uri = "executor:1";
  return flags;
}

PipelineFlags ContainerFlags() {
  PipelineFlags flags;
  flags.display_name = "train";
  flags.container_image_uri = "img:1";
  return flags;
}

std::string Error(const PipelineFlags& flags, const std::optional<StagedScript>& script = std::nullopt) {
  auto built = BuildTrainingPipeline(flags, kLocation, script);
  EXPECT_FALSE(built.ok()) << built->DebugString();
  if (built.ok()) return "";
  EXPECT_EQ(built.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(built.status().message());
}

TEST(PipelineFlagsTest, PythonPackageWithEveryFlag) {
  PipelineFlags flags = PackageFlags();
  flags.args = "--epochs=5,--lr=0.1";
  flags.arg = {"--layers=64,32"};
  flags.replica_count = 3;
  flags.machine_type = "n1-highmem-8";
  flags.accelerator_type = "NVIDIA_TESLA_T4";
  flags.env_vars = "A=1,B=x=y";
  flags.timeout = "2h";
  flags.base_output_dir = "gs://b/out";
  flags.labels = "team=ml";
  flags.model_serving_container_image_uri = "serve:1";
  flags.model_description = "a model";
  flags.parent_model = "77";
  flags.version_aliases = "candidate,v2";
  flags.model_labels = "stage=dev";
  flags.artifact_uri = "gs://b/out/model";
  auto message = BuildTrainingPipeline(flags, kLocation, {});
  ASSERT_TRUE(message.ok()) << message.status();
  const json built = MessageJson(*message);
  const json task = json::parse(R"({"executorImageUri": "executor:1",
      "packageUris": ["gs://b/trainer-0.1.tar.gz", "gs://b/extra.tar.gz"],
      "pythonModule": "trainer.task",
      "args": ["--epochs=5", "--lr=0.1", "--layers=64,32"],
      "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "x=y"}]})");
  const json machine = {
      {"machineType", "n1-highmem-8"}, {"acceleratorType", "NVIDIA_TESLA_T4"}, {"acceleratorCount", 1}};
  const json expected = {{"displayName", "train"},
                         {"trainingTaskDefinition", kCustomTaskDefinition},
                         {"trainingTaskInputs",
                          {{"workerPoolSpecs",
                            {{{"machineSpec", machine}, {"replicaCount", "1"}, {"pythonPackageSpec", task}},
                             {{"machineSpec", machine}, {"replicaCount", "2"}, {"pythonPackageSpec", task}}}},
                           {"baseOutputDirectory", {{"outputUriPrefix", "gs://b/out"}}},
                           {"scheduling", {{"timeout", "7200s"}}}}},
                         {"labels", {{"team", "ml"}}},
                         {"modelToUpload",
                          {{"displayName", "train"},
                           {"description", "a model"},
                           {"containerSpec", {{"imageUri", "serve:1"}}},
                           {"artifactUri", "gs://b/out/model"},
                           {"versionAliases", {"candidate", "v2"}},
                           {"labels", {{"stage", "dev"}}}}},
                         {"parentModel", std::string(kLocation) + "/models/77"}};
  EXPECT_EQ(built, expected) << built.dump(2);
}

TEST(PipelineFlagsTest, ContainerWithOneReplicaAndNoModel) {
  PipelineFlags flags = ContainerFlags();
  flags.command = "python,-m,trainer";
  flags.accelerator_type = "ACCELERATOR_TYPE_UNSPECIFIED";  // The SDK default.
  auto message = BuildTrainingPipeline(flags, kLocation, {});
  ASSERT_TRUE(message.ok()) << message.status();
  const json built = MessageJson(*message);
  const json expected = json::parse(R"({
      "displayName": "train",
      "trainingTaskDefinition": "gs://google-cloud-aiplatform/schema/trainingjob/definition/custom_task_1.0.0.yaml",
      "trainingTaskInputs": {"workerPoolSpecs": [{
          "machineSpec": {"machineType": "n1-standard-4"},
          "replicaCount": "1",
          "containerSpec": {"imageUri": "img:1",
                            "command": ["python", "-m", "trainer"]}}]}})");
  EXPECT_EQ(built, expected) << built.dump(2);
}

TEST(PipelineFlagsTest, ScriptUsesTheStagedPackage) {
  PipelineFlags flags;
  flags.display_name = "train";
  flags.script = "train.py";
  flags.container_uri = "executor:1";
  flags.staging_bucket = "gs://b/staging";
  flags.model_display_name = "my-model";
  flags.model_id = "my_model";
  flags.accelerator_type = "NVIDIA_TESLA_T4";
  flags.accelerator_count = 2;
  auto message = BuildTrainingPipeline(flags, kLocation, StagedScript{"gs://b/staging/pkg.tar.gz", "pkg.task"});
  ASSERT_TRUE(message.ok()) << message.status();
  const json built = MessageJson(*message);
  const json& pool = built["trainingTaskInputs"]["workerPoolSpecs"][0];
  EXPECT_EQ(pool["pythonPackageSpec"], json::parse(R"({"executorImageUri": "executor:1",
                "packageUris": ["gs://b/staging/pkg.tar.gz"],
                "pythonModule": "pkg.task"})"));
  EXPECT_EQ(pool["machineSpec"]["acceleratorCount"], 2);
  EXPECT_EQ(built["modelToUpload"], json({{"displayName", "my-model"}}));
  EXPECT_EQ(built["modelId"], "my_model");
  EXPECT_FALSE(built.contains("parentModel"));
}

TEST(PipelineFlagsTest, ParentModelForms) {
  PipelineFlags flags = ContainerFlags();
  flags.parent_model = "projects/other/locations/europe-west4/models/9";
  auto message = BuildTrainingPipeline(flags, kLocation, {});
  ASSERT_TRUE(message.ok()) << message.status();
  const json built = MessageJson(*message);
  EXPECT_EQ(built["parentModel"], flags.parent_model);
  EXPECT_EQ(built["modelToUpload"]["displayName"], "train");

  flags.parent_model = "9@2";
  EXPECT_THAT(Error(flags), HasSubstr("--parent-model: \"9@2\" names a version"));
  flags.parent_model = "projects/p/models/9";
  EXPECT_THAT(Error(flags), HasSubstr("is not a model ID or a name"));
  flags.parent_model = "9";
  flags.model_id = "m";
  EXPECT_THAT(Error(flags), HasSubstr("exclude each other"));
  flags.parent_model.clear();
  flags.model_id = "9model";
  EXPECT_THAT(Error(flags), HasSubstr("--model-id: \"9model\" must be"));
}

TEST(PipelineFlagsTest, SourceErrors) {
  PipelineFlags both = PackageFlags();
  both.container_image_uri = "img:1";
  EXPECT_EQ(Error(both),
            "give one training source, not --python-package-uris/"
            "--python-module and --container-image-uri");

  PipelineFlags none;
  none.display_name = "train";
  EXPECT_THAT(Error(none), HasSubstr("no training code"));

  PipelineFlags script;
  script.display_name = "train";
  script.script = "train.py";
  EXPECT_EQ(Error(script),
            "--script needs --container-uri (the executor image that runs "
            "the code)");

  PipelineFlags command = PackageFlags();
  command.command = "python";
  EXPECT_THAT(Error(command), HasSubstr("--command applies to --container-image-uri only"));

  PipelineFlags executor = ContainerFlags();
  executor.container_uri = "executor:1";
  EXPECT_THAT(Error(executor), HasSubstr("--container-uri is the executor"));

  PipelineFlags staging = ContainerFlags();
  staging.staging_bucket = "gs://b";
  EXPECT_EQ(Error(staging), "--staging-bucket applies to --script only");

  PipelineFlags no_module = PackageFlags();
  no_module.python_module.clear();
  EXPECT_THAT(Error(no_module), HasSubstr("needs --python-module"));

  PipelineFlags no_uris = PackageFlags();
  no_uris.python_package_uris.clear();
  EXPECT_THAT(Error(no_uris), HasSubstr("--python-module needs"));
}

TEST(PipelineFlagsTest, OtherFlagErrors) {
  PipelineFlags flags = ContainerFlags();
  flags.display_name.clear();
  EXPECT_EQ(Error(flags), "--display-name is required");
  flags = ContainerFlags();
  flags.replica_count = 0;
  EXPECT_THAT(Error(flags), HasSubstr("--replica-count must be >= 1"));
  flags = ContainerFlags();
  flags.accelerator_count = 2;
  EXPECT_EQ(Error(flags), "--accelerator-count needs --accelerator-type");
  flags = ContainerFlags();
  flags.timeout = "soon";
  EXPECT_THAT(Error(flags), HasSubstr("--timeout"));
  flags = ContainerFlags();
  flags.model_labels = "Bad=1";
  EXPECT_THAT(Error(flags), HasSubstr("--model-labels: key \"Bad\""));
  flags = ContainerFlags();
  flags.version_aliases = "ok,Bad";
  EXPECT_THAT(Error(flags), HasSubstr("--version-aliases: \"Bad\""));
  flags = ContainerFlags();
  flags.env_vars = "NOEQUALS";
  EXPECT_THAT(Error(flags), HasSubstr("--env-vars"));
  flags = ContainerFlags();
  flags.accelerator_type = "T4";
  EXPECT_THAT(Error(flags), HasSubstr("--accelerator-type: \"T4\" is not an accelerator type (one of "));
}

TEST(PipelineFlagsTest, VersionAliasesAndModelIds) {
  EXPECT_TRUE(CheckVersionAliases("--aliases", {"prod", "v-2", "-old"}, true).ok());
  EXPECT_FALSE(CheckVersionAliases("--aliases", {"-old"}, false).ok());
  EXPECT_FALSE(CheckVersionAliases("--aliases", {"a"}, false).ok());
  EXPECT_FALSE(CheckVersionAliases("--aliases", {"prod-"}, false).ok());
  EXPECT_FALSE(CheckVersionAliases("--aliases", {"1prod"}, false).ok());
  EXPECT_TRUE(CheckModelId("my-model_1").ok());
  EXPECT_FALSE(CheckModelId("-m").ok());
  EXPECT_FALSE(CheckModelId(std::string(64, 'a')).ok());
}

}  // namespace
}  // namespace kiln::client
