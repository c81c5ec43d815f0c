#include "client/custom_job_verbs.h"

#include <CLI/CLI.hpp>
#include <deque>
#include <map>
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

constexpr char kParent[] = "projects/demo/locations/us-central1";
constexpr char kJobs[] = "/v1/projects/demo/locations/us-central1/customJobs";
constexpr char kKiln[] = "/kiln/v1/projects/demo/locations/us-central1/customJobs";

std::string JobName(const std::string& id) { return std::string(kParent) + "/customJobs/" + id; }

json Job(const std::string& id, const std::string& state) {
  return {{"name", JobName(id)}, {"displayName", "train"}, {"state", state}};
}

// A fake kiln server: POST customJobs creates job 42; job 42's :wait answers
// the states queued in wait_states_ (then the last one again); /replicas,
// /logs and :wait exist only when `extensions` is true.
class FakeKiln {
 public:
  explicit FakeKiln(bool extensions)
      : server_([this, extensions](httplib::Server& s) {
          s.Post(kJobs, [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard<std::mutex> lock(mu_);
            posted_.push_back(json::parse(req.body));
            ReplyJson(res, Job("42", "JOB_STATE_PENDING").dump());
          });
          s.Get(std::string(kJobs) + "/42",
                [this](const httplib::Request&, httplib::Response& res) { ReplyJson(res, NextJob().dump()); });
          if (!extensions) return;
          s.Get(std::string(kKiln) + "/42:wait", [this](const httplib::Request& req, httplib::Response& res) {
            {
              std::lock_guard<std::mutex> lock(mu_);
              wait_queries_.push_back(req.get_param_value("timeoutSeconds"));
            }
            ReplyJson(res, NextJob().dump());
          });
          s.Get(std::string(kKiln) + "/42/replicas", [](const httplib::Request&, httplib::Response& res) {
            ReplyJson(res, R"({"state": "JOB_STATE_RUNNING",
                    "queueReason": "waiting for 2 NVIDIA_TESLA_T4",
                    "replicas": [{"taskName": "workerpool0-0",
                    "state": "RUNNING", "exitCode": 0, "signal": 0}]})");
          });
          s.Get(std::string(kKiln) + "/42/logs",
                [this](const httplib::Request& req, httplib::Response& res) { Logs(req, res); });
        }) {}

  // Job 42 as the next :wait / GET answer.
  json NextJob() {
    std::lock_guard<std::mutex> lock(mu_);
    json job = Job("42", states_.front());
    if (states_.front() == "JOB_STATE_FAILED") {
      job["error"] = {{"code", 9}, {"message", "replica exited with 137"}};
    }
    if (states_.size() > 1) states_.pop_front();
    return job;
  }

  // The log is log_ (6 bytes a call); follow calls see one more chunk
  // appear after an empty answer, then the end.
  void Logs(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    log_queries_.push_back(req.get_param_value("task") + "|" + req.get_param_value("offset") + "|" +
                           req.get_param_value("follow") + "|" + req.get_param_value("waitSeconds"));
    if (req.get_param_value("task") == "nope") {
      ReplyJson(res,
                R"({"error":{"code":404,"status":"NOT_FOUND",)"
                R"("message":"no task nope; tasks: workerpool0-0"}})",
                404);
      return;
    }
    const size_t offset = std::stoul(req.get_param_value("offset"));
    if (offset >= log_.size() && req.get_param_value("follow") == "true") {
      if (!grown_) {
        grown_ = true;
        ReplyText(res, "", {{"X-Kiln-Next-Offset", std::to_string(offset)}, {"X-Kiln-Log-End", "false"}});
        return;
      }
      if (log_.size() < 15) log_ += "done\n";
    }
    const std::string chunk = offset < log_.size() ? log_.substr(offset, 6) : "";
    const bool end = grown_ && offset + chunk.size() >= log_.size();
    ReplyText(
        res, chunk,
        {{"X-Kiln-Next-Offset", std::to_string(offset + chunk.size())}, {"X-Kiln-Log-End", end ? "true" : "false"}});
  }

  FakeServer server_;
  std::mutex mu_;
  std::deque<std::string> states_ = {"JOB_STATE_RUNNING"};
  std::vector<json> posted_;
  std::vector<std::string> wait_queries_;
  std::vector<std::string> log_queries_;
  std::string log_ = "hello\nworld\n";
  bool grown_ = false;
};

class CustomJobVerbsTest : public ::testing::Test {
 protected:
  ConfigFlags Flags(const FakeKiln& kiln) {
    ConfigFlags flags;
    flags.endpoint = kiln.server_.endpoint();
    flags.project = "demo";
    return flags;
  }

  static FollowOptions FastFollow() {
    FollowOptions options;
    options.min_interval = absl::Milliseconds(1);
    return options;
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

  const NounSpec& jobs_ = *FindNoun("custom-jobs");
  ScopedClientEnv env_;
  FakeKiln kiln_{/*extensions=*/true};
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CustomJobVerbsTest, CreateSendsTheGcloudStyleJob) {
  ASSERT_TRUE(kiln_.server_.ok());
  ASSERT_EQ(Run({"custom-jobs", "create", "--display-name=train", "--project=demo", "--region=us-central1",
                 "--endpoint", kiln_.server_.endpoint(), "--labels=team=ml,env=dev",
                 "--worker-pool-spec=machine-type=n1-standard-4,replica-count=1,"
                 "container-image-uri=img:1,accelerator-type=NVIDIA_TESLA_T4,"
                 "accelerator-count=1",
                 "--worker-pool-spec", "", "--worker-pool-spec",
                 "machine-type=n1-standard-8,replica-count=2,container-image-uri=img:"
                 "1",
                 "--args=--epochs=5,--lr=0.1", "--command=python,-m,trainer", "--env-vars=A=1,B=x=y", "--timeout=2h",
                 "--base-output-dir=gs://b/out"}),
            0)
      << err_.str();
  ASSERT_EQ(kiln_.posted_.size(), 1u);
  const json container = json::parse(R"({"imageUri": "img:1",
      "command": ["python", "-m", "trainer"], "args": ["--epochs=5",
      "--lr=0.1"], "env": [{"name": "A", "value": "1"},
      {"name": "B", "value": "x=y"}]})");
  json expected = {
      {"displayName", "train"},
      {"labels", {{"team", "ml"}, {"env", "dev"}}},
      {"jobSpec",
       {{"workerPoolSpecs",
         {{{"machineSpec",
            {{"machineType", "n1-standard-4"}, {"acceleratorType", "NVIDIA_TESLA_T4"}, {"acceleratorCount", 1}}},
           {"replicaCount", "1"},
           {"containerSpec", container}},
          json::object(),
          {{"machineSpec", {{"machineType", "n1-standard-8"}}}, {"replicaCount", "2"}, {"containerSpec", container}}}},
        {"scheduling", {{"timeout", "7200s"}}},
        {"baseOutputDirectory", {{"outputUriPrefix", "gs://b/out"}}}}}};
  EXPECT_EQ(kiln_.posted_[0], expected) << kiln_.posted_[0].dump(2);
  EXPECT_EQ(out_.str(), JobName("42") + "\n");
  EXPECT_THAT(err_.str(), HasSubstr("CustomJob [" + JobName("42") + "] is submitted successfully.\n"));
  EXPECT_THAT(err_.str(), HasSubstr("$ kiln custom-jobs describe 42 --project=demo "
                                    "--region=us-central1 --endpoint="));
  EXPECT_THAT(err_.str(), HasSubstr("$ kiln custom-jobs logs 42 -f"));
}

TEST_F(CustomJobVerbsTest, CreateWithFormatPrintsTheJob) {
  ConfigFlags flags = Flags(kiln_);
  flags.format = "json";
  CreateArgs args;
  args.job.display_name = "train";
  args.job.worker_pool_specs = {"machine-type=m,container-image-uri=i"};
  EXPECT_EQ(RunCreate(jobs_, flags, args, out_, err_), 0) << err_.str();
  EXPECT_EQ(json::parse(out_.str()), Job("42", "JOB_STATE_PENDING"));
}

TEST_F(CustomJobVerbsTest, CreateUsageErrorsSendNothing) {
  EXPECT_EQ(Run({"custom-jobs", "create", "--project=demo", "--endpoint", kiln_.server_.endpoint(),
                 "--worker-pool-spec=machine-type=m,container-image-uri=i"}),
            kExitUsage);
  EXPECT_EQ(err_.str(),
            "ERROR: (kiln.custom-jobs.create) INVALID_ARGUMENT: "
            "--display-name is required\n");
  EXPECT_EQ(Run({"custom-jobs", "create", "--project=demo", "--endpoint", kiln_.server_.endpoint(), "--display-name=x",
                 "--worker-pool-spec=machine-type=m,image=i"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("unknown key \"image\"; allowed keys: "));
  EXPECT_TRUE(kiln_.posted_.empty());
}

TEST_F(CustomJobVerbsTest, CreateFromConfigAndWatchUntilSucceeded) {
  const std::string config = ScopedClientEnv::WriteFile(env_.dir() + "/spec.yaml",
                                                        "worker_pool_specs:\n  - machine_spec: {machine_type: m}\n"
                                                        "    replica_count: 1\n    container_spec: {image_uri: i}\n");
  kiln_.states_ = {"JOB_STATE_QUEUED", "JOB_STATE_RUNNING", "JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"};
  CreateArgs args;
  args.job.display_name = "train";
  args.job.config_file = config;
  args.watch = true;
  args.follow = FastFollow();
  EXPECT_EQ(RunCreate(jobs_, Flags(kiln_), args, out_, err_), 0) << err_.str();
  EXPECT_EQ(kiln_.posted_.at(0)["jobSpec"]["workerPoolSpecs"][0]["containerSpec"]["imageUri"], "i");
  EXPECT_THAT(kiln_.wait_queries_, ElementsAre("30", "30", "30", "30"));
  const std::string err = err_.str();
  EXPECT_THAT(err, HasSubstr("[QUEUED] elapsed 0s · waiting for 2 "
                             "NVIDIA_TESLA_T4\n[RUNNING] elapsed "));
  EXPECT_THAT(err, HasSubstr("[SUCCEEDED] elapsed "));
  // Non-TTY: an unchanged line is not repeated.
  EXPECT_EQ(err.find("[RUNNING]"), err.rfind("[RUNNING]"));
  EXPECT_THAT(err, HasSubstr("ended in state JOB_STATE_SUCCEEDED.\n"));
  EXPECT_EQ(out_.str(), JobName("42") + "\n");
}

TEST_F(CustomJobVerbsTest, WatchFailedJobExitsOneWithItsError) {
  kiln_.states_ = {"JOB_STATE_RUNNING", "JOB_STATE_FAILED"};
  CreateArgs args;
  args.job.display_name = "train";
  args.job.worker_pool_specs = {"machine-type=m,container-image-uri=i"};
  args.watch = true;
  args.follow = FastFollow();
  EXPECT_EQ(RunCreate(jobs_, Flags(kiln_), args, out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), HasSubstr("ended in state JOB_STATE_FAILED.\n"
                                    "ERROR: (kiln.custom-jobs.create) FAILED_PRECONDITION: "
                                    "replica exited with 137\n"));
}

TEST_F(CustomJobVerbsTest, WaitVerb) {
  kiln_.states_ = {"JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"};
  EXPECT_EQ(RunJobWait(jobs_, Flags(kiln_), "42", FastFollow(), out_, err_), 0) << err_.str();
  EXPECT_EQ(out_.str(), "displayName: train\nname: " + JobName("42") + "\nstate: JOB_STATE_SUCCEEDED\n");

  kiln_.states_ = {"JOB_STATE_CANCELLED"};
  err_.str("");
  EXPECT_EQ(RunJobWait(jobs_, Flags(kiln_), "42", FastFollow(), out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), HasSubstr("UNKNOWN: CustomJob [" + JobName("42") + "] ended in state JOB_STATE_CANCELLED"));

  kiln_.states_ = {"JOB_STATE_RUNNING"};
  FollowOptions options = FastFollow();
  options.min_interval = absl::Milliseconds(10);
  options.timeout = absl::Milliseconds(50);
  err_.str("");
  EXPECT_EQ(RunJobWait(jobs_, Flags(kiln_), "42", options, out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), HasSubstr("DEADLINE_EXCEEDED: CustomJob [" + JobName("42") + "] is still JOB_STATE_RUNNING"));
  EXPECT_EQ(kiln_.wait_queries_.back(), "1");
}

TEST_F(CustomJobVerbsTest, WaitFallsBackToPollingAnOlderServer) {
  FakeKiln old_kiln(/*extensions=*/false);
  old_kiln.states_ = {"JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"};
  EXPECT_EQ(RunJobWait(jobs_, Flags(old_kiln), "42", FastFollow(), out_, err_), 0) << err_.str();
  EXPECT_THAT(err_.str(), HasSubstr("[RUNNING] elapsed 0s\n[SUCCEEDED]"));
}

TEST_F(CustomJobVerbsTest, ProgressRefreshesInPlaceOnATerminal) {
  kiln_.states_ = {"JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"};
  FollowOptions options = FastFollow();
  options.tty = true;
  ApiClient client = *ApiClient::Create(kiln_.server_.endpoint(), "");
  absl::StatusOr<json> job = FollowJob(client, JobName("42"), options, err_);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_THAT(err_.str(), testing::StartsWith("\r[RUNNING] elapsed 0s"));
  EXPECT_THAT(err_.str(), HasSubstr("\r[SUCCEEDED] elapsed 0s"));
  EXPECT_EQ(err_.str().back(), '\n');
}

TEST(ProgressLineTest, ListsReplicas) {
  json status = {
      {"replicas",
       {{{"taskName", "workerpool0-0"}, {"state", "RUNNING"}}, {{"taskName", "workerpool1-0"}, {"state", "PLANNED"}}}}};
  EXPECT_EQ(ProgressLine({{"state", 3}}, status, absl::Seconds(125)),
            "[RUNNING] elapsed 2m05s · workerpool0-0 RUNNING · workerpool1-0 "
            "PLANNED");
  EXPECT_EQ(ProgressLine({{"state", "JOB_STATE_PENDING"}}, std::nullopt, absl::Hours(1)), "[PENDING] elapsed 1h00m00s");
}

TEST_F(CustomJobVerbsTest, LogsPagesByOffset) {
  EXPECT_EQ(RunLogs(jobs_, Flags(kiln_), "42", LogsArgs{}, out_, err_), 0) << err_.str();
  EXPECT_EQ(out_.str(), "hello\nworld\n");
  EXPECT_THAT(kiln_.log_queries_, ElementsAre("|0|false|", "|6|false|", "|12|false|"));
}

TEST_F(CustomJobVerbsTest, LogsFollowUntilTheEnd) {
  LogsArgs args;
  args.task = "workerpool0-0";
  args.follow = true;
  args.min_interval = absl::Milliseconds(1);
  EXPECT_EQ(RunLogs(jobs_, Flags(kiln_), "42", args, out_, err_), 0) << err_.str();
  EXPECT_EQ(out_.str(), "hello\nworld\ndone\n");
  EXPECT_THAT(kiln_.log_queries_, ElementsAre("workerpool0-0|0|true|20", "workerpool0-0|6|true|20",
                                              "workerpool0-0|12|true|20", "workerpool0-0|12|true|20"));
}

TEST_F(CustomJobVerbsTest, LogsFollowFlagsFromTheCommandLine) {
  kiln_.grown_ = true;  // The replica has finished: no empty answer.
  EXPECT_EQ(Run({"custom-jobs", "logs", "42", "-f", "--task=workerpool0-0", "--project=demo", "--endpoint",
                 kiln_.server_.endpoint()}),
            0)
      << err_.str();
  EXPECT_EQ(out_.str(), "hello\nworld\n");
  EXPECT_THAT(kiln_.log_queries_, ElementsAre("workerpool0-0|0|true|20", "workerpool0-0|6|true|20"));
}

TEST_F(CustomJobVerbsTest, LogsErrors) {
  LogsArgs args;
  args.task = "nope";
  EXPECT_EQ(RunLogs(jobs_, Flags(kiln_), "42", args, out_, err_), kExitApiError);
  EXPECT_EQ(err_.str(),
            "ERROR: (kiln.custom-jobs.logs) NOT_FOUND: no task nope; tasks: "
            "workerpool0-0\n");
}

TEST_F(CustomJobVerbsTest, LogsRefusesAnOffsetGoingBack) {
  FakeServer server([](httplib::Server& s) {
    s.Get(std::string(kKiln) + "/7/logs", [](const httplib::Request&, httplib::Response& res) {
      ReplyText(res, "x", {{"x-kiln-next-offset", "0"}});
    });
  });
  ConfigFlags flags = Flags(kiln_);
  flags.endpoint = server.endpoint();
  EXPECT_EQ(RunLogs(jobs_, flags, "7", LogsArgs{}, out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), HasSubstr("INTERNAL: the server's "
                                    "X-Kiln-Next-Offset 0 does not move on"));
}

TEST_F(CustomJobVerbsTest, DescribeAddsKilnStatus) {
  ConfigFlags flags = Flags(kiln_);
  EXPECT_EQ(RunJobDescribe(jobs_, flags, "42", out_, err_), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "displayName: train\n"
            "kilnStatus:\n"
            "  queueReason: waiting for 2 NVIDIA_TESLA_T4\n"
            "  replicas:\n"
            "    - exitCode: 0\n"
            "      signal: 0\n"
            "      state: RUNNING\n"
            "      taskName: workerpool0-0\n"
            "  state: JOB_STATE_RUNNING\n"
            "name: " +
                JobName("42") +
                "\n"
                "state: JOB_STATE_RUNNING\n");

  out_.str("");
  flags.format = "table";
  EXPECT_EQ(RunJobDescribe(jobs_, flags, "42", out_, err_), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "ID  DISPLAY_NAME  STATE              CREATE_TIME\n"
            "42  train         JOB_STATE_RUNNING\n"
            "\n"
            "kiln:\n"
            "  queueReason: waiting for 2 NVIDIA_TESLA_T4\n"
            "  TASK           STATE    EXIT_CODE  SIGNAL\n"
            "  workerpool0-0  RUNNING  0          0\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CustomJobVerbsTest, DescribeWithoutTheExtensionRoute) {
  FakeKiln old_kiln(/*extensions=*/false);
  EXPECT_EQ(Run({"custom-jobs", "describe", "42", "--project=demo", "--endpoint", old_kiln.server_.endpoint()}), 0)
      << err_.str();
  EXPECT_EQ(out_.str(), "displayName: train\nname: " + JobName("42") + "\nstate: JOB_STATE_RUNNING\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CustomJobVerbsTest, CustomJobsHasTheNewVerbs) {
  CLI::App app{"kiln"};
  RegisterClientCommands(app, CommandIo{&out_, &err_});
  for (const char* verb : {"create", "list", "describe", "logs", "wait", "cancel", "delete"}) {
    EXPECT_NO_THROW(app.get_subcommand("custom-jobs")->get_subcommand(verb)) << verb;
  }
  EXPECT_ANY_THROW(app.get_subcommand("pipelines")->get_subcommand("logs"));
}

}  // namespace
}  // namespace kiln::client
