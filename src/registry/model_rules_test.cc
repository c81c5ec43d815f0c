#include "registry/model_rules.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kiln::registry {
namespace {

TEST(ModelRefTest, ParsesModelsVersionsAndAliases) {
  auto plain = ModelRef::Parse("projects/p/locations/l/models/12");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->ModelName(), "projects/p/locations/l/models/12");
  EXPECT_EQ(plain->version, "");
  auto version = ModelRef::Parse("projects/p/locations/l/models/my-model@3");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->model_id, "my-model");
  EXPECT_TRUE(version->HasVersionId());
  auto alias = ModelRef::Parse("projects/p/locations/l/models/12@prod");
  ASSERT_TRUE(alias.ok());
  EXPECT_FALSE(alias->HasVersionId());
  EXPECT_EQ(alias->version, "prod");
  EXPECT_TRUE(ModelRef::Parse("projects/p/locations/l/models/12@-").ok());
  for (const char* bad :
       {"projects/p/locations/l/models", "projects/p/locations/l/customJobs/1", "projects/p/locations/l/models/Bad",
        "projects/p/locations/l/models/1@", "models/1", "projects/p/locations/l/models/1@Prod"}) {
    EXPECT_EQ(ModelRef::Parse(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(AliasTest, FollowsVertexSyntax) {
  for (const std::string& good : std::vector<std::string>{"default", "ab", "prod-2", "aB9", std::string(128, 'a')}) {
    EXPECT_TRUE(IsValidAlias(good)) << good;
  }
  for (const std::string& bad : std::vector<std::string>{"a", "1a", "Ab", "a-", "a_b", "", std::string(129, 'a')}) {
    EXPECT_FALSE(IsValidAlias(bad)) << bad;
  }
}

TEST(ModelIdTest, FollowsVertexRules) {
  EXPECT_TRUE(ValidateModelId("modelId", "my_model-1").ok());
  EXPECT_EQ(ValidateModelId("modelId", "9lives").message(), "modelId: must not start with a digit or hyphen");
  EXPECT_FALSE(ValidateModelId("modelId", std::string(64, 'a')).ok());
  EXPECT_FALSE(ValidateModelId("modelId", "UPPER").ok());
}

}  // namespace
}  // namespace kiln::registry
