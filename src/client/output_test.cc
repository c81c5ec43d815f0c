#include "client/output.h"

#include <sstream>
#include <string>
#include <vector>

#include "client/nouns.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::client {
namespace {

using ::nlohmann::json;

std::vector<json> TwoJobs() {
  return {json::parse(R"({
            "name": "projects/demo/locations/us-central1/customJobs/123",
            "displayName": "train-résumé",
            "state": "JOB_STATE_RUNNING",
            "createTime": "2024-05-01T10:00:00Z",
            "labels": {"team": "ml", "42": "yes"}
          })"),
          json::parse(R"({
            "name": "projects/demo/locations/us-central1/customJobs/4567",
            "displayName": "eval",
            "state": "JOB_STATE_SUCCEEDED",
            "createTime": "2024-05-02T11:30:00Z"
          })")};
}

const std::vector<Column>& JobColumns() { return FindNoun("custom-jobs")->columns; }

TEST(OutputTest, TableGolden) {
  std::ostringstream out, err;
  ASSERT_TRUE(PrintList(TwoJobs(), JobColumns(), OutputFormat::kTable, out, err).ok());
  EXPECT_EQ(out.str(),
            "ID    DISPLAY_NAME  STATE                CREATE_TIME\n"
            "123   train-résumé  JOB_STATE_RUNNING    2024-05-01T10:00:00Z\n"
            "4567  eval          JOB_STATE_SUCCEEDED  2024-05-02T11:30:00Z\n");
  EXPECT_EQ(err.str(), "");
}

TEST(OutputTest, YamlGolden) {
  std::ostringstream out, err;
  ASSERT_TRUE(PrintList(TwoJobs(), JobColumns(), OutputFormat::kYaml, out, err).ok());
  EXPECT_EQ(out.str(),
            "createTime: '2024-05-01T10:00:00Z'\n"
            "displayName: train-résumé\n"
            "labels:\n"
            "  '42': 'yes'\n"
            "  team: ml\n"
            "name: projects/demo/locations/us-central1/customJobs/123\n"
            "state: JOB_STATE_RUNNING\n"
            "---\n"
            "createTime: '2024-05-02T11:30:00Z'\n"
            "displayName: eval\n"
            "name: projects/demo/locations/us-central1/customJobs/4567\n"
            "state: JOB_STATE_SUCCEEDED\n");
}

TEST(OutputTest, JsonGolden) {
  std::ostringstream out, err;
  std::vector<json> items = {TwoJobs()[1]};
  ASSERT_TRUE(PrintList(items, JobColumns(), OutputFormat::kJson, out, err).ok());
  EXPECT_EQ(out.str(),
            "[\n"
            "  {\n"
            "    \"createTime\": \"2024-05-02T11:30:00Z\",\n"
            "    \"displayName\": \"eval\",\n"
            "    \"name\": \"projects/demo/locations/us-central1/customJobs/"
            "4567\",\n"
            "    \"state\": \"JOB_STATE_SUCCEEDED\"\n"
            "  }\n"
            "]\n");
}

TEST(OutputTest, EmptyListSaysListedZeroItemsOnStderr) {
  for (OutputFormat format : {OutputFormat::kTable, OutputFormat::kYaml, OutputFormat::kJson}) {
    std::ostringstream out, err;
    ASSERT_TRUE(PrintList({}, JobColumns(), format, out, err).ok());
    EXPECT_EQ(out.str(), format == OutputFormat::kJson ? "[]\n" : "");
    EXPECT_EQ(err.str(), "Listed 0 items.\n");
  }
}

TEST(OutputTest, YamlScalarsAndQuoting) {
  json value = json::parse(R"({
    "int": 5, "float": 0.25, "bool": true, "null": null,
    "numeric": "123", "word": "true", "float_text": "1e3",
    "plain": "hello world", "empty_map": {}, "empty_list": [],
    "list": [{"a": "x"}, "y"], "colon": "a: b"
  })");
  absl::StatusOr<std::string> yaml = FormatYaml(value);
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  EXPECT_EQ(*yaml,
            "bool: true\n"
            "colon: \"a: b\"\n"
            "empty_list: []\n"
            "empty_map: {}\n"
            "float: 0.25\n"
            "float_text: '1e3'\n"
            "int: 5\n"
            "list:\n"
            "  - a: x\n"
            "  - 'y'\n"
            "'null': null\n"
            "numeric: '123'\n"
            "plain: hello world\n"
            "word: 'true'\n");
}

TEST(OutputTest, ModelAndOperationColumns) {
  std::vector<json> models = {json::parse(R"({
      "name": "projects/p/locations/r/models/77", "displayName": "m",
      "versionId": "2", "versionAliases": ["default", "prod"]})")};
  EXPECT_EQ(FormatTable(models, FindNoun("models")->columns),
            "ID  DISPLAY_NAME  VERSION  ALIASES       CREATE_TIME\n"
            "77  m             2        default,prod\n");

  std::vector<json> operations = {json::parse(R"({"name": "projects/p/locations/r/operations/1",
                      "done": true})"),
                                  json::parse(R"({"name": "projects/p/locations/r/operations/22"})")};
  const std::string header = "NAME" + std::string(34, ' ') + "DONE\n";
  EXPECT_EQ(FormatTable(operations, FindNoun("operations")->columns),
            header +
                "projects/p/locations/r/operations/1   True\n"
                "projects/p/locations/r/operations/22  False\n");
}

TEST(OutputTest, CellTextFollowsDottedPathsAndFlattensValues) {
  json row = json::parse(R"({"spec": {"count": 3, "multi": "a\nb"}, "flag": false})");
  EXPECT_EQ(CellText(row, {"C", "spec.count"}), "3");
  EXPECT_EQ(CellText(row, {"M", "spec.missing"}), "");
  EXPECT_EQ(CellText(row, {"F", "flag"}), "False");
  EXPECT_EQ(CellText(row, {"S", "spec"}), R"({"count":3,"multi":"a\nb"})");
  EXPECT_EQ(FormatTable({row}, {{"MULTI", "spec.multi"}}), "MULTI\na b\n");
}

TEST(OutputTest, DescribeAsTableIsOneRow) {
  std::ostringstream out;
  ASSERT_TRUE(PrintResource(TwoJobs()[1], JobColumns(), OutputFormat::kTable, out).ok());
  EXPECT_EQ(out.str(),
            "ID    DISPLAY_NAME  STATE                CREATE_TIME\n"
            "4567  eval          JOB_STATE_SUCCEEDED  2024-05-02T11:30:00Z\n");
}

TEST(OutputTest, ParseOutputFormat) {
  EXPECT_EQ(ParseOutputFormat("json").value(), OutputFormat::kJson);
  EXPECT_EQ(ParseOutputFormat("yaml").value(), OutputFormat::kYaml);
  EXPECT_EQ(ParseOutputFormat("table").value(), OutputFormat::kTable);
  EXPECT_EQ(ParseOutputFormat("JSON").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OutputFormatName(OutputFormat::kYaml), "yaml");
}

}  // namespace
}  // namespace kiln::client
