#include "client/worker_pool_flags.h"

#include <map>
#include <string>
#include <vector>

#include "client/client_test_util.h"
#include "client/job_config_file.h"
#include "client/proto_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::client {
namespace {

using ::nlohmann::json;
using ::testing::HasSubstr;

const std::vector<std::string> kNoPackages;

TEST(WorkerPoolSpecTest, ContainerPoolWithEveryKey) {
  auto pool = ParseWorkerPoolSpec(
      "machine-type=n1-standard-4,replica-count=2,container-image-uri=img:1,"
      "accelerator-type=NVIDIA_TESLA_T4,accelerator-count=2",
      0, kNoPackages);
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_EQ(MessageJson(*pool), json::parse(R"({
    "machineSpec": {"machineType": "n1-standard-4",
                    "acceleratorType": "NVIDIA_TESLA_T4",
                    "acceleratorCount": 2},
    "replicaCount": "2",
    "containerSpec": {"imageUri": "img:1"}})"));
}

TEST(WorkerPoolSpecTest, DefaultsAndPythonPackagePool) {
  auto pool =
      ParseWorkerPoolSpec("machine-type=m,container-image-uri=i,accelerator-type=NVIDIA_TESLA_T4", 0, kNoPackages);
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_EQ(MessageJson(*pool)["replicaCount"], "1");
  EXPECT_EQ(MessageJson(*pool)["machineSpec"]["acceleratorCount"], 1);

  pool = ParseWorkerPoolSpec("machine-type=m,executor-image-uri=ex,python-module=trainer.task", 1,
                             {"gs://a.tar.gz", "gs://b.whl"});
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_EQ(MessageJson(*pool), json::parse(R"({
    "machineSpec": {"machineType": "m"}, "replicaCount": "1",
    "pythonPackageSpec": {"executorImageUri": "ex",
                          "packageUris": ["gs://a.tar.gz", "gs://b.whl"],
                          "pythonModule": "trainer.task"}})"));
}

TEST(WorkerPoolSpecTest, EmptyPoolOnlyAfterTheFirst) {
  EXPECT_EQ(MessageJson(*ParseWorkerPoolSpec("", 1, kNoPackages)), json::object());
  EXPECT_FALSE(ParseWorkerPoolSpec("", 0, kNoPackages).ok());
}

TEST(WorkerPoolSpecTest, Errors) {
  struct Case {
    std::string spec;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"machine-type=m,container-image-uri=i,disk-size=100",
       "--worker-pool-spec #0: unknown key \"disk-size\"; allowed keys: "
       "machine-type, replica-count, accelerator-type, accelerator-count, "
       "container-image-uri, executor-image-uri, python-module"},
      {"machine-type=m,executor-image-uri=e,local-package-path=.",
       "local-package-path is not supported by kiln; upload the package with "
       "kiln storage cp and use --python-package-uris"},
      {"container-image-uri=i", "machine-type is required"},
      {"machine-type=m", "give exactly one of container-image-uri"},
      {"machine-type=m,container-image-uri=i,executor-image-uri=e", "give exactly one of"},
      {"machine-type=m,container-image-uri=i,accelerator-count=1", "accelerator-count needs accelerator-type"},
      {"machine-type=m,container-image-uri=i,replica-count=0", "replica-count=0 must be a whole number >= 1"},
      {"machine-type=m,container-image-uri=i,replica-count=x", "must be a whole number"},
      {"machine-type=m,machine-type=n,container-image-uri=i", "key machine-type is given twice"},
      {"machine-type=m,container-image-uri", "is not KEY=VALUE"},
      {"machine-type=m,executor-image-uri=e", "needs python-module"},
      {"machine-type=m,container-image-uri=i,python-module=t", "python-module goes with executor-image-uri"},
      {"machine-type=m,executor-image-uri=e,python-module=t", "needs --python-package-uris"},
      {"machine-type=m,container-image-uri=i,accelerator-type=T4",
       "--worker-pool-spec #0: accelerator-type: \"T4\" is not an accelerator type (one of NVIDIA_TESLA_K80, "},
      {"machine-type=m,container-image-uri=i,accelerator-type=ACCELERATOR_TYPE_UNSPECIFIED",
       "is not an accelerator type"},
  };
  for (const Case& c : cases) {
    auto pool = ParseWorkerPoolSpec(c.spec, 0, kNoPackages);
    ASSERT_FALSE(pool.ok()) << c.spec;
    EXPECT_EQ(pool.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(pool.status().message(), HasSubstr(c.message)) << c.spec;
  }
}

TEST(ListFlagsTest, SplitKeyValuesAndLabels) {
  EXPECT_EQ(SplitListFlag("a,b,,c"), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_TRUE(SplitListFlag("").empty());
  auto pairs = ParseKeyValueFlag("--env-vars", "A=1,B=x=y,C=");
  ASSERT_TRUE(pairs.ok()) << pairs.status();
  EXPECT_EQ(*pairs, (std::vector<std::pair<std::string, std::string>>{{"A", "1"}, {"B", "x=y"}, {"C", ""}}));
  EXPECT_THAT(ParseKeyValueFlag("--env-vars", "A").status().message(), HasSubstr("--env-vars: \"A\" is not KEY=VALUE"));
  EXPECT_THAT(ParseKeyValueFlag("--env-vars", "=1").status().message(), HasSubstr("is not KEY=VALUE"));
  EXPECT_THAT(ParseKeyValueFlag("--labels", "a=1,a=2").status().message(), HasSubstr("key \"a\" is given twice"));

  EXPECT_EQ(*ParseLabels("team=ml,env=dev-1,empty="),
            (std::map<std::string, std::string>{{"team", "ml"}, {"env", "dev-1"}, {"empty", ""}}));
  EXPECT_THAT(ParseLabels("Team=ml").status().message(), HasSubstr("key \"Team\" must be"));
  EXPECT_THAT(ParseLabels("1team=ml").status().message(), HasSubstr("starting with a letter"));
  EXPECT_THAT(ParseLabels("team=ML").status().message(), HasSubstr("value \"ML\" of team"));
}

TEST(ListFlagsTest, Timeout) {
  EXPECT_EQ(MessageJson(*ParseTimeoutFlag("3600s")), "3600s");
  EXPECT_EQ(MessageJson(*ParseTimeoutFlag("3600")), "3600s");
  EXPECT_EQ(MessageJson(*ParseTimeoutFlag("1h30m")), "5400s");
  EXPECT_FALSE(ParseTimeoutFlag("0").ok());
  EXPECT_FALSE(ParseTimeoutFlag("1.5s").ok());
  EXPECT_THAT(ParseTimeoutFlag("soon").status().message(), HasSubstr("not a duration"));
}

TEST(JobConfigFileTest, YamlScalarsBecomeJsonTypes) {
  absl::StatusOr<json> value = YamlTextToJson("a: 1\nb: '1'\nc: true\nd: 1.5\ne: ~\nf: text\ng: [x, 2]\nh: \"no\"\n");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, json::parse(R"({"a": 1, "b": "1", "c": true, "d": 1.5,
      "e": null, "f": "text", "g": ["x", 2], "h": "no"})"));
  EXPECT_EQ(YamlTextToJson("a: [1").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JobConfigFileTest, CamelCaseKeysSparesLabelKeys) {
  EXPECT_EQ(CamelCaseKeys(json::parse(
                R"({"worker_pool_specs": [{"machine_spec": {"machine_type":
                "m"}}], "labels": {"my_key": "v"}, "alreadyCamel": 1})")),
            json::parse(R"({"workerPoolSpecs": [{"machineSpec":
                {"machineType": "m"}}], "labels": {"my_key": "v"},
                "alreadyCamel": 1})"));
}

class LoadJobSpecFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    return ScopedClientEnv::WriteFile(env_.dir() + "/" + name, text);
  }
  ScopedClientEnv env_;
};

constexpr char kSnakeYaml[] = R"(worker_pool_specs:
  - machine_spec:
      machine_type: n1-standard-4
    replica_count: 1
    container_spec:
      image_uri: img:1
      args: ["--epochs", "5"]
base_output_directory:
  output_uri_prefix: gs://b/out
enable_web_access: true
)";

constexpr char kCamelJson[] = R"({"workerPoolSpecs": [{"machineSpec":
  {"machineType": "n1-standard-4"}, "replicaCount": 1, "containerSpec":
  {"imageUri": "img:1", "args": ["--epochs", "5"]}}],
  "baseOutputDirectory": {"outputUriPrefix": "gs://b/out"},
  "enableWebAccess": true})";

// kCamelJson as the codec prints it back (an int64 is a string).
constexpr char kCamelPrinted[] = R"({"workerPoolSpecs": [{"machineSpec":
  {"machineType": "n1-standard-4"}, "replicaCount": "1", "containerSpec":
  {"imageUri": "img:1", "args": ["--epochs", "5"]}}],
  "baseOutputDirectory": {"outputUriPrefix": "gs://b/out"},
  "enableWebAccess": true})";

TEST_F(LoadJobSpecFileTest, YamlSnakeAndJsonCamelAgree) {
  auto yaml = LoadJobSpecFile(Write("spec.yaml", kSnakeYaml));
  auto camel = LoadJobSpecFile(Write("spec.json", kCamelJson));
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  ASSERT_TRUE(camel.ok()) << camel.status();
  EXPECT_EQ(MessageJson(*yaml), json::parse(kCamelPrinted));
  EXPECT_EQ(MessageJson(*camel), json::parse(kCamelPrinted));
}

TEST_F(LoadJobSpecFileTest, Errors) {
  EXPECT_EQ(LoadJobSpecFile(env_.dir() + "/missing.yaml").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(LoadJobSpecFile(Write("a.json", "{oops")).status().message(), HasSubstr("is not valid JSON"));
  EXPECT_THAT(LoadJobSpecFile(Write("b.yaml", "- 1\n- 2\n")).status().message(),
              HasSubstr("must hold a CustomJobSpec mapping"));
  EXPECT_THAT(LoadJobSpecFile(Write("c.yaml", "display_name: x\njob_spec: {}\n")).status().message(),
              HasSubstr("holds a whole CustomJob"));
}

TEST_F(LoadJobSpecFileTest, FieldsAreCheckedByTheServersCodec) {
  const std::string unknown = Write("d.yaml", "worker_pool_specs:\n  - machine_spec: {machine_typo: m}\n");
  absl::StatusOr<google::cloud::aiplatform::v1::CustomJobSpec> spec = LoadJobSpecFile(unknown);
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(spec.status().message(), "--config file " + unknown +
                                         ": Invalid JSON payload received. Unknown name \"machineTypo\" at "
                                         "'workerPoolSpecs[0].machineSpec': Cannot find field.");
  const std::string wrong = Write("e.json", R"({"workerPoolSpecs": [{"replicaCount": "many"}]})");
  EXPECT_THAT(LoadJobSpecFile(wrong).status().message(),
              HasSubstr("--config file " + wrong + ": workerPoolSpecs[0].replicaCount: invalid value"));
  EXPECT_THAT(LoadJobSpecFile(Write("f.yaml", "worker_pool_specs: {a: 1}\n")).status().message(),
              HasSubstr("workerPoolSpecs"));
}

TEST_F(LoadJobSpecFileTest, BuildCustomJobMergesConfigAndFlags) {
  CreateJobFlags flags;
  flags.display_name = "train";
  flags.config_file = Write("spec.yaml", kSnakeYaml);
  flags.args = "--epochs=7";
  flags.env_vars = "A=1";
  flags.timeout = "60";
  flags.base_output_dir = "gs://other";
  auto job = BuildCustomJob(flags);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(MessageJson(*job), json::parse(R"({"displayName": "train", "jobSpec": {
    "workerPoolSpecs": [{"machineSpec": {"machineType": "n1-standard-4"},
      "replicaCount": "1", "containerSpec": {"imageUri": "img:1",
      "args": ["--epochs=7"], "env": [{"name": "A", "value": "1"}]}}],
    "baseOutputDirectory": {"outputUriPrefix": "gs://other"},
    "enableWebAccess": true, "scheduling": {"timeout": "60s"}}})"));

  flags.worker_pool_specs = {"machine-type=m,container-image-uri=i"};
  EXPECT_THAT(BuildCustomJob(flags).status().message(), HasSubstr("both --config and --worker-pool-spec"));
}

TEST(BuildCustomJobTest, FlagErrors) {
  CreateJobFlags flags;
  EXPECT_THAT(BuildCustomJob(flags).status().message(), HasSubstr("--display-name is required"));
  flags.display_name = "x";
  EXPECT_THAT(BuildCustomJob(flags).status().message(), HasSubstr("no worker pools"));
  flags.worker_pool_specs = {"machine-type=m,container-image-uri=i"};
  flags.python_package_uris = "gs://a.tar.gz";
  EXPECT_THAT(BuildCustomJob(flags).status().message(), HasSubstr("--python-package-uris needs"));
  flags.python_package_uris.clear();
  flags.worker_pool_specs = {"machine-type=m,executor-image-uri=e,python-module=t"};
  flags.python_package_uris = "gs://a.tar.gz";
  flags.command = "python";
  EXPECT_THAT(BuildCustomJob(flags).status().message(), HasSubstr("--command applies to container pools only"));
  flags.command.clear();
  flags.args = "a,b";
  auto job = BuildCustomJob(flags);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(MessageJson(*job).at("jobSpec")["workerPoolSpecs"][0]["pythonPackageSpec"]["args"], json({"a", "b"}));
}

}  // namespace
}  // namespace kiln::client
