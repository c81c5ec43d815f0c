#include "jobs/expand_variables.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace kiln::jobs {
namespace {

std::string Expand(absl::string_view text) {
  static const std::map<std::string, std::string, std::less<>> vars = {
      {"AIP_MODEL_DIR", "/kiln/storage/b/out/model/"},
      {"A", "alpha"},
      {"EMPTY", ""},
      {"DOLLAR", "$(A)"},
  };
  return ExpandVariables(text, [](absl::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

TEST(ExpandVariablesTest, ExpandsKnownReferences) {
  EXPECT_EQ(Expand("--model_dir=$(AIP_MODEL_DIR)"), "--model_dir=/kiln/storage/b/out/model/");
  EXPECT_EQ(Expand("$(A)$(A)-$(A)"), "alphaalpha-alpha");
  EXPECT_EQ(Expand("x$(EMPTY)y"), "xy");
  EXPECT_EQ(Expand("plain text"), "plain text");
  EXPECT_EQ(Expand(""), "");
}

TEST(ExpandVariablesTest, ValuesAreNotExpandedAgain) { EXPECT_EQ(Expand("$(DOLLAR)"), "$(A)"); }

TEST(ExpandVariablesTest, DoubleDollarEscapes) {
  EXPECT_EQ(Expand("$$(A)"), "$(A)");
  EXPECT_EQ(Expand("$$$(A)"), "$alpha");
  EXPECT_EQ(Expand("$$$$(A)"), "$$(A)");
  EXPECT_EQ(Expand("cost: 5$$"), "cost: 5$");
  EXPECT_EQ(Expand("a$$b"), "a$b");
}

TEST(ExpandVariablesTest, UnresolvedReferencesStayAsWritten) {
  EXPECT_EQ(Expand("$(NOPE)"), "$(NOPE)");
  EXPECT_EQ(Expand("--x=$(NOPE)/$(A)"), "--x=$(NOPE)/alpha");
  EXPECT_EQ(Expand("$()"), "$()");
  EXPECT_EQ(Expand("$(a b)"), "$(a b)");
}

TEST(ExpandVariablesTest, NestedLookingInputs) {
  // The name runs to the first ')': "A$(B" is unknown and stays, then ")" is literal.
  EXPECT_EQ(Expand("$(A$(B))"), "$(A$(B))");
  EXPECT_EQ(Expand("$($(A))"), "$($(A))");
  EXPECT_EQ(Expand("(($(A)))"), "((alpha))");
}

TEST(ExpandVariablesTest, LoneDollarsAndUnterminatedReferences) {
  EXPECT_EQ(Expand("$"), "$");
  EXPECT_EQ(Expand("$A"), "$A");
  EXPECT_EQ(Expand("${A}"), "${A}");
  EXPECT_EQ(Expand("$("), "$(");
  EXPECT_EQ(Expand("x $(A"), "x $(A");
  EXPECT_EQ(Expand("$(A) $(A"), "alpha $(A");
  EXPECT_EQ(Expand("$$("), "$(");
}

}  // namespace
}  // namespace kiln::jobs
