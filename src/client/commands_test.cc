#include "client/commands.h"

#include <stdlib.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "client/client_test_util.h"
#include "client/command_support.h"
#include "client/verbs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::client {
namespace {

using ::nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kJobs[] = "/v1/projects/demo/locations/us-central1/customJobs";
constexpr char kOps[] = "/v1/projects/demo/locations/us-central1/operations";

json Job(const std::string& id, const std::string& display_name, const std::string& state) {
  return {{"name", "projects/demo/locations/us-central1/customJobs/" + id},
          {"displayName", display_name},
          {"state", state},
          {"createTime", "2024-05-01T10:00:00Z"}};
}

// A fake Vertex server with a few custom jobs (2 pages), models and
// operations; it records the Authorization header and POSTs it receives.
class CommandsTest : public ::testing::Test {
 protected:
  CommandsTest()
      : server_([this](httplib::Server& s) {
          s.Get(kJobs, [this](const httplib::Request& req, httplib::Response& res) {
            Note(req);
            json page;
            if (req.get_param_value("pageToken").empty()) {
              page = {
                  {"customJobs", {Job("123", "train", "JOB_STATE_RUNNING"), Job("456", "eval", "JOB_STATE_SUCCEEDED")}},
                  {"nextPageToken", "next"}};
            } else {
              page = {{"customJobs", {Job("789", "tune", "JOB_STATE_FAILED")}}};
            }
            ReplyJson(res, page.dump());
          });
          s.Get(std::string(kJobs) + "/123", [this](const httplib::Request& req, httplib::Response& res) {
            Note(req);
            ReplyJson(res, Job("123", "train", "JOB_STATE_RUNNING").dump());
          });
          s.Get(std::string(kJobs) + "/999", [](const httplib::Request&, httplib::Response& res) {
            ReplyJson(res,
                      R"({"error":{"code":404,"message":"CustomJob 999 )"
                      R"(not found.","status":"NOT_FOUND"}})",
                      404);
          });
          s.Post(std::string(kJobs) + "/123:cancel", [this](const httplib::Request& req, httplib::Response& res) {
            Note(req);
            ReplyJson(res, "{}");
          });
          s.Delete(std::string(kJobs) + "/123", [](const httplib::Request&, httplib::Response& res) {
            ReplyJson(res, R"({"name":"projects/demo/locations/)"
                           R"(us-central1/operations/9","done":true})");
          });
          s.Get(std::string(kOps) + "/5", [this](const httplib::Request&, httplib::Response& res) {
            const bool done = ++polls_ >= 3;
            ReplyJson(res, json({{"name",
                                  "projects/demo/locations/"
                                  "us-central1/operations/5"},
                                 {"done", done}})
                               .dump());
          });
          s.Get(std::string(kOps) + "/6", [](const httplib::Request&, httplib::Response& res) {
            ReplyJson(res, R"({"name":"op6","done":true,"error":)"
                           R"({"code":9,"message":"boom"}})");
          });
          s.Get(std::string(kOps) + "/7",
                [](const httplib::Request&, httplib::Response& res) { ReplyJson(res, R"({"name":"op7"})"); });
          s.Get("/v1/projects/env-project/locations/us-central1/models",
                [](const httplib::Request&, httplib::Response& res) { ReplyJson(res, "{}"); });
        }) {}

  void Note(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mu_);
    authorizations_.push_back(req.get_header_value("Authorization"));
    requests_.push_back(req.method + " " + req.path);
  }

  // Runs `kiln <args...>` as main() would; returns the exit code.
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

  ConfigFlags Flags() {
    ConfigFlags flags;
    flags.endpoint = server_.endpoint();
    flags.project = "demo";
    return flags;
  }

  ScopedClientEnv env_;
  std::mutex mu_;
  std::vector<std::string> authorizations_;
  std::vector<std::string> requests_;
  std::atomic<int> polls_{0};
  FakeServer server_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CommandsTest, ListAsJsonFollowsPages) {
  ASSERT_TRUE(server_.ok());
  EXPECT_EQ(Run({"custom-jobs", "list", "--format=json", "--project", "demo", "--endpoint", server_.endpoint()}), 0)
      << err_.str();
  json expected = {Job("123", "train", "JOB_STATE_RUNNING"), Job("456", "eval", "JOB_STATE_SUCCEEDED"),
                   Job("789", "tune", "JOB_STATE_FAILED")};
  EXPECT_EQ(out_.str(), expected.dump(2) + "\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CommandsTest, ListDefaultsToTableAndTakesFlagsBeforeTheVerb) {
  EXPECT_EQ(Run({"custom-jobs", "--project=demo", "--endpoint=" + server_.endpoint(), "list", "--limit", "2"}), 0)
      << err_.str();
  EXPECT_EQ(out_.str(),
            "ID   DISPLAY_NAME  STATE                CREATE_TIME\n"
            "123  train         JOB_STATE_RUNNING    2024-05-01T10:00:00Z\n"
            "456  eval          JOB_STATE_SUCCEEDED  2024-05-01T10:00:00Z\n");
}

TEST_F(CommandsTest, DescribeIdPrintsYaml) {
  EXPECT_EQ(Run({"custom-jobs", "describe", "123", "--project", "demo", "--endpoint", server_.endpoint()}), 0)
      << err_.str();
  EXPECT_EQ(out_.str(),
            "createTime: '2024-05-01T10:00:00Z'\n"
            "displayName: train\n"
            "name: projects/demo/locations/us-central1/customJobs/123\n"
            "state: JOB_STATE_RUNNING\n");
}

TEST_F(CommandsTest, DescribeFullNameNeedsNoProject) {
  EXPECT_EQ(Run({"custom-jobs", "describe", "projects/demo/locations/us-central1/customJobs/123", "--endpoint",
                 server_.endpoint(), "--format", "json"}),
            0)
      << err_.str();
  EXPECT_EQ(json::parse(out_.str()), Job("123", "train", "JOB_STATE_RUNNING"));
}

TEST_F(CommandsTest, NotFoundIsExitOneWithGcloudStyleError) {
  EXPECT_EQ(RunDescribe(*FindNoun("custom-jobs"), Flags(), "999", out_, err_), kExitApiError);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            "ERROR: (kiln.custom-jobs.describe) NOT_FOUND: CustomJob 999 not "
            "found.\n");
}

TEST_F(CommandsTest, MissingProjectIsUsageError) {
  EXPECT_EQ(Run({"custom-jobs", "list", "--endpoint", server_.endpoint()}), kExitUsage);
  EXPECT_THAT(err_.str(), StartsWith("ERROR: (kiln.custom-jobs.list) "
                                     "FAILED_PRECONDITION: no project is set"));
  EXPECT_THAT(err_.str(), HasSubstr("KILN_PROJECT"));
}

TEST_F(CommandsTest, BadIdAndBadFormatAreUsageErrors) {
  EXPECT_EQ(RunDescribe(*FindNoun("custom-jobs"), Flags(), "a/b", out_, err_), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("INVALID_ARGUMENT"));
  EXPECT_EQ(Run({"custom-jobs", "list", "--format=xml", "--project=demo", "--endpoint", server_.endpoint()}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("json, yaml or table"));
}

TEST_F(CommandsTest, EnvironmentConfiguresTheCommandAndTokenIsSent) {
  setenv("KILN_ENDPOINT", server_.endpoint().c_str(), 1);
  setenv("KILN_PROJECT", "env-project", 1);
  setenv("KILN_TOKEN", "tok-1", 1);
  EXPECT_EQ(Run({"models", "list"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "Listed 0 items.\n");

  setenv("KILN_PROJECT", "demo", 1);
  EXPECT_EQ(Run({"custom-jobs", "describe", "123"}), 0) << err_.str();
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_FALSE(authorizations_.empty());
  EXPECT_EQ(authorizations_.back(), "Bearer tok-1");
}

TEST_F(CommandsTest, CancelPostsAndReports) {
  EXPECT_EQ(Run({"custom-jobs", "cancel", "123", "--project=demo", "--endpoint", server_.endpoint()}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            "Requested cancellation of "
            "[projects/demo/locations/us-central1/customJobs/123].\n");
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(requests_.back(),
            "POST /v1/projects/demo/locations/us-central1/customJobs/"
            "123:cancel");
}

TEST_F(CommandsTest, DeletePrintsTheOperation) {
  EXPECT_EQ(RunDelete(*FindNoun("custom-jobs"), Flags(), "123", out_, err_), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "done: true\n"
            "name: projects/demo/locations/us-central1/operations/9\n");
  EXPECT_THAT(err_.str(), HasSubstr("Delete request issued for"));
}

TEST_F(CommandsTest, WaitPollsUntilDone) {
  WaitArgs args;
  args.poll_interval = absl::Milliseconds(5);
  args.timeout = absl::Seconds(30);
  EXPECT_EQ(RunWait(*FindNoun("operations"), Flags(), "5", args, out_, err_), 0) << err_.str();
  EXPECT_EQ(polls_.load(), 3);
  EXPECT_EQ(out_.str(),
            "done: true\n"
            "name: projects/demo/locations/us-central1/operations/5\n");
}

TEST_F(CommandsTest, WaitReportsOperationErrorAndTimeout) {
  WaitArgs args;
  args.poll_interval = absl::Milliseconds(5);
  args.timeout = absl::Milliseconds(100);
  EXPECT_EQ(RunWait(*FindNoun("operations"), Flags(), "6", args, out_, err_), kExitApiError);
  EXPECT_EQ(err_.str(), "ERROR: (kiln.operations.wait) FAILED_PRECONDITION: boom\n");

  err_.str("");
  EXPECT_EQ(RunWait(*FindNoun("operations"), Flags(), "7", args, out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), StartsWith("ERROR: (kiln.operations.wait) "
                                     "DEADLINE_EXCEEDED: operation"));
}

TEST_F(CommandsTest, UnreachableServerIsExitOne) {
  RefusingPort port;
  ConfigFlags flags = Flags();
  flags.endpoint = port.endpoint();
  EXPECT_EQ(RunList(*FindNoun("datasets"), flags, {}, out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), StartsWith("ERROR: (kiln.datasets.list) UNAVAILABLE: could not "
                                     "reach the kiln server at " +
                                     port.endpoint()));
}

TEST_F(CommandsTest, ParseErrorsAreUsageAndHelpIsZero) {
  EXPECT_EQ(Run({"custom-jobs", "list", "--bogus"}), kExitUsage);
  EXPECT_EQ(Run({"custom-jobs", "describe"}), kExitUsage);
  EXPECT_EQ(Run({"custom-jobs"}), kExitUsage);
  EXPECT_EQ(Run({"custom-jobs", "describe", "--help"}), 0);
  EXPECT_THAT(out_.str(), HasSubstr("ID_OR_NAME"));
}

TEST_F(CommandsTest, EveryNounHasItsVerbs) {
  CLI::App app{"kiln"};
  RegisterClientCommands(app, CommandIo{&out_, &err_});
  for (const char* noun : {"custom-jobs", "pipelines", "hp-tuning-jobs"}) {
    for (const char* verb : {"list", "describe", "delete", "cancel"}) {
      EXPECT_NO_THROW(app.get_subcommand(noun)->get_subcommand(verb)) << noun << " " << verb;
    }
  }
  for (const char* noun : {"datasets", "models"}) {
    for (const char* verb : {"list", "describe", "delete"}) {
      EXPECT_NO_THROW(app.get_subcommand(noun)->get_subcommand(verb)) << noun << " " << verb;
    }
  }
  for (const char* verb : {"list", "describe", "delete", "wait"}) {
    EXPECT_NO_THROW(app.get_subcommand("operations")->get_subcommand(verb)) << verb;
  }
  EXPECT_ANY_THROW(app.get_subcommand("models")->get_subcommand("cancel"));
}

}  // namespace
}  // namespace kiln::client
