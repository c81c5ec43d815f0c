// Filter::RequiredString and Filter::TimeLowerBound: what a filter implies about one field.

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "filter/filter.h"
#include "google/cloud/aiplatform/v1/training_pipeline.pb.h"
#include "gtest/gtest.h"

namespace kiln::filter {
namespace {

namespace v1 = ::google::cloud::aiplatform::v1;

Filter Parse(const std::string& text) {
  absl::StatusOr<Filter> filter = Filter::Parse(text, v1::TrainingPipeline::descriptor(),
                                                {{"display_name", "display_name"},
                                                 {"create_time", "create_time"},
                                                 {"update_time", "update_time"},
                                                 {"labels", "labels"}});
  EXPECT_TRUE(filter.ok()) << text << ": " << filter.status();
  return filter.ok() ? *filter : Filter();
}

absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error)) << error;
  return t;
}

TEST(PlannerTest, RequiredStringFromAndTermsAndAgreeingOrBranches) {
  EXPECT_EQ(Parse("display_name=\"a\"").RequiredString("display_name"), "a");
  EXPECT_EQ(Parse("labels.job=\"7\" AND display_name:\"x*\"").RequiredString("labels.job"), "7");
  EXPECT_EQ(Parse("labels.env=prod labels.job=7").RequiredString("labels.job"), "7");
  EXPECT_EQ(Parse("(labels.job=7 AND display_name=a) OR labels.job=7").RequiredString("labels.job"), "7");
  // Not pinned: disagreeing or missing OR branches, NOT, other operators, other fields.
  EXPECT_EQ(Parse("labels.job=7 OR labels.job=8").RequiredString("labels.job"), std::nullopt);
  EXPECT_EQ(Parse("labels.job=7 OR display_name=a").RequiredString("labels.job"), std::nullopt);
  EXPECT_EQ(Parse("NOT labels.job=7").RequiredString("labels.job"), std::nullopt);
  EXPECT_EQ(Parse("-labels.job=7").RequiredString("labels.job"), std::nullopt);
  EXPECT_EQ(Parse("labels.job!=7").RequiredString("labels.job"), std::nullopt);
  EXPECT_EQ(Parse("labels.job:7*").RequiredString("labels.job"), std::nullopt);
  EXPECT_EQ(Parse("labels.jobs=7").RequiredString("labels.job"), std::nullopt);
  EXPECT_EQ(Parse("labels:job").RequiredString("labels.job"), std::nullopt);
  EXPECT_EQ(Parse("").RequiredString("display_name"), std::nullopt);
  // An OR conflict under an AND leaves the other term's value.
  EXPECT_EQ(Parse("(display_name=a OR display_name=b) AND display_name=c").RequiredString("display_name"), "c");
}

TEST(PlannerTest, TimeLowerBoundTakesTheLatestUnderAndAndTheEarliestUnderOr) {
  absl::Time a = At("2026-01-01T00:00:00Z");
  absl::Time b = At("2026-01-02T00:00:00.5Z");
  EXPECT_EQ(Parse("create_time>=\"2026-01-01T00:00:00Z\"").TimeLowerBound("create_time"), a);
  EXPECT_EQ(Parse("create_time>2026-01-01T00:00:00Z").TimeLowerBound("create_time"), a);
  EXPECT_EQ(Parse("create_time=2026-01-01T00:00:00Z").TimeLowerBound("create_time"), a);
  EXPECT_EQ(
      Parse("create_time>=2026-01-01T00:00:00Z AND create_time>2026-01-02T00:00:00.5Z").TimeLowerBound("create_time"),
      b);
  // gcloud stream-logs' position filter.
  std::string gcloud = absl::StrCat(
      "labels.job=\"7\" AND ((create_time=\"2026-01-02T00:00:00.5Z\" AND display_name>\"x\") OR "
      "create_time>\"2026-01-01T00:00:00Z\") AND create_time<\"2026-02-01T00:00:00Z\"");
  EXPECT_EQ(Parse(gcloud).TimeLowerBound("create_time"), a);
  EXPECT_EQ(Parse(gcloud).RequiredString("labels.job"), "7");
  // Unbounded: upper bounds, NOT, an OR branch without a bound, other fields.
  EXPECT_EQ(Parse("create_time<2026-01-01T00:00:00Z").TimeLowerBound("create_time"), std::nullopt);
  EXPECT_EQ(Parse("NOT create_time<2026-01-01T00:00:00Z").TimeLowerBound("create_time"), std::nullopt);
  EXPECT_EQ(Parse("create_time>2026-01-01T00:00:00Z OR display_name=a").TimeLowerBound("create_time"), std::nullopt);
  EXPECT_EQ(Parse("update_time>2026-01-01T00:00:00Z").TimeLowerBound("create_time"), std::nullopt);
}

TEST(PlannerTest, DeepChainsDoNotRecurse) {
  std::string text = "labels.job=7";
  for (int i = 0; i < 190; ++i) text += " AND display_name!=x";  // under the 4096-byte cap
  EXPECT_EQ(Parse(text).RequiredString("labels.job"), "7");
}

}  // namespace
}  // namespace kiln::filter
