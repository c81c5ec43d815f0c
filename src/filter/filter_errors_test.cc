// Every error kiln::filter::Filter::Parse reports, with its exact message and position.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "filter/filter.h"
#include "gmock/gmock.h"
#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "google/cloud/aiplatform/v1/hyperparameter_tuning_job.pb.h"
#include "google/cloud/aiplatform/v1/training_pipeline.pb.h"
#include "gtest/gtest.h"

namespace kiln::filter {
namespace {

namespace v1 = ::google::cloud::aiplatform::v1;
using ::testing::HasSubstr;

const std::vector<FieldSpec>& Fields() {
  static const auto* fields = new std::vector<FieldSpec>{
      {"display_name", "display_name"}, {"state", "state"}, {"create_time", "create_time"}, {"labels", "labels"}};
  return *fields;
}

// The message of the INVALID_ARGUMENT that parsing `text` for a TrainingPipeline gives.
std::string Error(absl::string_view text,
                  const google::protobuf::Descriptor* descriptor = v1::TrainingPipeline::descriptor(),
                  const std::vector<FieldSpec>& fields = Fields()) {
  absl::StatusOr<Filter> parsed = Filter::Parse(text, descriptor, fields);
  if (parsed.ok()) return "(parsed)";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << parsed.status();
  return std::string(parsed.status().message());
}

TEST(FilterErrorsTest, UnknownField) {
  EXPECT_EQ(Error("foo=1"),
            "filter: unknown field \"foo\" at position 1; supported: create_time, display_name, "
            "labels, state");
  EXPECT_THAT(Error("NOT foo=1"), HasSubstr("unknown field \"foo\" at position 5;"));
  EXPECT_THAT(Error("display_name.x=1"), HasSubstr("unknown field \"display_name.x\" at position 1;"));
  EXPECT_THAT(Error("name=x"), HasSubstr("unknown field \"name\" at position 1;"));  // not listed
  EXPECT_EQ(Error("x=1", v1::TrainingPipeline::descriptor(), {}),
            "filter: unknown field \"x\" at position 1; supported: (none)");
}

TEST(FilterErrorsTest, MissingOperatorOrValue) {
  EXPECT_EQ(Error("display_name"),
            "filter: expected an operator (= != < <= > >= :) after \"display_name\" at position "
            "13, found end of filter");
  EXPECT_EQ(Error("display_name \"x\""),
            "filter: expected an operator (= != < <= > >= :) after \"display_name\" at position "
            "14, found \"x\"");
  EXPECT_EQ(Error("display_name="), "filter: expected a value after \"=\" at position 14");
  EXPECT_EQ(Error("display_name= )"), "filter: expected a value after \"=\" at position 15");
  EXPECT_EQ(Error("display_name=AND state=1"), "filter: expected a value after \"=\" at position 14");
  EXPECT_EQ(Error("(display_name!=)"), "filter: expected a value after \"!=\" at position 16");
}

TEST(FilterErrorsTest, EnumValues) {
  EXPECT_EQ(Error("state=FOO"),
            "filter: \"FOO\" is not a value of google.cloud.aiplatform.v1.PipelineState at "
            "position 7");
  EXPECT_EQ(Error("state = \"FOO\""),
            "filter: \"FOO\" is not a value of google.cloud.aiplatform.v1.PipelineState at "
            "position 9");
  EXPECT_THAT(Error("state=99"), HasSubstr("\"99\" is not a value of"));
  EXPECT_THAT(Error("state=JOB_STATE_RUNNING"),
              HasSubstr("is not a value of google.cloud.aiplatform.v1.PipelineState"));
  EXPECT_THAT(Error("state=pipeline_state_running"), HasSubstr("is not a value"));  // case matters
  EXPECT_EQ(Error("state=PIPELINE_STATE_FOO", v1::CustomJob::descriptor(), {{"state", "state"}}),
            "filter: \"PIPELINE_STATE_FOO\" is not a value of google.cloud.aiplatform.v1.JobState "
            "at position 7");
}

TEST(FilterErrorsTest, OperatorsByType) {
  EXPECT_EQ(Error("state<PIPELINE_STATE_RUNNING"),
            "filter: operator \"<\" does not apply to enum field \"state\" at position 6; use one "
            "of: = !=");
  EXPECT_THAT(Error("state<=1"), HasSubstr("operator \"<=\" does not apply to enum"));
  EXPECT_THAT(Error("state>1"), HasSubstr("operator \">\" does not apply to enum"));
  EXPECT_THAT(Error("state >= 1"), HasSubstr("at position 7;"));
  EXPECT_THAT(Error("state:1"), HasSubstr("operator \":\" does not apply to enum"));
  EXPECT_EQ(Error("create_time:2024-01-01T00:00:00Z"),
            "filter: operator \":\" does not apply to timestamp field \"create_time\" at position "
            "12; use one of: = != < <= > >=");
  EXPECT_EQ(Error("labels=x"),
            "filter: operator \"=\" does not apply to map field \"labels\" at position 7; use "
            "labels.KEY=VALUE or labels:KEY");
  EXPECT_THAT(Error("labels<x"), HasSubstr("operator \"<\" does not apply to map field"));
  EXPECT_EQ(Error("labels.=x"), "filter: expected a map key after \"labels.\" at position 8");
}

TEST(FilterErrorsTest, Timestamps) {
  const std::string want = " (want RFC 3339, e.g. 2024-01-02T03:04:05Z)";
  EXPECT_EQ(Error("create_time>=\"2024-13-01\""), "filter: bad timestamp \"2024-13-01\" at position 14" + want);
  EXPECT_EQ(Error("create_time > 2024-01-02"),
            "filter: bad timestamp \"2024-01-02\" at position 15" + want);  // date only
  EXPECT_EQ(Error("create_time=2024-01-02T03:04:05"),
            "filter: bad timestamp \"2024-01-02T03:04:05\" at position 13" + want);  // no offset
  EXPECT_THAT(Error("create_time=2024-02-30T00:00:00Z"), HasSubstr("bad timestamp"));
  EXPECT_THAT(Error("create_time=infinite-future"), HasSubstr("bad timestamp"));
  EXPECT_THAT(Error("create_time<infinite-past"), HasSubstr("bad timestamp"));
}

TEST(FilterErrorsTest, OtherScalarValues) {
  EXPECT_EQ(
      Error("max_trial_count=abc", v1::HyperparameterTuningJob::descriptor(), {{"max_trial_count", "max_trial_count"}}),
      "filter: \"abc\" is not an integer at position 17");
  EXPECT_THAT(
      Error("max_trial_count>1.5", v1::HyperparameterTuningJob::descriptor(), {{"max_trial_count", "max_trial_count"}}),
      HasSubstr("\"1.5\" is not an integer at position 17"));
  const std::vector<FieldSpec> fraction = {{"training_fraction", "input_data_config.fraction_split.training_fraction"}};
  EXPECT_EQ(Error("training_fraction=x", v1::TrainingPipeline::descriptor(), fraction),
            "filter: \"x\" is not a number at position 19");
  EXPECT_THAT(Error("training_fraction=nan", v1::TrainingPipeline::descriptor(), fraction),
              HasSubstr("is not a number"));
  const std::vector<FieldSpec> pzs = {{"satisfies_pzs", "satisfies_pzs"}};
  EXPECT_EQ(Error("satisfies_pzs=maybe", v1::CustomJob::descriptor(), pzs),
            "filter: \"maybe\" is not true or false at position 15");
  EXPECT_THAT(Error("satisfies_pzs<true", v1::CustomJob::descriptor(), pzs),
              HasSubstr("operator \"<\" does not apply to bool field \"satisfies_pzs\" at position 14"));
}

TEST(FilterErrorsTest, Structure) {
  EXPECT_EQ(Error("(display_name=a"),
            "filter: expected \")\" at position 16 to close \"(\" at position 1, found end of "
            "filter");
  EXPECT_EQ(Error("state=1 ((display_name=a \"b\")"),
            "filter: expected \")\" at position 26 to close \"(\" at position 10, found \"b\"");
  EXPECT_EQ(Error("display_name=a)"), "filter: unexpected \")\" at position 15");
  EXPECT_EQ(Error("display_name=a \"b\""), "filter: unexpected \"b\" at position 16");
  EXPECT_EQ(Error("AND display_name=a"), "filter: expected a comparison at position 1, found \"AND\"");
  EXPECT_EQ(Error("display_name=a AND"), "filter: expected a comparison at position 19, found end of filter");
  EXPECT_EQ(Error("display_name=a OR OR display_name=b"), "filter: expected a comparison at position 19, found \"OR\"");
  EXPECT_EQ(Error("()"), "filter: expected a comparison at position 2, found \")\"");
  EXPECT_EQ(Error("NOT"), "filter: expected a comparison at position 4, found end of filter");
  EXPECT_EQ(Error("\"display_name\"=x"), "filter: expected a comparison at position 1, found \"display_name\"");
  EXPECT_EQ(Error("= x"), "filter: expected a comparison at position 1, found \"=\"");
}

TEST(FilterErrorsTest, Lexing) {
  EXPECT_EQ(Error("display_name=\"abc"), "filter: unterminated string at position 14; missing closing \"");
  EXPECT_EQ(Error("display_name=\"abc\\\""), "filter: unterminated string at position 14; missing closing \"");
  EXPECT_EQ(Error("display_name=\"a\\qb\""),
            "filter: unknown escape \"\\q\" at position 16; only \\\", \\\\ and \\* are allowed");
  EXPECT_EQ(Error("display_name!a"), "filter: unexpected \"!\" at position 13; did you mean \"!=\" or \"NOT\"?");
}

TEST(FilterErrorsTest, PositionsCountCodePoints) {
  // "é" is two bytes but one position.
  EXPECT_THAT(Error("display_name=\"é\" AND foo=1"), HasSubstr("unknown field \"foo\" at position 22;"));
  EXPECT_THAT(Error("display_name=日本 AND state=X"), HasSubstr("\"X\" is not a value of "
                                                                "google.cloud.aiplatform.v1."
                                                                "PipelineState at position 27"));
}

TEST(FilterErrorsTest, LengthAndDepthLimits) {
  EXPECT_EQ(Error(std::string(4097, ' ')), "filter: too long (4097 bytes; the limit is 4096)");
  const std::string ok = std::string(4096 - 7, ' ') + "state=1";
  EXPECT_EQ(Error(ok), "(parsed)");
  EXPECT_EQ(Error(std::string(65, '(') + "state=1" + std::string(65, ')')),
            "filter: parentheses nested deeper than 64 at position 65");
  // Hostile input fails fast instead of recursing.
  EXPECT_EQ(Error(std::string(4096, '(')), "filter: parentheses nested deeper than 64 at position 65");
  EXPECT_EQ(Error(std::string(4096, '-')), "filter: expected a comparison at position 4097, found end of filter");
  std::string nested_nots;
  for (int i = 0; i < 70; ++i) nested_nots += "NOT (";
  EXPECT_THAT(Error(nested_nots), HasSubstr("parentheses nested deeper than 64"));
}

TEST(FilterErrorsTest, BadFieldSpecsAreInternal) {
  auto status_of = [](const google::protobuf::Descriptor* descriptor, const std::vector<FieldSpec>& fields) {
    return Filter::Parse("", descriptor, fields).status();
  };
  const google::protobuf::Descriptor* pipeline = v1::TrainingPipeline::descriptor();
  absl::Status status = status_of(pipeline, {{"x", "nope"}});
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("google.cloud.aiplatform.v1.TrainingPipeline has no "
                                          "field \"nope\""));
  status = status_of(pipeline, {{"x", "display_name.foo"}});
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("is not a singular message field"));
  status = status_of(pipeline, {{"x", "training_task_inputs"}});  // google.protobuf.Value
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("cannot be filtered"));
  status = status_of(v1::CustomJob::descriptor(), {{"pools", "job_spec.worker_pool_specs"}});
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);  // repeated message
  status = status_of(pipeline, {{"labels", "labels"}, {"labels", "labels"}});
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("listed twice"));
  status = status_of(pipeline, {{"", "labels"}});
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  status = status_of(nullptr, {});
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  // A nested path through singular messages is fine.
  EXPECT_TRUE(status_of(v1::CustomJob::descriptor(), {{"network", "job_spec.network"}}).ok());
}

}  // namespace
}  // namespace kiln::filter
