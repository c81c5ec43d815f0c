#include "jobs/validation.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jobs/test_util.h"

namespace kiln::jobs {
namespace {

namespace aip = google::cloud::aiplatform::v1;
using ::kiln::jobs::testing::FromJson;
using ::testing::HasSubstr;

constexpr absl::string_view kPath = "customJob.jobSpec";
constexpr absl::string_view kPool0 = "customJob.jobSpec.workerPoolSpecs[0]";

// A valid primary pool with a container image the test image map knows.
constexpr absl::string_view kContainerPool = R"({
  "machineSpec": {"machineType": "n1-standard-4"}, "replicaCount": "1",
  "containerSpec": {"imageUri": "local/trainer:1", "args": ["--epochs=2"]}})";

class ValidationTest : public ::testing::Test {
 protected:
  ValidationTest()
      : storage_("/kiln/storage"),
        images_(
            {{.pattern = "local/trainer:*", .entrypoint = {"python3", "-m", "trainer"}, .python = "/usr/bin/python3"},
             {.pattern = "local/noentry:*", .python = "/usr/bin/python3"},
             {.pattern = "local/nopython:*", .entrypoint = {"run"}}}) {
    config_.images = &images_;
    config_.storage = &storage_;
    config_.accelerator_inventory = {{"NVIDIA_TESLA_T4", 2}};
  }

  absl::Status Validate(absl::string_view spec_json) {
    return ValidateCustomJobSpec(kPath, FromJson<aip::CustomJobSpec>(spec_json), config_);
  }
  absl::Status ValidatePools(std::initializer_list<absl::string_view> pools) {
    return Validate(absl::StrCat(R"({"workerPoolSpecs": [)", absl::StrJoin(pools, ","), "]}"));
  }
  // Pool 0 = kContainerPool with `patch` merged into it (as JSON fields).
  absl::Status ValidatePool0(absl::string_view fields) {
    return ValidatePools({absl::StrCat(R"({"replicaCount": "1", )", fields, "}")});
  }

  void ExpectError(const absl::Status& status, absl::string_view message) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_EQ(status.message(), message);
  }

  storage::ObjectStore storage_;
  ImageMap images_;
  JobsConfig config_;
};

TEST_F(ValidationTest, AcceptsAValidJob) {
  EXPECT_TRUE(ValidatePools({kContainerPool}).ok());
  EXPECT_TRUE(Validate(absl::StrCat(R"({"workerPoolSpecs": [)", kContainerPool, R"(],
      "scheduling": {"timeout": "604800s"},
      "baseOutputDirectory": {"outputUriPrefix": "gs://bucket/out/"}})"))
                  .ok());
  // snake_case, as the Python SDK sends inside trainingTaskInputs.
  EXPECT_TRUE(Validate(R"({"worker_pool_specs": [{"replica_count": 1,
      "machine_spec": {"machine_type": "n1-standard-4"},
      "python_package_spec": {"executor_image_uri":
          "us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest",
          "package_uris": ["gs://bucket/trainer-0.1.tar.gz"], "python_module": "trainer.task"}}]})")
                  .ok());
}

TEST_F(ValidationTest, NeedsWorkerPools) {
  ExpectError(Validate("{}"),
              "customJob.jobSpec.workerPoolSpecs: is required: give at least the primary worker "
              "pool (containerSpec or pythonPackageSpec, machineSpec, replicaCount 1)");
  ExpectError(ValidatePools({kContainerPool, "{}", "{}", "{}", "{}"}),
              "customJob.jobSpec.workerPoolSpecs: has 5 pools; at most 4 are allowed (primary, "
              "workers, parameter servers, evaluators)");
}

TEST_F(ValidationTest, EmptyPools) {
  ExpectError(ValidatePools({"{}", kContainerPool}), absl::StrCat(kPool0,
                                                                  ": the primary worker pool must not be empty: set "
                                                                  "containerSpec or pythonPackageSpec, machineSpec and "
                                                                  "replicaCount 1"));
  EXPECT_TRUE(ValidatePools({kContainerPool, "{}", kContainerPool}).ok());
}

TEST_F(ValidationTest, ReplicaCount) {
  ExpectError(ValidatePools({kContainerPool, R"({"containerSpec": {"imageUri": "local/trainer:1"},
                                              "replicaCount": "0"})"}),
              "customJob.jobSpec.workerPoolSpecs[1].replicaCount: must be ≥ 1");
  ExpectError(ValidatePools({kContainerPool, R"({"containerSpec": {"imageUri": "local/trainer:1"}})"}),
              "customJob.jobSpec.workerPoolSpecs[1].replicaCount: must be ≥ 1");
  ExpectError(ValidatePools({R"({"containerSpec": {"imageUri": "local/trainer:1"},
                                 "replicaCount": "2"})"}),
              absl::StrCat(kPool0,
                           ".replicaCount: must be 1: the primary pool runs exactly "
                           "one replica; put more replicas in workerPoolSpecs[1]"));
}

TEST_F(ValidationTest, NeedsContainerOrPythonPackage) {
  ExpectError(ValidatePool0(R"("machineSpec": {"machineType": "n1-standard-4"})"),
              absl::StrCat(kPool0,
                           ": sets neither containerSpec nor pythonPackageSpec; set one "
                           "of them (or make the whole pool {} to skip it)"));
}

TEST_F(ValidationTest, ArgsLimitCountsEveryPool) {
  std::string half = absl::StrCat(R"("containerSpec": {"imageUri": "local/trainer:1", "args": [")",
                                  std::string(30'000, 'a'), R"(", ")", std::string(30'000, 'b'), R"("]})");
  std::string pool = absl::StrCat(R"({"replicaCount": "1", )", half, "}");
  EXPECT_TRUE(ValidatePools({pool}).ok());
  ExpectError(ValidatePools({pool, pool}),
              "customJob.jobSpec.workerPoolSpecs[1].containerSpec.args: arguments of all worker "
              "pools total more than 100,000 characters (120000 so far); pass large inputs in a "
              "file instead");
  // Exactly at the limit is fine; characters are code points, not bytes.
  std::string exact = absl::StrCat(R"({"replicaCount": "1", "containerSpec": {"imageUri": )",
                                   R"("local/trainer:1", "args": [")", std::string(99'999, 'x'), R"(", "é"]}})");
  EXPECT_TRUE(ValidatePools({exact}).ok());
}

TEST_F(ValidationTest, PackageUris) {
  auto python_pool = [](absl::string_view uris, absl::string_view module = "trainer.task",
                        absl::string_view image = "local/trainer:1") {
    return absl::StrCat(R"({"replicaCount": "1", "pythonPackageSpec": {"executorImageUri": ")", image,
                        R"(", "packageUris": [)", uris, R"(], "pythonModule": ")", module, R"("}})");
  };
  EXPECT_TRUE(ValidatePools({python_pool(R"("gs://b12/p.tar.gz", "file:///tmp/q.tar.gz")")}).ok());
  std::vector<std::string> many(101, R"("gs://b12/p.tar.gz")");
  ExpectError(ValidatePools({python_pool(absl::StrJoin(many, ","))}),
              absl::StrCat(kPool0,
                           ".pythonPackageSpec.packageUris: has 101 entries; at most "
                           "100 are allowed"));
  ExpectError(ValidatePools({python_pool("")}),
              absl::StrCat(kPool0,
                           ".pythonPackageSpec.packageUris: is required: give at least "
                           "one gs:// or file:// URI of the Python source distribution "
                           "that holds pythonModule"));
  ExpectError(ValidatePools({python_pool(R"("gs://b12/ok.tar.gz", "s3://b/p.tar.gz")")}),
              absl::StrCat(kPool0,
                           ".pythonPackageSpec.packageUris[1]: unsupported URI scheme "
                           "'s3://' in 's3://b/p.tar.gz'; use gs://BUCKET/PATH or "
                           "file:///ABSOLUTE/PATH"));
  ExpectError(ValidatePools({python_pool(R"("gs://b12/../x.tar.gz")")}),
              absl::StrCat(kPool0,
                           ".pythonPackageSpec.packageUris[0]: 'gs://b12/../x.tar.gz' "
                           "contains a '..' path segment (possibly percent-encoded); "
                           "give the object path without '.' or '..'"));
  ExpectError(ValidatePools({python_pool(R"("gs://b12/p.tar.gz")", "")}),
              absl::StrCat(kPool0,
                           ".pythonPackageSpec.pythonModule: is required: the module "
                           "to run with `python -m`, e.g. trainer.task"));
  ExpectError(ValidatePools({python_pool(R"("gs://b12/p.tar.gz")", "m", "local/nopython:1")}),
              absl::StrCat(kPool0,
                           ".pythonPackageSpec.executorImageUri: the image map entry "
                           "for 'local/nopython:1' (pattern 'local/nopython:*') names "
                           "no Python interpreter; set python in that entry to run "
                           "Python packages with this image"));
}

TEST_F(ValidationTest, Env) {
  std::vector<std::string> entries;
  for (int i = 0; i < 101; ++i) entries.push_back(absl::StrCat(R"({"name": "V)", i, R"(", "value": "x"})"));
  ExpectError(ValidatePool0(absl::StrCat(R"("containerSpec": {"imageUri": "local/trainer:1", "env": [)",
                                         absl::StrJoin(entries, ","), "]}")),
              absl::StrCat(kPool0,
                           ".containerSpec.env: has 101 entries; at most 100 are "
                           "allowed per container: merge or drop some"));
  entries.pop_back();
  EXPECT_TRUE(ValidatePool0(absl::StrCat(R"("containerSpec": {"imageUri": "local/trainer:1", "env": [)",
                                         absl::StrJoin(entries, ","), "]}"))
                  .ok());
  for (const char* bad : {"1ABC", "A-B", "", "A B", "É"}) {
    ExpectError(ValidatePool0(absl::StrCat(
                    R"("containerSpec": {"imageUri": "local/trainer:1",
                "env": [{"name": "OK_1", "value": ""}, {"name": ")",
                    bad, R"(", "value": "x"}]})")),
                absl::StrCat(kPool0, ".containerSpec.env[1].name: '", bad,
                             "' is not a valid environment variable name: use letters, digits "
                             "and '_', not starting with a digit"));
  }
  ExpectError(ValidatePool0(R"("pythonPackageSpec": {"executorImageUri": "local/trainer:1",
                 "packageUris": ["gs://b12/p.tar.gz"], "pythonModule": "m",
                 "env": [{"name": "TF_CONFIG", "value": "{}"}]})"),
              absl::StrCat(kPool0,
                           ".pythonPackageSpec.env[0].name: TF_CONFIG is set by kiln to "
                           "describe the job it launched and cannot be overridden; "
                           "remove this entry"));
  EXPECT_TRUE(IsValidEnvName("_x9"));
  EXPECT_TRUE(IsValidEnvName("AIP_MODEL_DIR"));
}

TEST_F(ValidationTest, Timeout) {
  auto with_timeout = [&](absl::string_view timeout) {
    return Validate(absl::StrCat(R"({"workerPoolSpecs": [)", kContainerPool, R"(], "scheduling": {"timeout": ")",
                                 timeout, R"("}})"));
  };
  EXPECT_TRUE(with_timeout("1s").ok());
  EXPECT_TRUE(with_timeout("0.5s").ok());
  EXPECT_TRUE(with_timeout("604800s").ok());
  const std::string must_be_positive =
      "customJob.jobSpec.scheduling.timeout: must be > 0; leave it unset for the default of 7 "
      "days";
  ExpectError(with_timeout("0s"), must_be_positive);
  ExpectError(with_timeout("-5s"), must_be_positive);
  ExpectError(with_timeout("-0.5s"), must_be_positive);
  ExpectError(with_timeout("604801s"),
              "customJob.jobSpec.scheduling.timeout: must be at most 7 days (604800s); got "
              "604801s");
  ExpectError(with_timeout("604800.5s"),
              "customJob.jobSpec.scheduling.timeout: must be at most 7 days (604800s); got "
              "604800s");
  EXPECT_TRUE(Validate(absl::StrCat(R"({"workerPoolSpecs": [)", kContainerPool,
                                    R"(], "scheduling": {"disableRetries": true}})"))
                  .ok());
}

TEST_F(ValidationTest, MachineType) {
  absl::Status status = ValidatePool0(
      R"("machineSpec": {"machineType": "n1-standard-3"},
          "containerSpec": {"imageUri": "local/trainer:1"})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr(absl::StrCat(kPool0,
                                                       ".machineSpec.machineType: unknown machine type "
                                                       "'n1-standard-3'; known: n1-standard-4, "
                                                       "n1-standard-8, ")));
  // Unset = n1-standard-4.
  EXPECT_TRUE(ValidatePool0(R"("containerSpec": {"imageUri": "local/trainer:1"})").ok());
}

TEST_F(ValidationTest, Accelerators) {
  auto machine = [&](absl::string_view machine_spec, absl::string_view replicas = "1") {
    return ValidatePools(
        {kContainerPool, absl::StrCat(R"({"containerSpec": {"imageUri": "local/trainer:1"}, "replicaCount": ")",
                                      replicas, R"(", "machineSpec": )", machine_spec, "}")});
  };
  const std::string pool1 = "customJob.jobSpec.workerPoolSpecs[1]";
  EXPECT_TRUE(machine(R"({"machineType": "n1-standard-8", "acceleratorType": "NVIDIA_TESLA_T4",
                          "acceleratorCount": 2})")
                  .ok());
  // Integer enums, as the Node client sends them (5 = NVIDIA_TESLA_T4).
  EXPECT_TRUE(machine(R"({"acceleratorType": 5, "acceleratorCount": 1})").ok());
  ExpectError(machine(R"({"acceleratorCount": 1})"),
              pool1 +
                  ".machineSpec.acceleratorCount: is set but acceleratorType is not; set "
                  "acceleratorType (e.g. NVIDIA_TESLA_T4) or remove acceleratorCount");
  ExpectError(machine(R"({"acceleratorType": "NVIDIA_TESLA_T4"})"),
              pool1 +
                  ".machineSpec.acceleratorType: is NVIDIA_TESLA_T4 but acceleratorCount is "
                  "not set; set acceleratorCount ≥ 1 or remove acceleratorType");
  ExpectError(machine(R"({"acceleratorType": "NVIDIA_TESLA_T4", "acceleratorCount": -1})"),
              pool1 + ".machineSpec.acceleratorCount: must be ≥ 0");
  ExpectError(machine(R"({"acceleratorType": "NVIDIA_TESLA_V100", "acceleratorCount": 1})"),
              pool1 +
                  ".machineSpec.acceleratorType: can never be satisfied: this kiln has 0 "
                  "NVIDIA_TESLA_V100; add them to kiln's accelerator inventory or choose "
                  "another accelerator or machine type");
  ExpectError(machine(R"({"acceleratorType": "NVIDIA_TESLA_T4", "acceleratorCount": 4})"),
              pool1 +
                  ".machineSpec.acceleratorCount: can never be satisfied: one replica needs "
                  "4 NVIDIA_TESLA_T4 and this kiln has 2; lower the count");
  ExpectError(machine(R"({"acceleratorType": "NVIDIA_TESLA_T4", "acceleratorCount": 1})", "3"),
              pool1 +
                  ".replicaCount: can never be satisfied: the job's replicas run together "
                  "and need 3 NVIDIA_TESLA_T4 in all; this kiln has 2; lower replicaCount "
                  "or acceleratorCount");
  // Machine types that come with GPUs.
  ExpectError(machine(R"({"machineType": "a2-highgpu-1g"})"),
              pool1 +
                  ".machineSpec.machineType: can never be satisfied: this kiln has 0 "
                  "NVIDIA_TESLA_A100; add them to kiln's accelerator inventory or choose "
                  "another accelerator or machine type");
  ExpectError(machine(R"({"machineType": "a2-highgpu-1g", "acceleratorType": "NVIDIA_TESLA_T4",
                          "acceleratorCount": 1})"),
              pool1 +
                  ".machineSpec.acceleratorType: machine type a2-highgpu-1g comes with "
                  "NVIDIA_TESLA_A100; set acceleratorType to NVIDIA_TESLA_A100 or leave it "
                  "unset");
  config_.accelerator_inventory["NVIDIA_TESLA_A100"] = 8;
  EXPECT_TRUE(machine(R"({"machineType": "a2-highgpu-2g"})", "4").ok());
  EXPECT_TRUE(machine(R"({"machineType": "a2-highgpu-2g", "acceleratorType": "NVIDIA_TESLA_A100",
                          "acceleratorCount": 2})")
                  .ok());
  ExpectError(machine(R"({"machineType": "a2-highgpu-2g", "acceleratorType": "NVIDIA_TESLA_A100",
                          "acceleratorCount": 1})"),
              pool1 +
                  ".machineSpec.acceleratorCount: machine type a2-highgpu-2g comes with 2 "
                  "NVIDIA_TESLA_A100; set acceleratorCount to 2 or leave it unset");
}

TEST_F(ValidationTest, Images) {
  ExpectError(ValidatePool0(R"("containerSpec": {"imageUri": "docker.io/me/unknown:1"})"),
              absl::StrCat(kPool0,
                           ".containerSpec.imageUri: image 'docker.io/me/unknown:1' "
                           "maps to no local runtime; add an image map entry to kiln's "
                           "config (pattern, path_prefix, working_dir, entrypoint, "
                           "python) or use one of Vertex's prebuilt training images "
                           "(sklearn, scikit-learn, xgboost, pytorch)"));
  ExpectError(ValidatePool0(R"("containerSpec": {"command": ["x"]})"),
              absl::StrCat(kPool0,
                           ".containerSpec.imageUri: is required: the image to run "
                           "(see kiln's image map)"));
  absl::Status tf = ValidatePool0(
      R"("containerSpec": {
          "imageUri": "us-docker.pkg.dev/vertex-ai/training/tf-cpu.2-12.py310:latest",
          "command": ["python3"]})");
  EXPECT_EQ(tf.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(tf.message(), HasSubstr(absl::StrCat(kPool0, ".containerSpec.imageUri: image '")));
  EXPECT_THAT(tf.message(), HasSubstr("TensorFlow images need a TensorFlow installation; Debian "
                                      "has none: install one"));
  ExpectError(ValidatePool0(R"("containerSpec": {"imageUri": "local/noentry:1", "args": ["a"]})"),
              absl::StrCat(kPool0,
                           ".containerSpec.command: is empty and the image map entry "
                           "for 'local/noentry:1' (pattern 'local/noentry:*') has no "
                           "entrypoint; set containerSpec.command or add an entrypoint "
                           "for this image to the image map"));
  EXPECT_TRUE(ValidatePool0(R"("containerSpec": {"imageUri": "local/noentry:1", "command": ["sh"]})").ok());
  // Prebuilt images have no entrypoint either.
  ExpectError(ValidatePool0(
                  R"("containerSpec": {
              "imageUri": "us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest"})"),
              absl::StrCat(kPool0,
                           ".containerSpec.command: is empty and the image map entry "
                           "for 'us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest' "
                           "(pattern '*-docker.pkg.dev/vertex-ai/training/sklearn-cpu*') "
                           "has no entrypoint; set containerSpec.command or add an "
                           "entrypoint for this image to the image map"));
}

TEST_F(ValidationTest, BaseOutputDirectory) {
  ExpectError(Validate(absl::StrCat(R"({"workerPoolSpecs": [)", kContainerPool,
                                    R"(], "baseOutputDirectory": {"outputUriPrefix": "gs://Bad/x"}})")),
              "customJob.jobSpec.baseOutputDirectory.outputUriPrefix: 'Bad' in 'gs://Bad/x' is "
              "not a valid bucket name: use 3-63 characters of lowercase letters, digits, '.', "
              "'_' and '-', starting and ending with a letter or digit");
}

TEST_F(ValidationTest, EmptyPathAndMissingConfig) {
  absl::Status status = ValidateCustomJobSpec("", aip::CustomJobSpec(), config_);
  EXPECT_THAT(status.message(), HasSubstr("workerPoolSpecs: is required"));
  EXPECT_FALSE(absl::StartsWith(status.message(), "."));
  EXPECT_EQ(ValidateCustomJobSpec(kPath, aip::CustomJobSpec(), JobsConfig{}).code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace kiln::jobs
