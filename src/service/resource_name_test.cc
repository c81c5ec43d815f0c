#include "service/resource_name.h"

#include "gtest/gtest.h"

namespace kiln::service {
namespace {

TEST(ResourceNameTest, ParsesAndFormats) {
  auto loc = LocationName::Parse("projects/my-proj/locations/us-central1");
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->project, "my-proj");
  EXPECT_EQ(loc->ToString(), "projects/my-proj/locations/us-central1");
  auto name = ResourceName::Parse("projects/p/locations/l/customJobs/123", "customJobs");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->id, "123");
  EXPECT_EQ(name->ToString(), "projects/p/locations/l/customJobs/123");
}

TEST(ResourceNameTest, RejectsWithTheFieldAndTheShape) {
  EXPECT_EQ(LocationName::Parse("projects/p").status().message(),
            "parent: \"projects/p\" is not a location; want projects/{project}/locations/{location}");
  EXPECT_FALSE(ResourceName::Parse("projects/p/locations/l/models/1", "customJobs").ok());
  EXPECT_FALSE(ResourceName::Parse("projects/p/locations/l/customJobs/x1", "customJobs").ok());
  EXPECT_FALSE(ResourceName::Parse("projects/p/locations/l/customJobs/", "customJobs").ok());
  EXPECT_FALSE(LocationName::Parse("projects/a b/locations/l").ok());
}

}  // namespace
}  // namespace kiln::service
