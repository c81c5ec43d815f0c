#include "server/router.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/vertex_routes.h"

namespace kiln::server {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

class VertexRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = BuildVertexRouter();
    ASSERT_TRUE(r.ok()) << r.status();
    router_ = std::make_unique<Router>(*std::move(r));
  }
  std::unique_ptr<Router> router_;
};

TEST_F(VertexRouterTest, RoutesComeFromTheProtoAnnotations) {
  auto m = router_->Find("POST", "/v1/projects/p/locations/us-central1/customJobs");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method->full_name(), "google.cloud.aiplatform.v1.JobService.CreateCustomJob");
  EXPECT_EQ(m.route->body, "custom_job");
  EXPECT_THAT(m.bindings, ElementsAre(Pair("parent", "projects/p/locations/us-central1")));

  m = router_->Find("POST", "/v1/projects/p/locations/l/trainingPipelines/9:cancel");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method->full_name(), "google.cloud.aiplatform.v1.PipelineService.CancelTrainingPipeline");

  m = router_->Find("POST", "/v1/projects/p/locations/l/models:upload");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method->full_name(), "google.cloud.aiplatform.v1.ModelService.UploadModel");
  EXPECT_EQ(m.route->body, "*");
}

TEST_F(VertexRouterTest, OperationsRoutesCoverLocationAndResources) {
  auto m = router_->Find("GET", "/v1/projects/p/locations/l/operations/5");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method->full_name(), "google.longrunning.Operations.GetOperation");
  m = router_->Find("GET", "/v1/projects/p/locations/l/customJobs/1/operations/5");
  ASSERT_NE(m.route, nullptr);
  EXPECT_THAT(m.bindings, ElementsAre(Pair("name", "projects/p/locations/l/customJobs/1/operations/5")));
  m = router_->Find("POST", "/v1/projects/p/locations/l/operations/5:wait");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method->full_name(), "google.longrunning.Operations.WaitOperation");
}

TEST_F(VertexRouterTest, KnownPathWithWrongMethodListsAllowedMethods) {
  auto m = router_->Find("PUT", "/v1/projects/p/locations/l/customJobs/1");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_THAT(m.allowed_methods, ElementsAre("DELETE", "GET"));
}

TEST_F(VertexRouterTest, UnknownPathMatchesNothing) {
  auto m = router_->Find("GET", "/v1/projects/p/locations/l/nothingHere");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.allowed_methods.empty());
}

}  // namespace
}  // namespace kiln::server
