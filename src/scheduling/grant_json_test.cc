#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduling/ledger.h"

namespace kiln::scheduling {
namespace {

using ::testing::HasSubstr;

TEST(GrantJsonTest, RoundTrip) {
  const Grant grant{{{"workerpool0-0", {"0", "1"}}, {"workerpool1-0", {"GPU-3f2a"}}}};
  const std::string json = GrantToJson(grant);
  EXPECT_EQ(json, R"({"deviceIdsByTask":{"workerpool0-0":["0","1"],"workerpool1-0":["GPU-3f2a"]}})");
  auto back = GrantFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, grant);
}

TEST(GrantJsonTest, EmptyGrantRoundTrips) {
  auto back = GrantFromJson(GrantToJson(Grant{}));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, Grant{});
}

TEST(GrantJsonTest, MalformedIsInvalidArgument) {
  for (const char* bad : {"", "{", "[]", "{}", R"({"deviceIdsByTask":[]})", R"({"deviceIdsByTask":{"w0":"0"}})",
                          R"({"deviceIdsByTask":{"w0":[0]}})"}) {
    auto g = GrantFromJson(bad);
    EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(g.status().message(), HasSubstr("grant")) << bad;
  }
}

}  // namespace
}  // namespace kiln::scheduling
