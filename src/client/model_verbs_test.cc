#include "client/model_verbs.h"

#include <CLI/CLI.hpp>
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
constexpr char kModels[] = "/v1/projects/demo/locations/us-central1/models";

std::string ModelName(const std::string& id) { return std::string(kParent) + "/models/" + id; }

json Version(const std::string& version, json aliases) {
  return {{"name", ModelName("5")},
          {"displayName", "clf"},
          {"versionId", version},
          {"versionAliases", std::move(aliases)},
          {"createTime", "2024-05-01T10:00:00Z"},
          {"versionCreateTime", "2024-05-0" + version + "T10:00:00Z"}};
}

// A fake model registry for model 5 (versions 1 and 2) and an upload whose
// operation is done on the second GET (or fails when upload_fails_).
class FakeRegistry {
 public:
  FakeRegistry()
      : server_([this](httplib::Server& s) {
          auto any = [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); };
          s.Get(R"(/v1/.*)", any);
          s.Post(R"(/v1/.*)", any);
          s.Delete(R"(/v1/.*)", any);
        }) {}

  void Handle(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string line = req.method + " " + req.path;
    if (!req.params.empty()) {
      for (const auto& [key, value] : req.params) {
        line += (line.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
      }
    }
    requests_.push_back(line);
    if (!req.body.empty()) bodies_.push_back(json::parse(req.body));
    const std::string& path = req.path;
    const std::string model = std::string(kModels) + "/5";
    if (path == kModels) {
      ReplyJson(res, json({{"models", {Version("2", {"default", "prod"})}}}).dump());
    } else if (path == model + "@2" || path == model + "@prod") {
      ReplyJson(res, Version("2", {"prod"}).dump());
    } else if (path == model + ":listVersions") {
      if (req.get_param_value("pageToken").empty()) {
        ReplyJson(res, json({{"models", {Version("1", {"default"})}}, {"nextPageToken", "p2"}}).dump());
      } else {
        ReplyJson(res, json({{"models", {Version("2", json::array())}}}).dump());
      }
    } else if (path == model + "@2:deleteVersion" || path == model) {
      ReplyJson(res, R"({"name": "op-del", "done": true})");
    } else if (path == model + "@2:mergeVersionAliases") {
      ReplyJson(res, Version("2", {"prod"}).dump());
    } else if (path == std::string(kModels) + ":upload") {
      ReplyJson(res, json({{"name", ModelName("5") + "/operations/9"}}).dump());
    } else if (path == std::string(kModels) + "/5/operations/9") {
      json op = {{"name", ModelName("5") + "/operations/9"}};
      if (++op_polls_ >= 2) {
        op["done"] = true;
        if (upload_fails_) {
          op["error"] = {{"code", 3}, {"message", "artifactUri is empty"}};
        } else {
          op["response"] = {{"model", ModelName("5")}, {"modelVersionId", "3"}};
        }
      }
      ReplyJson(res, op.dump());
    } else {
      ReplyJson(res,
                R"({"error": {"code": 404, "status": "NOT_FOUND",
                    "message": "no route"}})",
                404);
    }
  }

  FakeServer server_;
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::vector<json> bodies_;
  int op_polls_ = 0;
  bool upload_fails_ = false;
};

class ModelVerbsTest : public ::testing::Test {
 protected:
  int Run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    {
      std::lock_guard<std::mutex> lock(registry_.mu_);
      registry_.requests_.clear();
      registry_.bodies_.clear();
    }
    args.insert(args.begin(), "kiln");
    args.push_back("--project=demo");
    args.push_back("--endpoint=" + registry_.server_.endpoint());
    CLI::App app{"kiln"};
    RegisterClientCommands(app, CommandIo{&out_, &err_});
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
      return ExitCodeForParseError(app, e, out_, err_);
    }
    return 0;
  }

  std::vector<std::string> Requests() {
    std::lock_guard<std::mutex> lock(registry_.mu_);
    return registry_.requests_;
  }

  ScopedClientEnv env_;
  FakeRegistry registry_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(ModelVerbsTest, ListShowsVersionAliasesAndCreateTime) {
  ASSERT_TRUE(registry_.server_.ok());
  EXPECT_EQ(Run({"models", "list"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "ID  DISPLAY_NAME  VERSION  ALIASES       CREATE_TIME\n"
            "5   clf           2        default,prod  2024-05-01T10:00:00Z\n");
}

TEST_F(ModelVerbsTest, DescribeAVersionOrAlias) {
  EXPECT_EQ(Run({"models", "describe", "5@2", "--format=json"}), 0) << err_.str();
  EXPECT_EQ(json::parse(out_.str())["versionId"], "2");
  EXPECT_EQ(Run({"models", "describe", "5@prod", "--format=json"}), 0) << err_.str();
  EXPECT_THAT(Requests(), ElementsAre("GET " + std::string(kModels) + "/5@prod"));
}

TEST_F(ModelVerbsTest, VersionsPagesThroughListVersions) {
  EXPECT_EQ(Run({"models", "versions", "5"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "VERSION  ALIASES  DISPLAY_NAME  VERSION_CREATE_TIME\n"
            "1        default  clf           2024-05-01T10:00:00Z\n"
            "2                 clf           2024-05-02T10:00:00Z\n");
  EXPECT_THAT(Requests(), ElementsAre("GET " + std::string(kModels) + "/5:listVersions",
                                      "GET " + std::string(kModels) + "/5:listVersions?pageToken=p2"));
  EXPECT_EQ(Run({"models", "versions", "5", "--limit=1", "--format=json"}), 0);
  EXPECT_EQ(json::parse(out_.str()).size(), 1u);
  EXPECT_EQ(Requests().size(), 1u);
  EXPECT_EQ(Run({"models", "versions", "5@1"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("without @VERSION"));
}

TEST_F(ModelVerbsTest, DeleteAModelOrOneVersion) {
  EXPECT_EQ(Run({"models", "delete", "5"}), 0) << err_.str();
  EXPECT_EQ(err_.str(), "Delete request issued for [" + ModelName("5") + "].\n");
  EXPECT_EQ(out_.str(), "done: true\nname: op-del\n");
  EXPECT_THAT(Requests(), ElementsAre("DELETE " + std::string(kModels) + "/5"));
  EXPECT_EQ(Run({"models", "delete", "5@2"}), 0) << err_.str();
  EXPECT_EQ(err_.str(), "Delete request issued for model version [" + ModelName("5") + "@2].\n");
  EXPECT_THAT(Requests(), ElementsAre("DELETE " + std::string(kModels) + "/5@2:deleteVersion"));
}

TEST_F(ModelVerbsTest, MergeAliases) {
  EXPECT_EQ(Run({"models", "merge-aliases", "5@2", "--aliases=prod,-old"}), 0) << err_.str();
  EXPECT_THAT(Requests(), ElementsAre("POST " + std::string(kModels) + "/5@2:mergeVersionAliases"));
  EXPECT_EQ(registry_.bodies_.at(0), json({{"versionAliases", {"prod", "-old"}}}));
  EXPECT_THAT(out_.str(), HasSubstr("versionId: '2'\n"));
  EXPECT_EQ(Run({"models", "merge-aliases", "5", "--aliases=prod"}), kExitUsage);
  EXPECT_EQ(err_.str(),
            "ERROR: (kiln.models.merge-aliases) INVALID_ARGUMENT: "
            "merge-aliases needs a model version: ID@VERSION or ID@ALIAS, not "
            "\"5\"\n");
  EXPECT_EQ(Run({"models", "merge-aliases", "5@2", "--aliases=Prod"}), kExitUsage);
  EXPECT_EQ(Run({"models", "merge-aliases", "5@2"}), kExitUsage);
  EXPECT_TRUE(Requests().empty());
}

TEST_F(ModelVerbsTest, UploadPollsTheOperation) {
  ASSERT_EQ(Run({"models", "upload", "--display-name=clf", "--artifact-uri=gs://b/model", "--container-image-uri=srv:1",
                 "--parent-model=5", "--version-aliases=candidate", "--description=d", "--labels=team=ml"}),
            0)
      << err_.str();
  const json expected = json::parse(R"({
      "model": {"displayName": "clf", "artifactUri": "gs://b/model",
                "containerSpec": {"imageUri": "srv:1"}, "description": "d",
                "versionAliases": ["candidate"], "labels": {"team": "ml"}},
      "parentModel": "projects/demo/locations/us-central1/models/5"})");
  EXPECT_EQ(registry_.bodies_.at(0), expected) << registry_.bodies_[0].dump(2);
  const std::string op = "GET " + std::string(kModels) + "/5/operations/9";
  EXPECT_THAT(Requests(), ElementsAre("POST " + std::string(kModels) + ":upload", op, op));
  EXPECT_EQ(out_.str(), ModelName("5") + "\n");
  EXPECT_EQ(err_.str(), "Model: " + ModelName("5") + " version 3\n");
}

TEST_F(ModelVerbsTest, UploadErrors) {
  registry_.upload_fails_ = true;
  EXPECT_EQ(Run({"models", "upload", "--display-name=clf", "--container-image-uri=srv:1", "--model-id=clf-1"}),
            kExitApiError);
  EXPECT_EQ(registry_.bodies_.at(0)["modelId"], "clf-1");
  EXPECT_EQ(err_.str(),
            "ERROR: (kiln.models.upload) INVALID_ARGUMENT: artifactUri is "
            "empty\n");
  EXPECT_EQ(Run({"models", "upload", "--display-name=clf"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("give --artifact-uri"));
  EXPECT_EQ(Run({"models", "upload", "--artifact-uri=gs://b/m"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--display-name is required"));
  EXPECT_EQ(Run({"models", "upload", "--display-name=c", "--artifact-uri=gs://b/m", "--parent-model=5@1"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("names a version"));
  EXPECT_TRUE(Requests().empty());
}

TEST_F(ModelVerbsTest, ModelsHasItsVerbs) {
  CLI::App app{"kiln"};
  RegisterClientCommands(app, CommandIo{&out_, &err_});
  for (const char* verb : {"upload", "list", "describe", "versions", "merge-aliases", "delete"}) {
    EXPECT_NO_THROW(app.get_subcommand("models")->get_subcommand(verb)) << verb;
  }
  for (const char* verb : {"create", "list", "describe", "wait", "cancel", "delete"}) {
    EXPECT_NO_THROW(app.get_subcommand("pipelines")->get_subcommand(verb)) << verb;
  }
}

}  // namespace
}  // namespace kiln::client
