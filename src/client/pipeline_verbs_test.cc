#include "client/pipeline_verbs.h"

#include <CLI/CLI.hpp>
#include <deque>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "client/client_test_util.h"
#include "client/command_support.h"
#include "client/commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::client {
namespace {

using ::nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr char kParent[] = "projects/demo/locations/us-central1";
constexpr char kPipelines[] = "/v1/projects/demo/locations/us-central1/trainingPipelines";

std::string PipelineName(const std::string& id) { return std::string(kParent) + "/trainingPipelines/" + id; }

// A fake kiln: POST trainingPipelines creates pipeline 7, whose GET answers
// the queued states (then the last one again); PUT /kiln/v1/storage/...
// stores objects; cancel and delete answer.
class FakePipelines {
 public:
  FakePipelines()
      : server_([this](httplib::Server& s) {
          s.Post(kPipelines, [this](const httplib::Request& req, httplib::Response& res) {
            Note(req);
            std::lock_guard<std::mutex> lock(mu_);
            posted_.push_back(json::parse(req.body));
            ReplyJson(res,
                      json({{"name", PipelineName("7")}, {"displayName", "train"}, {"state", "PIPELINE_STATE_PENDING"}})
                          .dump());
          });
          s.Get(std::string(kPipelines) + "/7", [this](const httplib::Request& req, httplib::Response& res) {
            Note(req);
            ReplyJson(res, Next().dump());
          });
          s.Post(std::string(kPipelines) + "/7:cancel", [this](const httplib::Request& req, httplib::Response& res) {
            Note(req);
            ReplyJson(res, "{}");
          });
          s.Delete(std::string(kPipelines) + "/7", [this](const httplib::Request& req, httplib::Response& res) {
            Note(req);
            ReplyJson(res, R"({"name": "op1", "done": true})");
          });
          s.Put(R"(/kiln/v1/storage/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
            Note(req);
            std::lock_guard<std::mutex> lock(mu_);
            uploads_.push_back(req.path + " " + req.body + " " + req.get_header_value("Content-Type"));
            ReplyJson(res, R"({"name": "x", "size": "3"})");
          });
        }) {}

  void Note(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(req.method + " " + req.path);
  }

  json Next() {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string state = states_.front();
    if (states_.size() > 1) states_.pop_front();
    json pipeline = {{"name", PipelineName("7")}, {"displayName", "train"}, {"state", state}};
    if (state != "PIPELINE_STATE_PENDING") {
      pipeline["trainingTaskMetadata"] = {{"backingCustomJob", std::string(kParent) + "/customJobs/17"}};
    }
    if (state == "PIPELINE_STATE_SUCCEEDED") {
      pipeline["modelToUpload"] = {
          {"name", std::string(kParent) + "/models/55"}, {"versionId", "3"}, {"displayName", "train"}};
    } else if (state == "PIPELINE_STATE_FAILED") {
      pipeline["error"] = {{"code", 9}, {"message", "backing CustomJob 17 failed"}};
    }
    return pipeline;
  }

  FakeServer server_;
  std::mutex mu_;
  std::deque<std::string> states_ = {"PIPELINE_STATE_RUNNING"};
  std::vector<json> posted_;
  std::vector<std::string> uploads_;
  std::vector<std::string> requests_;
};

class PipelineVerbsTest : public ::testing::Test {
 protected:
  ConfigFlags Flags() {
    ConfigFlags flags;
    flags.endpoint = kiln_.server_.endpoint();
    flags.project = "demo";
    return flags;
  }

  static PipelineFollowOptions Fast() {
    PipelineFollowOptions options;
    options.poll_interval = absl::Milliseconds(1);
    return options;
  }

  static PipelineCreateArgs ContainerArgs() {
    PipelineCreateArgs args;
    args.pipeline.display_name = "train";
    args.pipeline.container_image_uri = "img:1";
    args.follow = Fast();
    return args;
  }

  int Run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    CLI::App app{"kiln"};
    RegisterClientCommands(app, CommandIo{&out_, &err_});
    args.insert(args.begin(), "kiln");
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
      return ExitCodeForParseError(app, e, out_, err_);
    }
    return 0;
  }

  const NounSpec& noun_ = *FindNoun("pipelines");
  ScopedClientEnv env_;
  FakePipelines kiln_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(PipelineVerbsTest, CreatePythonPackageFromTheCommandLine) {
  ASSERT_TRUE(kiln_.server_.ok());
  ASSERT_EQ(
      Run({"pipelines", "create", "--display-name=train", "--project=demo", "--endpoint", kiln_.server_.endpoint(),
           "--python-package-uris=gs://b/t-0.1.tar.gz", "--python-module=trainer.task", "--container-uri=exec:1",
           "--args=--epochs=2", "--arg", "--sizes=1,2", "--replica-count=2", "--model-display-name=m",
           "--parent-model=55", "--version-aliases=candidate", "--base-output-dir=gs://b/out"}),
      0)
      << err_.str();
  ASSERT_EQ(kiln_.posted_.size(), 1u);
  const json pool = json::parse(R"({
      "machineSpec": {"machineType": "n1-standard-4"}, "replicaCount": "1",
      "pythonPackageSpec": {"executorImageUri": "exec:1",
          "packageUris": ["gs://b/t-0.1.tar.gz"],
          "pythonModule": "trainer.task",
          "args": ["--epochs=2", "--sizes=1,2"]}})");
  json worker = pool;
  worker["replicaCount"] = "1";
  const json expected = {
      {"displayName", "train"},
      {"trainingTaskDefinition", kCustomTaskDefinition},
      {"trainingTaskInputs",
       {{"workerPoolSpecs", {pool, worker}}, {"baseOutputDirectory", {{"outputUriPrefix", "gs://b/out"}}}}},
      {"modelToUpload", {{"displayName", "m"}, {"versionAliases", {"candidate"}}}},
      {"parentModel", std::string(kParent) + "/models/55"}};
  EXPECT_EQ(kiln_.posted_[0], expected) << kiln_.posted_[0].dump(2);
  EXPECT_EQ(out_.str(), PipelineName("7") + "\n");
  EXPECT_THAT(err_.str(), HasSubstr("TrainingPipeline [" + PipelineName("7") + "] is submitted successfully.\n"));
  EXPECT_THAT(err_.str(), HasSubstr("$ kiln pipelines describe 7 --project=demo "
                                    "--endpoint="));
  EXPECT_THAT(err_.str(), HasSubstr("$ kiln pipelines wait 7 --project=demo"));
}

TEST_F(PipelineVerbsTest, CreateWithFormatPrintsThePipeline) {
  ConfigFlags flags = Flags();
  flags.format = "json";
  EXPECT_EQ(RunPipelineCreate(noun_, flags, ContainerArgs(), out_, err_), 0) << err_.str();
  EXPECT_EQ(json::parse(out_.str())["name"], PipelineName("7"));
  EXPECT_EQ(kiln_.posted_.at(0)["trainingTaskInputs"]["workerPoolSpecs"][0]["containerSpec"]["imageUri"], "img:1");
}

TEST_F(PipelineVerbsTest, CreateScriptPackagesUploadsAndPoints) {
  PipelineCreateArgs args;
  args.pipeline.display_name = "train";
  args.pipeline.script = "/src/train.py";
  args.pipeline.container_uri = "exec:1";
  args.pipeline.staging_bucket = "gs://bkt/staging/";
  std::string packaged;
  args.staging.package = [&packaged](const std::string& path) -> absl::StatusOr<PackagedScript> {
    packaged = path;
    return PackagedScript{"sdist", "pkg-0.1.tar.gz", "pkg.task"};
  };
  ASSERT_EQ(RunPipelineCreate(noun_, Flags(), args, out_, err_), 0) << err_.str();
  EXPECT_EQ(packaged, "/src/train.py");
  ASSERT_EQ(kiln_.uploads_.size(), 1u);
  EXPECT_THAT(kiln_.uploads_[0], MatchesRegex("/kiln/v1/storage/bkt/staging/kiln-scripts/"
                                              "[0-9]{8}-[0-9]{6}-[0-9]{3}/pkg-0.1.tar.gz sdist "
                                              "application/octet-stream"));
  const std::string object =
      kiln_.uploads_[0].substr(std::string("/kiln/v1/storage/").size(), kiln_.uploads_[0].find(' ') - 17);
  ASSERT_EQ(kiln_.posted_.size(), 1u);
  EXPECT_EQ(kiln_.posted_[0]["trainingTaskInputs"]["workerPoolSpecs"][0]["pythonPackageSpec"],
            json({{"executorImageUri", "exec:1"}, {"packageUris", {"gs://" + object}}, {"pythonModule", "pkg.task"}}));
  EXPECT_THAT(err_.str(), HasSubstr("Uploaded the script to [gs://" + object + "]."));
}

TEST_F(PipelineVerbsTest, CreateScriptEndToEndWithThePackager) {
  const std::string script = ScopedClientEnv::WriteFile(env_.dir() + "/train.py", "print('training')\n");
  ASSERT_EQ(Run({"pipelines", "create", "--display-name=train", "--project=demo", "--endpoint",
                 kiln_.server_.endpoint(), "--script", script, "--container-uri=exec:1", "--staging-bucket=gs://bkt"}),
            0)
      << err_.str();
  ASSERT_EQ(kiln_.uploads_.size(), 1u);
  const std::string& upload = kiln_.uploads_[0];
  EXPECT_THAT(upload.substr(0, upload.find(' ')), MatchesRegex("/kiln/v1/storage/bkt/kiln-scripts/[0-9-]+/"
                                                               "aiplatform_custom_trainer_script-0.1.tar.gz"));
  EXPECT_EQ(upload.substr(upload.find(' ') + 1, 2), "\x1f\x8b");  // gzip
  const json spec = kiln_.posted_.at(0)["trainingTaskInputs"]["workerPoolSpecs"][0]["pythonPackageSpec"];
  EXPECT_EQ(spec["pythonModule"], "aiplatform_custom_trainer_script.task");
  EXPECT_THAT(spec["packageUris"][0].get<std::string>(), MatchesRegex("gs://bkt/kiln-scripts/[0-9-]+/"
                                                                      "aiplatform_custom_trainer_script-0.1.tar.gz"));
  EXPECT_EQ(
      Run({"pipelines", "create", "--display-name=train", "--project=demo", "--endpoint", kiln_.server_.endpoint(),
           "--script", env_.dir() + "/missing.py", "--container-uri=exec:1", "--staging-bucket=gs://bkt"}),
      kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("NOT_FOUND"));
}

TEST_F(PipelineVerbsTest, ScriptErrorsUploadAndSendNothing) {
  PipelineCreateArgs args;
  args.pipeline.display_name = "train";
  args.pipeline.script = "train.py";
  args.pipeline.container_uri = "exec:1";
  args.staging.package = [](const std::string&) -> absl::StatusOr<PackagedScript> {
    return absl::NotFoundError("train.py: no such file");
  };
  EXPECT_EQ(RunPipelineCreate(noun_, Flags(), args, out_, err_), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--script needs --staging-bucket"));
  args.pipeline.staging_bucket = "bkt";
  err_.str("");
  EXPECT_EQ(RunPipelineCreate(noun_, Flags(), args, out_, err_), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("is not a gs://BUCKET[/PREFIX] URI"));
  args.pipeline.staging_bucket = "gs://bkt";
  err_.str("");
  EXPECT_EQ(RunPipelineCreate(noun_, Flags(), args, out_, err_), kExitUsage);
  EXPECT_EQ(err_.str(),
            "ERROR: (kiln.pipelines.create) NOT_FOUND: train.py: no such "
            "file\n");
  args.staging.package = {};
  args.pipeline.replica_count = 0;  // Checked before packaging.
  err_.str("");
  EXPECT_EQ(RunPipelineCreate(noun_, Flags(), args, out_, err_), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--replica-count"));
  EXPECT_TRUE(kiln_.uploads_.empty());
  EXPECT_TRUE(kiln_.posted_.empty());
}

TEST_F(PipelineVerbsTest, UsageErrorsFromTheCommandLine) {
  EXPECT_EQ(Run({"pipelines", "create", "--display-name=t", "--project=demo", "--endpoint", kiln_.server_.endpoint(),
                 "--container-image-uri=i", "--script=train.py", "--container-uri=e"}),
            kExitUsage);
  EXPECT_EQ(err_.str(),
            "ERROR: (kiln.pipelines.create) INVALID_ARGUMENT: give one "
            "training source, not --script and --container-image-uri\n");
  EXPECT_EQ(Run({"pipelines", "create", "--display-name=t", "--project=demo", "--endpoint", kiln_.server_.endpoint(),
                 "--script=train.py"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--script needs --container-uri"));
  EXPECT_EQ(
      Run({"pipelines", "create", "--project=demo", "--endpoint", kiln_.server_.endpoint(), "--container-image-uri=i"}),
      kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--display-name is required"));
  EXPECT_EQ(Run({"pipelines", "create", "--display-name=t", "--container-image-uri=i", "--replica-count=two"}),
            kExitUsage);
  EXPECT_TRUE(kiln_.posted_.empty());
}

TEST_F(PipelineVerbsTest, WatchUntilSucceededPrintsTheModel) {
  kiln_.states_ = {"PIPELINE_STATE_PENDING", "PIPELINE_STATE_RUNNING", "PIPELINE_STATE_RUNNING",
                   "PIPELINE_STATE_SUCCEEDED"};
  PipelineCreateArgs args = ContainerArgs();
  args.watch = true;
  EXPECT_EQ(RunPipelineCreate(noun_, Flags(), args, out_, err_), 0) << err_.str();
  const std::string err = err_.str();
  EXPECT_THAT(err, HasSubstr("[PENDING] elapsed 0s\n[RUNNING] elapsed 0s · "
                             "backing CustomJob 17\n[SUCCEEDED] elapsed 0s · "
                             "backing CustomJob 17\n"));
  EXPECT_EQ(err.find("[RUNNING]"), err.rfind("[RUNNING]"));
  EXPECT_THAT(err, HasSubstr("ended in state PIPELINE_STATE_SUCCEEDED.\n"
                             "Model: " +
                             std::string(kParent) + "/models/55 version 3\n"));
  EXPECT_EQ(out_.str(), PipelineName("7") + "\n");
  std::lock_guard<std::mutex> lock(kiln_.mu_);
  EXPECT_EQ(kiln_.requests_.back(), "GET " + std::string(kPipelines) + "/7");
}

TEST_F(PipelineVerbsTest, WatchFailedExitsOneWithTheError) {
  kiln_.states_ = {"PIPELINE_STATE_RUNNING", "PIPELINE_STATE_FAILED"};
  PipelineCreateArgs args = ContainerArgs();
  args.watch = true;
  EXPECT_EQ(RunPipelineCreate(noun_, Flags(), args, out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), HasSubstr("ended in state PIPELINE_STATE_FAILED.\n"
                                    "ERROR: (kiln.pipelines.create) FAILED_PRECONDITION: "
                                    "backing CustomJob 17 failed\n"));
  EXPECT_THAT(err_.str(), testing::Not(HasSubstr("Model:")));
}

TEST_F(PipelineVerbsTest, WaitVerb) {
  kiln_.states_ = {"PIPELINE_STATE_RUNNING", "PIPELINE_STATE_SUCCEEDED"};
  EXPECT_EQ(RunPipelineWait(noun_, Flags(), "7", Fast(), out_, err_), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("state: PIPELINE_STATE_SUCCEEDED\n"));
  EXPECT_THAT(err_.str(), HasSubstr("Model: "));

  kiln_.states_ = {"PIPELINE_STATE_RUNNING"};
  PipelineFollowOptions options = Fast();
  options.timeout = absl::Milliseconds(30);
  err_.str("");
  EXPECT_EQ(RunPipelineWait(noun_, Flags(), "7", options, out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), HasSubstr("DEADLINE_EXCEEDED: TrainingPipeline [" + PipelineName("7") +
                                    "] is still PIPELINE_STATE_RUNNING"));

  kiln_.states_ = {"PIPELINE_STATE_CANCELLED"};
  err_.str("");
  EXPECT_EQ(RunPipelineWait(noun_, Flags(), "7", Fast(), out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), HasSubstr("UNKNOWN: TrainingPipeline [" + PipelineName("7") +
                                    "] ended in state "
                                    "PIPELINE_STATE_CANCELLED"));
}

TEST_F(PipelineVerbsTest, IntegerStatesAndTerminalProgress) {
  EXPECT_EQ(PipelineStateName(json{{"state", 4}}), "PIPELINE_STATE_SUCCEEDED");
  EXPECT_TRUE(IsFinalPipeline(json{{"state", 8}}));
  EXPECT_FALSE(IsFinalPipeline(json{{"state", 6}}));
  kiln_.states_ = {"PIPELINE_STATE_RUNNING", "PIPELINE_STATE_SUCCEEDED"};
  PipelineFollowOptions options = Fast();
  options.tty = true;
  ApiClient client = *ApiClient::Create(kiln_.server_.endpoint(), "");
  absl::StatusOr<json> done = FollowPipeline(client, PipelineName("7"), options, err_);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_THAT(err_.str(), testing::StartsWith("\r[RUNNING] elapsed 0s · backing"));
  EXPECT_THAT(err_.str(), testing::EndsWith("\n"));
}

TEST_F(PipelineVerbsTest, GenericVerbsUseTheTrainingPipelinesPaths) {
  const std::string endpoint = kiln_.server_.endpoint();
  EXPECT_EQ(Run({"pipelines", "cancel", "7", "--project=demo", "--endpoint", endpoint}), 0) << err_.str();
  EXPECT_EQ(Run({"pipelines", "delete", "7", "--project=demo", "--endpoint", endpoint}), 0) << err_.str();
  EXPECT_EQ(Run({"pipelines", "describe", "7", "--project=demo", "--endpoint", endpoint, "--format=json"}), 0)
      << err_.str();
  std::lock_guard<std::mutex> lock(kiln_.mu_);
  EXPECT_THAT(kiln_.requests_,
              ElementsAre("POST " + std::string(kPipelines) + "/7:cancel", "DELETE " + std::string(kPipelines) + "/7",
                          "GET " + std::string(kPipelines) + "/7"));
}

}  // namespace
}  // namespace kiln::client
