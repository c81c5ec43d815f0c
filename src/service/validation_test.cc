#include "service/validation.h"

#include "gtest/gtest.h"

namespace kiln::service {
namespace {

TEST(ValidationTest, DisplayNameCountsCharactersNotBytes) {
  EXPECT_TRUE(ValidateDisplayName("displayName", std::string(128, 'a')).ok());
  std::string accented;
  for (int i = 0; i < 128; ++i) accented += "é";  // 256 bytes, 128 characters
  EXPECT_TRUE(ValidateDisplayName("displayName", accented).ok());
  EXPECT_EQ(ValidateDisplayName("displayName", "").message(), "displayName: is required");
}

TEST(ValidationTest, LabelRules) {
  google::protobuf::Map<std::string, std::string> labels;
  labels["env"] = "prod";
  labels["tier_2"] = "";
  EXPECT_TRUE(ValidateLabels("labels", labels).ok());
  labels["env"] = "Prod";
  EXPECT_EQ(ValidateLabels("labels", labels).message(),
            "labels.env: label values may hold only lowercase letters, digits, '_' and '-'");
  labels.clear();
  labels["1abc"] = "x";
  EXPECT_EQ(ValidateLabels("labels", labels).message(), "labels.1abc: label keys must start with a lowercase letter");
  labels.clear();
  labels[std::string(64, 'a')] = "x";
  EXPECT_EQ(ValidateLabels("labels", labels).code(), absl::StatusCode::kInvalidArgument);
  labels.clear();
  for (int i = 0; i < 65; ++i) labels["k" + std::to_string(i)] = "v";
  EXPECT_EQ(ValidateLabels("labels", labels).message(), "labels: at most 64 labels, got 65");
}

}  // namespace
}  // namespace kiln::service
