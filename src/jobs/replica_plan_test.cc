#include "jobs/replica_plan.h"

#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jobs/test_util.h"
#include "nlohmann/json.hpp"

namespace kiln::jobs {
namespace {

namespace aip = google::cloud::aiplatform::v1;
using ::kiln::jobs::testing::FromJson;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;

// The value of `name` in a "KEY=VALUE" list; nullopt when absent.
std::optional<std::string> EnvValue(const std::vector<std::string>& env, absl::string_view name) {
  std::string prefix = absl::StrCat(name, "=");
  std::optional<std::string> found;
  for (const std::string& entry : env) {
    if (absl::StartsWith(entry, prefix)) {
      EXPECT_FALSE(found.has_value()) << name << " set twice";
      found = entry.substr(prefix.size());
    }
  }
  return found;
}

json EnvJson(const ReplicaPlan& plan, absl::string_view name) {
  std::optional<std::string> text = EnvValue(plan.env, name);
  EXPECT_TRUE(text.has_value()) << plan.task_name << " has no " << name;
  return json::parse(text.value_or("null"));
}

class ReplicaPlanTest : public ::testing::Test {
 protected:
  ReplicaPlanTest()
      : storage_("/kiln/storage"),
        images_({{.pattern = "local/trainer:*",
                  .path_prefix = {"/opt/trainer/bin", "/usr/bin"},
                  .entrypoint = {"python3", "-m", "trainer"},
                  .python = "/opt/trainer/bin/python"},
                 {.pattern = "gcr.io/my-project/mnist:*",
                  .working_dir = "/opt/mnist",
                  .entrypoint = {"python3", "/opt/mnist/task.py"}}}) {}

  JobContext Context(std::vector<int> ports, std::string trial_id = "") {
    JobContext ctx;
    ctx.job_name = "projects/p/locations/us-central1/customJobs/123";
    ctx.job_id = "123";
    ctx.trial_id = std::move(trial_id);
    for (int port : ports) ctx.sites.push_back({.host = "127.0.0.1", .port = port, .dir = ""});
    return ctx;
  }

  // Replica folders are /kiln/jobs/123/<task>, as LocalRuntime places them.
  absl::StatusOr<std::vector<ReplicaPlan>> Plan(absl::string_view job_json, JobContext ctx) {
    aip::CustomJob job = FromJson<aip::CustomJob>(job_json);
    std::vector<std::string> tasks = ReplicaTasks(job);
    for (size_t i = 0; i < ctx.sites.size() && i < tasks.size(); ++i) ctx.sites[i].dir = "/kiln/jobs/123/" + tasks[i];
    return PlanReplicas(job, ctx, images_, storage_);
  }

  storage::ObjectStore storage_;
  ImageMap images_;
};

constexpr absl::string_view kOneReplicaJob = R"json({
  "displayName": "one",
  "jobSpec": {
    "workerPoolSpecs": [{
      "machineSpec": {"machineType": "n1-standard-8"},
      "replicaCount": "1",
      "containerSpec": {
        "imageUri": "local/trainer:1",
        "args": ["--model_dir=$(AIP_MODEL_DIR)", "--data=$(DATA)", "--keep=$$(AIP_MODEL_DIR)"],
        "env": [{"name": "DATA", "value": "$(AIP_CHECKPOINT_DIR)data"},
                {"name": "LANG", "value": "en_US.UTF-8"},
                {"name": "LATER", "value": "$(NOT_YET)"},
                {"name": "NOT_YET", "value": "x"}]
      }
    }],
    "baseOutputDirectory": {"outputUriPrefix": "gs://bucket/out"}
  }})json";

TEST_F(ReplicaPlanTest, OneReplicaFullEnvironment) {
  absl::StatusOr<std::vector<ReplicaPlan>> plans = Plan(kOneReplicaJob, Context({20000}));
  ASSERT_TRUE(plans.ok()) << plans.status();
  ASSERT_EQ(plans->size(), 1u);
  const ReplicaPlan& plan = (*plans)[0];
  EXPECT_EQ(plan.pool, 0);
  EXPECT_EQ(plan.index, 0);
  EXPECT_EQ(plan.task_name, "workerpool0-0");
  EXPECT_EQ(plan.replica_dir, "/kiln/jobs/123/workerpool0-0");
  EXPECT_EQ(plan.working_dir, "/kiln/jobs/123/workerpool0-0");
  EXPECT_DOUBLE_EQ(plan.cpus, 8);
  EXPECT_DOUBLE_EQ(plan.memory_gib, 30);
  EXPECT_EQ(plan.accelerator_type, "");
  EXPECT_EQ(plan.accelerator_count, 0);
  EXPECT_EQ(plan.image_uri, "local/trainer:1");
  EXPECT_EQ(plan.python_argv_index, -1);
  EXPECT_THAT(plan.argv, ElementsAre("python3", "-m", "trainer", "--model_dir=/kiln/storage/bucket/out/model/",
                                     "--data=/kiln/storage/bucket/out/checkpoints/data", "--keep=$(AIP_MODEL_DIR)"));

  ASSERT_EQ(plan.env.size(), 12u);
  EXPECT_EQ(plan.env[0], "PATH=/opt/trainer/bin:/usr/bin:/usr/local/bin:/bin");
  EXPECT_EQ(plan.env[1], "HOME=/kiln/jobs/123/workerpool0-0");
  EXPECT_EQ(plan.env[2], "LANG=en_US.UTF-8");  // the job's own entry replaces kiln's in place
  EXPECT_EQ(plan.env[3], "PYTHONUNBUFFERED=1");
  EXPECT_EQ(plan.env[4], "CLOUD_ML_JOB_ID=123");
  EXPECT_EQ(plan.env[5], "AIP_MODEL_DIR=/kiln/storage/bucket/out/model/");
  EXPECT_EQ(plan.env[6], "AIP_CHECKPOINT_DIR=/kiln/storage/bucket/out/checkpoints/");
  EXPECT_EQ(plan.env[7], "AIP_TENSORBOARD_LOG_DIR=/kiln/storage/bucket/out/logs/");
  EXPECT_TRUE(absl::StartsWith(plan.env[8], "CLUSTER_SPEC={"));
  EXPECT_EQ(plan.env[9], "DATA=/kiln/storage/bucket/out/checkpoints/data");
  EXPECT_EQ(plan.env[10], "LATER=$(NOT_YET)");  // only earlier entries resolve
  EXPECT_EQ(plan.env[11], "NOT_YET=x");
  for (const char* absent :
       {"CLOUD_ML_TRIAL_ID", "TF_CONFIG", "MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK", "CUDA_VISIBLE_DEVICES"}) {
    EXPECT_EQ(EnvValue(plan.env, absent), std::nullopt) << absent;
  }

  json spec = EnvJson(plan, "CLUSTER_SPEC");
  EXPECT_EQ(spec.size(), 4u);
  EXPECT_EQ(spec["cluster"], json({{"workerpool0", {"127.0.0.1:20000"}}}));
  EXPECT_EQ(spec["environment"], "cloud");
  EXPECT_EQ(spec["task"], json({{"type", "workerpool0"}, {"index", 0}}));
  const json& job = spec["job"];
  EXPECT_EQ(job["baseOutputDirectory"]["outputUriPrefix"], "gs://bucket/out");
  ASSERT_EQ(job["workerPoolSpecs"].size(), 1u);
  const json& pool = job["workerPoolSpecs"][0];
  EXPECT_EQ(pool["replicaCount"], "1");  // int64 as a string, camelCase names
  EXPECT_EQ(pool["machineSpec"]["machineType"], "n1-standard-8");
  EXPECT_EQ(pool["containerSpec"]["imageUri"], "local/trainer:1");
  EXPECT_EQ(pool["containerSpec"]["args"][0], "--model_dir=$(AIP_MODEL_DIR)");  // as submitted
  EXPECT_EQ(pool["containerSpec"]["env"][0], json({{"name", "DATA"}, {"value", "$(AIP_CHECKPOINT_DIR)data"}}));
}

TEST_F(ReplicaPlanTest, JavaSampleModelDirArgument) {
  // The seed's Java sample: args only (the image's entrypoint runs), snake_case prefix.
  absl::StatusOr<std::vector<ReplicaPlan>> plans = Plan(R"json({"displayName": "java",
      "jobSpec": {"workerPoolSpecs": [{"replicaCount": 1,
          "machineSpec": {"machineType": "n1-standard-4"},
          "containerSpec": {"imageUri": "gcr.io/my-project/mnist:latest",
                            "args": ["--model_dir=$(AIP_MODEL_DIR)"]}}],
      "baseOutputDirectory": {"output_uri_prefix": "gs://my-bucket/prefix/"}}})json",
                                                        Context({20001}));
  ASSERT_TRUE(plans.ok()) << plans.status();
  EXPECT_THAT((*plans)[0].argv,
              ElementsAre("python3", "/opt/mnist/task.py", "--model_dir=/kiln/storage/my-bucket/prefix/model/"));
  EXPECT_EQ((*plans)[0].working_dir, "/opt/mnist");
  EXPECT_EQ(EnvValue((*plans)[0].env, "PATH"), "/usr/local/bin:/usr/bin:/bin");
}

TEST_F(ReplicaPlanTest, NoBaseOutputDirectoryNoAipDirs) {
  absl::StatusOr<std::vector<ReplicaPlan>> plans = Plan(R"json({"jobSpec": {"workerPoolSpecs": [
      {"replicaCount": "1", "containerSpec": {"imageUri": "local/trainer:1",
                                              "args": ["$(AIP_MODEL_DIR)"]}}]}})json",
                                                        Context({20002}));
  ASSERT_TRUE(plans.ok()) << plans.status();
  const ReplicaPlan& plan = (*plans)[0];
  EXPECT_EQ(EnvValue(plan.env, "AIP_MODEL_DIR"), std::nullopt);
  EXPECT_EQ(EnvValue(plan.env, "AIP_CHECKPOINT_DIR"), std::nullopt);
  EXPECT_EQ(EnvValue(plan.env, "AIP_TENSORBOARD_LOG_DIR"), std::nullopt);
  EXPECT_EQ(plan.argv.back(), "$(AIP_MODEL_DIR)");  // unresolved stays as written
  EXPECT_DOUBLE_EQ(plan.cpus, 4);                   // default machine type n1-standard-4
}

constexpr absl::string_view kFourPoolJob = R"json({"jobSpec": {
  "workerPoolSpecs": [
    {"replicaCount": "1", "machineSpec": {"machineType": "n1-standard-4"},
     "containerSpec": {"imageUri": "local/trainer:1", "args": ["--role=primary"]}},
    {"replicaCount": "2", "machineSpec": {"machineType": "n1-standard-8",
                                          "acceleratorType": "NVIDIA_TESLA_T4",
                                          "acceleratorCount": 1},
     "containerSpec": {"imageUri": "local/trainer:1", "args": ["--rank=$(RANK)"]}},
    {"replicaCount": "1", "machineSpec": {"machineType": "n1-highmem-2"},
     "containerSpec": {"imageUri": "local/trainer:1", "command": ["ps-server"]}},
    {"replicaCount": "1", "machineSpec": {"machineType": "n1-standard-4"},
     "pythonPackageSpec": {"executorImageUri": "local/trainer:1",
                           "packageUris": ["gs://bucket/pkg/trainer-0.1.tar.gz",
                                           "file:///opt/extra.whl"],
                           "pythonModule": "trainer.evaluate",
                           "args": ["--out=$(AIP_MODEL_DIR)"]}}
  ],
  "baseOutputDirectory": {"outputUriPrefix": "gs://bucket/dist/"}}})json";

TEST_F(ReplicaPlanTest, FourPools) {
  JobContext ctx = Context({30000, 30001, 30002, 30003, 30004});
  ctx.accelerator_ids_per_replica = {"", "0", "1", "", ""};
  absl::StatusOr<std::vector<ReplicaPlan>> plans = Plan(kFourPoolJob, ctx);
  ASSERT_TRUE(plans.ok()) << plans.status();
  ASSERT_EQ(plans->size(), 5u);
  std::vector<std::string> names;
  for (const ReplicaPlan& plan : *plans) names.push_back(plan.task_name);
  EXPECT_THAT(names, ElementsAre("workerpool0-0", "workerpool1-0", "workerpool1-1", "workerpool2-0", "workerpool3-0"));

  const json cluster = {{"workerpool0", {"127.0.0.1:30000"}},
                        {"workerpool1", {"127.0.0.1:30001", "127.0.0.1:30002"}},
                        {"workerpool2", {"127.0.0.1:30003"}},
                        {"workerpool3", {"127.0.0.1:30004"}}};
  const json tf_cluster = {
      {"chief", {"127.0.0.1:30000"}}, {"worker", {"127.0.0.1:30001", "127.0.0.1:30002"}}, {"ps", {"127.0.0.1:30003"}}};
  const char* tf_types[] = {"chief", "worker", "worker", "ps", "evaluator"};
  const int indexes[] = {0, 0, 1, 0, 0};
  const char* ranks[] = {"0", "1", "2", nullptr, nullptr};
  std::set<std::string> addresses;
  for (size_t r = 0; r < plans->size(); ++r) {
    const ReplicaPlan& plan = (*plans)[r];
    SCOPED_TRACE(plan.task_name);
    EXPECT_EQ(plan.index, indexes[r]);
    json spec = EnvJson(plan, "CLUSTER_SPEC");
    EXPECT_EQ(spec["cluster"], cluster);
    EXPECT_EQ(spec["task"]["type"], absl::StrCat("workerpool", plan.pool));
    EXPECT_EQ(spec["task"]["index"], plan.index);
    EXPECT_FALSE(spec["task"].contains("trial"));
    EXPECT_EQ(spec["job"]["workerPoolSpecs"].size(), 4u);
    addresses.insert(spec["cluster"][absl::StrCat("workerpool", plan.pool)][plan.index].get<std::string>());

    json tf = EnvJson(plan, "TF_CONFIG");
    EXPECT_EQ(tf.size(), 3u);
    EXPECT_EQ(tf["cluster"], tf_cluster);
    EXPECT_FALSE(tf["cluster"].contains("evaluator"));
    EXPECT_EQ(tf["task"], json({{"type", tf_types[r]}, {"index", indexes[r]}}));
    EXPECT_EQ(tf["environment"], "cloud");

    EXPECT_EQ(EnvValue(plan.env, "MASTER_ADDR"), "127.0.0.1");
    EXPECT_EQ(EnvValue(plan.env, "MASTER_PORT"), "30000");
    EXPECT_EQ(EnvValue(plan.env, "WORLD_SIZE"), "3");
    if (ranks[r] == nullptr) {
      EXPECT_EQ(EnvValue(plan.env, "RANK"), std::nullopt);
    } else {
      EXPECT_EQ(EnvValue(plan.env, "RANK"), ranks[r]);
    }
  }
  EXPECT_EQ(addresses.size(), 5u);  // every replica has its own address

  // Per-pool details.
  EXPECT_THAT((*plans)[1].argv, ElementsAre("python3", "-m", "trainer", "--rank=1"));
  EXPECT_THAT((*plans)[2].argv, ElementsAre("python3", "-m", "trainer", "--rank=2"));
  EXPECT_EQ((*plans)[1].accelerator_type, "NVIDIA_TESLA_T4");
  EXPECT_EQ((*plans)[1].accelerator_count, 1);
  EXPECT_EQ(EnvValue((*plans)[0].env, "CUDA_VISIBLE_DEVICES"), std::nullopt);
  EXPECT_EQ(EnvValue((*plans)[1].env, "CUDA_VISIBLE_DEVICES"), "0");
  EXPECT_EQ(EnvValue((*plans)[2].env, "CUDA_VISIBLE_DEVICES"), "1");
  EXPECT_THAT((*plans)[3].argv, ElementsAre("ps-server"));
  EXPECT_DOUBLE_EQ((*plans)[3].memory_gib, 13);
  const ReplicaPlan& evaluator = (*plans)[4];
  EXPECT_THAT(evaluator.argv, ElementsAre("/opt/trainer/bin/python", "-m", "trainer.evaluate",
                                          "--out=/kiln/storage/bucket/dist/model/"));
  EXPECT_EQ(evaluator.python_argv_index, 0);
  EXPECT_THAT(evaluator.package_paths, ElementsAre("/kiln/storage/bucket/pkg/trainer-0.1.tar.gz", "/opt/extra.whl"));
}

TEST_F(ReplicaPlanTest, EmptyInteriorPoolIsSkipped) {
  absl::StatusOr<std::vector<ReplicaPlan>> plans = Plan(R"({"jobSpec": {"workerPoolSpecs": [
      {"replicaCount": "1", "containerSpec": {"imageUri": "local/trainer:1"}},
      {},
      {"replicaCount": "1", "containerSpec": {"imageUri": "local/trainer:1"}}]}})",
                                                        Context({40000, 40001}));
  ASSERT_TRUE(plans.ok()) << plans.status();
  ASSERT_EQ(plans->size(), 2u);
  EXPECT_EQ((*plans)[1].pool, 2);
  EXPECT_EQ((*plans)[1].task_name, "workerpool2-0");
  EXPECT_EQ((*plans)[1].replica_dir, "/kiln/jobs/123/workerpool2-0");
  json spec = EnvJson((*plans)[1], "CLUSTER_SPEC");
  EXPECT_EQ(spec["cluster"], json({{"workerpool0", {"127.0.0.1:40000"}}, {"workerpool2", {"127.0.0.1:40001"}}}));
  EXPECT_EQ(spec["task"], json({{"type", "workerpool2"}, {"index", 0}}));
  EXPECT_EQ(spec["job"]["workerPoolSpecs"][1], json::object());
  json tf = EnvJson((*plans)[1], "TF_CONFIG");
  EXPECT_EQ(tf["cluster"], json({{"chief", {"127.0.0.1:40000"}}, {"ps", {"127.0.0.1:40001"}}}));
  EXPECT_EQ(tf["task"], json({{"type", "ps"}, {"index", 0}}));
  EXPECT_EQ(EnvValue((*plans)[0].env, "WORLD_SIZE"), "1");
  EXPECT_EQ(EnvValue((*plans)[0].env, "RANK"), "0");
  EXPECT_EQ(EnvValue((*plans)[1].env, "RANK"), std::nullopt);
}

TEST_F(ReplicaPlanTest, TrialPaths) {
  constexpr absl::string_view kTrialJob = R"({"jobSpec": {"workerPoolSpecs": [
      {"replicaCount": "1", "containerSpec": {"imageUri": "local/trainer:1",
                                              "args": ["--lr=0.1"]}}],
      "baseOutputDirectory": {"outputUriPrefix": "gs://bucket/hp"}}})";
  absl::StatusOr<std::vector<ReplicaPlan>> plans = Plan(kTrialJob, Context({50000}, "7"));
  ASSERT_TRUE(plans.ok()) << plans.status();
  const ReplicaPlan& plan = (*plans)[0];
  EXPECT_EQ(EnvValue(plan.env, "CLOUD_ML_TRIAL_ID"), "7");
  EXPECT_EQ(EnvValue(plan.env, "AIP_MODEL_DIR"), "/kiln/storage/bucket/hp/7/model/");
  EXPECT_EQ(EnvValue(plan.env, "AIP_CHECKPOINT_DIR"), "/kiln/storage/bucket/hp/7/checkpoints/");
  EXPECT_EQ(EnvValue(plan.env, "AIP_TENSORBOARD_LOG_DIR"), "/kiln/storage/bucket/hp/7/logs/");
  json spec = EnvJson(plan, "CLUSTER_SPEC");
  EXPECT_EQ(spec["task"], json({{"type", "workerpool0"}, {"index", 0}, {"trial", "7"}}));

  // A trial job whose baseOutputDirectory already is <parent>/<trial id> is not nested again.
  absl::StatusOr<std::vector<ReplicaPlan>> nested = Plan(R"({"jobSpec": {"workerPoolSpecs": [
      {"replicaCount": "1", "containerSpec": {"imageUri": "local/trainer:1"}}],
      "baseOutputDirectory": {"outputUriPrefix": "gs://bucket/hp/7/"}}})",
                                                         Context({50001}, "7"));
  ASSERT_TRUE(nested.ok()) << nested.status();
  EXPECT_EQ(EnvValue((*nested)[0].env, "AIP_MODEL_DIR"), "/kiln/storage/bucket/hp/7/model/");
}

TEST_F(ReplicaPlanTest, ContextMustMatchTheReplicas) {
  absl::StatusOr<std::vector<ReplicaPlan>> few = Plan(kFourPoolJob, Context({1, 2, 3}));
  EXPECT_EQ(few.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(few.status().message(), "JobContext.sites: has 3 sites for 5 replicas; give one per replica");
  absl::StatusOr<std::vector<ReplicaPlan>> same = Plan(kFourPoolJob, Context({1, 2, 3, 4, 1}));
  EXPECT_EQ(same.status().message(), "JobContext.sites: addresses (host:port) must be distinct");
  JobContext ctx = Context({1, 2, 3, 4, 5});
  ctx.accelerator_ids_per_replica = {"0"};
  EXPECT_THAT(Plan(kFourPoolJob, ctx).status().message(),
              HasSubstr("JobContext.accelerator_ids_per_replica: has 1 entries for 5 replicas"));
}

TEST_F(ReplicaPlanTest, UnmappableInputsAreFieldErrors) {
  absl::StatusOr<std::vector<ReplicaPlan>> plans = Plan(R"({"jobSpec": {"workerPoolSpecs": [
      {"replicaCount": "1", "containerSpec": {"imageUri": "docker.io/x:1"}}]}})",
                                                        Context({1}));
  EXPECT_EQ(plans.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plans.status().message(), HasSubstr("jobSpec.workerPoolSpecs[0].containerSpec.imageUri: image "
                                                  "'docker.io/x:1' maps to no local runtime"));
  plans = Plan(R"({"jobSpec": {"workerPoolSpecs": [
      {"replicaCount": "1", "containerSpec": {"imageUri": "local/trainer:1",
          "env": [{"name": "CLUSTER_SPEC", "value": "{}"}]}}]}})",
               Context({1}));
  EXPECT_EQ(plans.status().message(),
            "jobSpec.workerPoolSpecs[0].containerSpec.env[0].name: CLUSTER_SPEC is set by kiln "
            "and cannot be overridden");
  plans = Plan(R"({"jobSpec": {"workerPoolSpecs": [
      {"replicaCount": "1", "containerSpec": {"imageUri": "local/trainer:1"}}],
      "baseOutputDirectory": {"outputUriPrefix": "gs://bucket/%2e%2e/x"}}})",
               Context({1}));
  EXPECT_THAT(plans.status().message(), HasSubstr("jobSpec.baseOutputDirectory.outputUriPrefix: 'gs://bucket/%2e%2e/x' "
                                                  "contains a '..' path segment"));
}

}  // namespace
}  // namespace kiln::jobs
