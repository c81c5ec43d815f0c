#include "client/resources.h"

#include <mutex>
#include <string>
#include <vector>

#include "client/client_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::client {
namespace {

using ::nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

ClientConfig DemoConfig() {
  ClientConfig config;
  config.project = "demo";
  config.region = "europe-west4";
  return config;
}

const NameRules kJobs{"customJobs", false};
const NameRules kModels{"models", true};
const NameRules kOperations{"operations", false};

TEST(ExpandResourceNameTest, IdExpandsWithProjectAndRegion) {
  EXPECT_EQ(ExpandResourceName(DemoConfig(), kJobs, "123").value(),
            "projects/demo/locations/europe-west4/customJobs/123");
  EXPECT_EQ(ExpandResourceName(DemoConfig(), kModels, "7@2").value(),
            "projects/demo/locations/europe-west4/models/7@2");
  EXPECT_EQ(ExpandResourceName(DemoConfig(), kOperations, "55").value(),
            "projects/demo/locations/europe-west4/operations/55");
}

TEST(ExpandResourceNameTest, FullNameIsUsedAsIs) {
  ClientConfig no_project;  // A full name needs no project.
  EXPECT_EQ(ExpandResourceName(no_project, kJobs, "projects/other/locations/asia1/customJobs/9").value(),
            "projects/other/locations/asia1/customJobs/9");
  EXPECT_EQ(ExpandResourceName(no_project, kOperations, "projects/p/locations/r/customJobs/9/operations/77").value(),
            "projects/p/locations/r/customJobs/9/operations/77");
}

TEST(ExpandResourceNameTest, RejectsOtherShapes) {
  for (const char* bad : {"", "a/b", "..", "1@2", "projects/p/locations/r/models/1",
                          "projects/p/locations/r/customJobs", "projects/p/customJobs/1",
                          "projects/p/locations/r/customJobs/1/", "projects/../locations/r/customJobs/1", "12 34"}) {
    absl::StatusOr<std::string> name = ExpandResourceName(DemoConfig(), kJobs, bad);
    EXPECT_EQ(name.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(name.status().message(), HasSubstr("projects/PROJECT/locations/REGION/customJobs/123")) << bad;
  }
}

TEST(ExpandResourceNameTest, IdWithoutProjectIsFailedPrecondition) {
  absl::StatusOr<std::string> name = ExpandResourceName(ClientConfig{}, kJobs, "123");
  EXPECT_EQ(name.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(name.status().message(), HasSubstr("KILN_PROJECT"));
}

TEST(ResourcePathTest, BuildsVertexPaths) {
  EXPECT_EQ(ResourcePath("projects/p/locations/r/models/1"), "/v1/projects/p/locations/r/models/1");
  EXPECT_EQ(MethodPath("projects/p/locations/r/customJobs/1", "cancel"),
            "/v1/projects/p/locations/r/customJobs/1:cancel");
  EXPECT_EQ(CollectionPath("projects/p/locations/r", "datasets"), "/v1/projects/p/locations/r/datasets");
  EXPECT_EQ(LastSegment("projects/p/locations/r/models/1@3"), "1@3");
  EXPECT_EQ(LastSegment("plain"), "plain");
}

// A collection of 5 jobs served 2 per page, tokens "t2" and "t3".
class ListAllTest : public ::testing::Test {
 protected:
  ListAllTest()
      : server_([this](httplib::Server& s) {
          s.Get("/v1/projects/p/locations/r/customJobs", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard<std::mutex> lock(mu_);
            std::string token = req.get_param_value("pageToken");
            tokens_.push_back(token);
            filters_.push_back(req.get_param_value("filter"));
            page_sizes_.push_back(req.get_param_value("pageSize"));
            json page;
            if (token.empty()) {
              page = {{"customJobs", {{{"name", "j1"}}, {{"name", "j2"}}}}, {"nextPageToken", "t2"}};
            } else if (token == "t2") {
              page = {{"customJobs", {{{"name", "j3"}}, {{"name", "j4"}}}}, {"nextPageToken", "t3"}};
            } else {
              page = {{"customJobs", {{{"name", "j5"}}}}};
            }
            ReplyJson(res, page.dump());
          });
          s.Get("/v1/projects/p/locations/r/models", [](const httplib::Request&, httplib::Response& res) {
            ReplyJson(res, R"({"nextPageToken":"again"})");
          });
          s.Get("/v1/projects/p/locations/r/datasets",
                [](const httplib::Request&, httplib::Response& res) { ReplyJson(res, "{}"); });
        }) {}

  std::vector<std::string> Names(const std::vector<json>& items) {
    std::vector<std::string> names;
    for (const json& item : items) names.push_back(item["name"]);
    return names;
  }

  ApiClient Client() { return ApiClient::Create(server_.endpoint(), "").value(); }

  std::mutex mu_;
  std::vector<std::string> tokens_;
  std::vector<std::string> filters_;
  std::vector<std::string> page_sizes_;
  FakeServer server_;
};

TEST_F(ListAllTest, FollowsNextPageTokenToTheEnd) {
  ApiClient client = Client();
  ListRequest request;
  request.filter = "state=JOB_STATE_SUCCEEDED";
  absl::StatusOr<std::vector<json>> items = ListAll(client, "projects/p/locations/r", "customJobs", request);
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_THAT(Names(*items), ElementsAre("j1", "j2", "j3", "j4", "j5"));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_THAT(tokens_, ElementsAre("", "t2", "t3"));
  EXPECT_THAT(filters_,
              ElementsAre("state=JOB_STATE_SUCCEEDED", "state=JOB_STATE_SUCCEEDED", "state=JOB_STATE_SUCCEEDED"));
  EXPECT_THAT(page_sizes_, ElementsAre("", "", ""));
}

TEST_F(ListAllTest, LimitStopsPagingEarly) {
  ApiClient client = Client();
  ListRequest request;
  request.limit = 3;
  absl::StatusOr<std::vector<json>> items = ListAll(client, "projects/p/locations/r", "customJobs", request);
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_THAT(Names(*items), ElementsAre("j1", "j2", "j3"));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_THAT(tokens_, ElementsAre("", "t2"));
  EXPECT_THAT(page_sizes_, ElementsAre("3", "3"));
}

TEST_F(ListAllTest, PageSizeIsSentAsIs) {
  ApiClient client = Client();
  ListRequest request;
  request.page_size = 2;
  request.limit = 10;
  ASSERT_TRUE(ListAll(client, "projects/p/locations/r", "customJobs", request).ok());
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_THAT(page_sizes_, ElementsAre("2", "2", "2"));
}

TEST_F(ListAllTest, RepeatedPageTokenIsAnError) {
  ApiClient client = Client();
  absl::StatusOr<std::vector<json>> items = ListAll(client, "projects/p/locations/r", "models", {});
  EXPECT_EQ(items.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(items.status().message(), HasSubstr("repeated page token"));
}

TEST_F(ListAllTest, AnswerWithoutTheCollectionKeyIsEmpty) {
  ApiClient client = Client();
  absl::StatusOr<std::vector<json>> items = ListAll(client, "projects/p/locations/r", "datasets", {});
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_TRUE(items->empty());
}

}  // namespace
}  // namespace kiln::client
