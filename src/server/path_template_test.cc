#include "server/path_template.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::server {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(PathTemplateTest, BindsParentVariable) {
  auto t = PathTemplate::Parse("/v1/{parent=projects/*/locations/*}/customJobs");
  ASSERT_TRUE(t.ok()) << t.status();
  auto m = t->Match("/v1/projects/p/locations/us-central1/customJobs");
  ASSERT_TRUE(m.has_value());
  EXPECT_THAT(*m, ElementsAre(Pair("parent", "projects/p/locations/us-central1")));
  EXPECT_FALSE(t->Match("/v1/projects/p/locations/us-central1/customJobs/1").has_value());
  EXPECT_FALSE(t->Match("/v1/projects/p/customJobs").has_value());
  EXPECT_FALSE(t->Match("/v1/projects//locations/l/customJobs").has_value());
}

TEST(PathTemplateTest, CustomVerbMustMatchAndIsNotTakenForAnId) {
  auto cancel = PathTemplate::Parse("/v1/{name=projects/*/locations/*/customJobs/*}:cancel");
  auto get = PathTemplate::Parse("/v1/{name=projects/*/locations/*/customJobs/*}");
  ASSERT_TRUE(cancel.ok() && get.ok());
  EXPECT_EQ(cancel->verb(), "cancel");
  auto m = cancel->Match("/v1/projects/p/locations/l/customJobs/42:cancel");
  ASSERT_TRUE(m.has_value());
  EXPECT_THAT(*m, ElementsAre(Pair("name", "projects/p/locations/l/customJobs/42")));
  EXPECT_FALSE(get->Match("/v1/projects/p/locations/l/customJobs/42:cancel").has_value());
  EXPECT_FALSE(cancel->Match("/v1/projects/p/locations/l/customJobs/42").has_value());
  EXPECT_FALSE(cancel->Match("/v1/projects/p/locations/l/customJobs/42:stop").has_value());
}

TEST(PathTemplateTest, DoubleStarTakesSeveralSegments) {
  auto t = PathTemplate::Parse("/v1/{name=operations/**}");
  ASSERT_TRUE(t.ok());
  auto m = t->Match("/v1/operations/a/b/c");
  ASSERT_TRUE(m.has_value());
  EXPECT_THAT(*m, ElementsAre(Pair("name", "operations/a/b/c")));
  EXPECT_FALSE(t->Match("/v1/operations").has_value());
}

TEST(PathTemplateTest, ShortFormVariableIsOneSegment) {
  auto t = PathTemplate::Parse("/v1/things/{id}/parts/{part.name}");
  ASSERT_TRUE(t.ok());
  auto m = t->Match("/v1/things/7/parts/x");
  ASSERT_TRUE(m.has_value());
  EXPECT_THAT(*m, ElementsAre(Pair("id", "7"), Pair("part.name", "x")));
}

TEST(PathTemplateTest, VersionedModelNamesMatch) {
  auto t = PathTemplate::Parse("/v1/{name=projects/*/locations/*/models/*}");
  ASSERT_TRUE(t.ok());
  auto m = t->Match("/v1/projects/p/locations/l/models/12@default");
  ASSERT_TRUE(m.has_value());
  EXPECT_THAT(*m, ElementsAre(Pair("name", "projects/p/locations/l/models/12@default")));
}

TEST(PathTemplateTest, RejectsMalformedTemplates) {
  EXPECT_FALSE(PathTemplate::Parse("v1/x").ok());
  EXPECT_FALSE(PathTemplate::Parse("/v1/{name=projects/*").ok());
  EXPECT_FALSE(PathTemplate::Parse("/v1/x:").ok());
  EXPECT_FALSE(PathTemplate::Parse("/v1/a*b").ok());
  EXPECT_FALSE(PathTemplate::Parse("/v1/{=x}").ok());
}

}  // namespace
}  // namespace kiln::server
