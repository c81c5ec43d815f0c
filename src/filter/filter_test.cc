// Semantics of kiln::filter::Filter against real Vertex AI messages. Error reporting is covered
// in filter_errors_test.cc.

#include "filter/filter.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "google/cloud/aiplatform/v1/hyperparameter_tuning_job.pb.h"
#include "google/cloud/aiplatform/v1/model.pb.h"
#include "google/cloud/aiplatform/v1/training_pipeline.pb.h"
#include "gtest/gtest.h"

namespace kiln::filter {
namespace {

namespace v1 = ::google::cloud::aiplatform::v1;

std::vector<FieldSpec> PipelineFields() {
  return {{"display_name", "display_name"},
          {"state", "state"},
          {"create_time", "create_time"},
          {"update_time", "update_time"},
          {"labels", "labels"},
          {"training_task_definition", "training_task_definition"},
          {"training_fraction", "input_data_config.fraction_split.training_fraction"}};
}

v1::TrainingPipeline MakePipeline(const std::string& name, const std::string& display_name, v1::PipelineState state,
                                  int64_t create_seconds, int32_t nanos,
                                  std::vector<std::pair<std::string, std::string>> labels) {
  v1::TrainingPipeline pipeline;
  pipeline.set_name(name);
  pipeline.set_display_name(display_name);
  pipeline.set_state(state);
  if (create_seconds != 0) {
    pipeline.mutable_create_time()->set_seconds(create_seconds);
    pipeline.mutable_create_time()->set_nanos(nanos);
  }
  for (auto& [key, value] : labels) (*pipeline.mutable_labels())[key] = value;
  return pipeline;
}

class PipelineFilterTest : public ::testing::Test {
 protected:
  PipelineFilterTest() {
    // 2024-01-01T00:00:00Z, 2024-02-01T00:00:00Z, 2024-03-01T12:00:00.5Z; p4's is unset.
    pipelines_.push_back(MakePipeline("p1", "my_pipeline_a", v1::PIPELINE_STATE_SUCCEEDED, 1704067200, 0,
                                      {{"env", "prod"}, {"team", "ml"}}));
    pipelines_.push_back(
        MakePipeline("p2", "my_pipeline_b", v1::PIPELINE_STATE_FAILED, 1706745600, 0, {{"env", "dev"}}));
    pipelines_.push_back(MakePipeline("p3", "other", v1::PIPELINE_STATE_RUNNING, 1709294400, 500000000, {}));
    pipelines_.push_back(MakePipeline("p4", "", v1::PIPELINE_STATE_UNSPECIFIED, 0, 0, {{"team", "data"}}));
    pipelines_[0].set_training_task_definition("gs://schemas/custom_task_1.0.0.yaml");
    pipelines_[1].set_training_task_definition("gs://schemas/automl_tables_1.0.0.yaml");
    pipelines_[0].mutable_input_data_config()->mutable_fraction_split()->set_training_fraction(0.8);
    pipelines_[1].mutable_input_data_config()->mutable_fraction_split()->set_training_fraction(0.5);
  }

  // The names of the fixture pipelines `filter` selects, comma-joined in fixture order.
  std::string Select(absl::string_view filter) {
    absl::StatusOr<Filter> parsed = Filter::Parse(filter, v1::TrainingPipeline::descriptor(), PipelineFields());
    if (!parsed.ok()) return std::string("error: ") + std::string(parsed.status().message());
    std::vector<std::string> names;
    for (const v1::TrainingPipeline& pipeline : pipelines_) {
      if (parsed->Matches(pipeline)) names.push_back(pipeline.name());
    }
    return absl::StrJoin(names, ",");
  }

  std::vector<v1::TrainingPipeline> pipelines_;
};

TEST_F(PipelineFilterTest, EmptyAndWhitespaceMatchEverything) {
  EXPECT_EQ(Select(""), "p1,p2,p3,p4");
  EXPECT_EQ(Select("  \t\n "), "p1,p2,p3,p4");
  EXPECT_TRUE(Filter().empty());
  EXPECT_TRUE(Filter().Matches(pipelines_[0]));
  EXPECT_TRUE(Filter::Parse(" ", v1::TrainingPipeline::descriptor(), PipelineFields())->empty());
  EXPECT_FALSE(Filter::Parse("state=1", v1::TrainingPipeline::descriptor(), PipelineFields())->empty());
}

TEST_F(PipelineFilterTest, VertexDocsExample) {
  EXPECT_EQ(Select(R"(state="PIPELINE_STATE_SUCCEEDED" AND display_name:"my_pipeline_*")"), "p1");
}

TEST_F(PipelineFilterTest, StringOperators) {
  EXPECT_EQ(Select(R"(display_name="other")"), "p3");
  EXPECT_EQ(Select("display_name=other"), "p3");
  EXPECT_EQ(Select("display_name = other"), "p3");
  EXPECT_EQ(Select(R"(display_name="")"), "p4");
  EXPECT_EQ(Select("display_name!=other"), "p1,p2,p4");
  EXPECT_EQ(Select("display_name<my_pipeline_b"), "p1,p4");
  EXPECT_EQ(Select("display_name<=my_pipeline_b"), "p1,p2,p4");
  EXPECT_EQ(Select("display_name>my_pipeline_a"), "p2,p3");
  EXPECT_EQ(Select("display_name>=my_pipeline_b"), "p2,p3");
  // `=` is exact: a `*` there is literal.
  EXPECT_EQ(Select(R"(display_name="my_pipeline_*")"), "");
  EXPECT_EQ(Select("training_task_definition=gs://schemas/custom_task_1.0.0.yaml"), "p1");
}

TEST_F(PipelineFilterTest, HasOperatorOnStrings) {
  EXPECT_EQ(Select("display_name:my_pipeline_*"), "p1,p2");     // prefix
  EXPECT_EQ(Select(R"(display_name:"*_b")"), "p2");             // suffix
  EXPECT_EQ(Select(R"(display_name:"*pipe*")"), "p1,p2");       // infix
  EXPECT_EQ(Select(R"(display_name:"m*_*_a")"), "p1");          // several wildcards
  EXPECT_EQ(Select(R"(display_name:"my_pipeline_a*")"), "p1");  // `*` may match nothing
  EXPECT_EQ(Select(R"(display_name:"o**r")"), "p3");
  EXPECT_EQ(Select(R"(display_name:"oth*her")"), "");  // prefix and suffix overlap
  EXPECT_EQ(Select("display_name:other"), "p3");       // no `*`: equality
  EXPECT_EQ(Select("display_name:othe"), "");
  EXPECT_EQ(Select("display_name:*"), "p1,p2,p3");  // non-empty
  EXPECT_EQ(Select(R"(display_name:"*")"), "p1,p2,p3");
  EXPECT_EQ(Select("training_task_definition:*custom_task*"), "p1");
}

TEST_F(PipelineFilterTest, EscapesInStrings) {
  pipelines_[2].set_display_name(R"(say "hi" \ a*b)");
  EXPECT_EQ(Select(R"(display_name="say \"hi\" \\ a*b")"), "p3");
  EXPECT_EQ(Select(R"(display_name:"say \"hi\" \\ a\*b")"), "p3");  // `\*` is a literal star
  EXPECT_EQ(Select(R"(display_name:"*a\*b")"), "p3");
  EXPECT_EQ(Select(R"(display_name:"*a\*")"), "");
  pipelines_[2].set_display_name("a-b");
  EXPECT_EQ(Select(R"(display_name:"a\*b")"), "");
}

TEST_F(PipelineFilterTest, EnumByNameAndNumber) {
  EXPECT_EQ(Select("state=PIPELINE_STATE_SUCCEEDED"), "p1");
  EXPECT_EQ(Select(R"(state="PIPELINE_STATE_FAILED")"), "p2");
  EXPECT_EQ(Select("state=3"), "p3");
  EXPECT_EQ(Select(R"(state="4")"), "p1");
  EXPECT_EQ(Select("state=PIPELINE_STATE_UNSPECIFIED"), "p4");
  EXPECT_EQ(Select("state!=PIPELINE_STATE_RUNNING"), "p1,p2,p4");
  EXPECT_EQ(Select("state!=0"), "p1,p2,p3");
}

TEST_F(PipelineFilterTest, TimestampOperators) {
  EXPECT_EQ(Select("create_time=2024-02-01T00:00:00Z"), "p2");
  EXPECT_EQ(Select(R"(create_time="2024-02-01T01:00:00+01:00")"), "p2");  // same instant
  EXPECT_EQ(Select("create_time!=2024-02-01T00:00:00Z"), "p1,p3,p4");
  EXPECT_EQ(Select("create_time<2024-02-01T00:00:00Z"), "p1,p4");  // unset = 1970
  EXPECT_EQ(Select("create_time<=2024-02-01T00:00:00Z"), "p1,p2,p4");
  EXPECT_EQ(Select("create_time>2024-02-01T00:00:00Z"), "p3");
  EXPECT_EQ(Select("create_time>=2024-02-01T00:00:00Z"), "p2,p3");
  // Fractional seconds are honoured.
  EXPECT_EQ(Select("create_time>2024-03-01T12:00:00.4Z"), "p3");
  EXPECT_EQ(Select("create_time>2024-03-01T12:00:00.5Z"), "");
  EXPECT_EQ(Select("create_time=2024-03-01T12:00:00.500Z"), "p3");
  EXPECT_EQ(Select("create_time=1970-01-01T00:00:00Z"), "p4");
  EXPECT_EQ(Select("update_time>1970-01-01T00:00:00Z"), "");
  EXPECT_EQ(Select("create_time>2024-01-15t00:00:00z"), "p2,p3");  // RFC 3339 allows t/z
}

TEST_F(PipelineFilterTest, LabelComparisons) {
  EXPECT_EQ(Select("labels.env=prod"), "p1");
  EXPECT_EQ(Select(R"(labels.env="dev")"), "p2");
  EXPECT_EQ(Select("labels.env!=prod"), "p2,p3,p4");  // a missing key is "not prod"
  EXPECT_EQ(Select("labels.env:*"), "p1,p2");
  EXPECT_EQ(Select(R"(labels.env:"*")"), "p1,p2");
  EXPECT_EQ(Select("labels.env:pr*"), "p1");
  EXPECT_EQ(Select("labels.env:*e*"), "p2");
  EXPECT_EQ(Select("labels.env:dev"), "p2");
  EXPECT_EQ(Select("labels.env<prod"), "p2");  // missing keys never order
  EXPECT_EQ(Select("labels.env>=dev"), "p1,p2");
  EXPECT_EQ(Select("labels.team=data"), "p4");
  EXPECT_EQ(Select("labels.missing=prod"), "");
  EXPECT_EQ(Select(R"(labels.missing="")"), "");  // missing never equals, even ""
  EXPECT_EQ(Select("NOT labels.env:*"), "p3,p4");
}

TEST_F(PipelineFilterTest, LabelKeyPresence) {
  EXPECT_EQ(Select("labels:team"), "p1,p4");
  EXPECT_EQ(Select(R"(labels:"env")"), "p1,p2");
  EXPECT_EQ(Select("labels:te*"), "p1,p4");
  EXPECT_EQ(Select("labels:*"), "p1,p2,p4");
  EXPECT_EQ(Select("labels:nope"), "");
  EXPECT_EQ(Select("-labels:team"), "p2,p3");
}

TEST_F(PipelineFilterTest, LabelKeysWithDashesAndDots) {
  (*pipelines_[2].mutable_labels())["cost-center"] = "42";
  (*pipelines_[3].mutable_labels())["a.b"] = "c";
  EXPECT_EQ(Select("labels.cost-center=42"), "p3");
  EXPECT_EQ(Select("labels.a.b=c"), "p4");
}

TEST_F(PipelineFilterTest, NestedDoubleField) {
  EXPECT_EQ(Select("training_fraction=0.8"), "p1");
  EXPECT_EQ(Select("training_fraction>0.6"), "p1");
  EXPECT_EQ(Select("training_fraction<=0.5"), "p2,p3,p4");  // unset parents read as 0
  EXPECT_EQ(Select("training_fraction!=0"), "p1,p2");
  EXPECT_EQ(Select("training_fraction:*"), "p1,p2");
  EXPECT_EQ(Select("training_fraction:0.5"), "p2");
  EXPECT_EQ(Select("training_fraction>=-1e3"), "p1,p2,p3,p4");
}

TEST_F(PipelineFilterTest, BooleanOperatorsAndNegation) {
  EXPECT_EQ(Select("state=PIPELINE_STATE_FAILED OR display_name=other"), "p2,p3");
  EXPECT_EQ(Select("labels:team AND labels.env=prod"), "p1");
  EXPECT_EQ(Select("NOT state=PIPELINE_STATE_SUCCEEDED"), "p2,p3,p4");
  EXPECT_EQ(Select("-state=PIPELINE_STATE_SUCCEEDED"), "p2,p3,p4");
  EXPECT_EQ(Select("- state=PIPELINE_STATE_SUCCEEDED"), "p2,p3,p4");
  EXPECT_EQ(Select("NOT NOT state=PIPELINE_STATE_SUCCEEDED"), "p1");
  EXPECT_EQ(Select("NOT -state=PIPELINE_STATE_SUCCEEDED"), "p1");
  EXPECT_EQ(Select("NOT(state=1 OR state=4)"), "p2,p3,p4");
  EXPECT_EQ(Select("-(display_name:my* OR labels:*)"), "p3");
  // Implicit AND for juxtaposed terms.
  EXPECT_EQ(Select("display_name:my* labels.env=dev"), "p2");
  EXPECT_EQ(Select("display_name:my*   -labels.env=dev"), "p1");
  // Words merely starting with a keyword are field names / values, not keywords.
  EXPECT_EQ(Select("display_name=ORother OR display_name=ANDy"), "");
}

TEST_F(PipelineFilterTest, OrBindsTighterThanAnd) {
  // AIP-160: `a AND b OR c` is `a AND (b OR c)` -- nothing here. Conventional precedence would
  // give `(a AND b) OR c`, which selects p3.
  const char* a_and_b_or_c = "state=PIPELINE_STATE_FAILED AND display_name=x OR display_name=other";
  EXPECT_EQ(Select(a_and_b_or_c), "");
  EXPECT_EQ(Select("state=PIPELINE_STATE_FAILED AND (display_name=x OR display_name=other)"), "");
  EXPECT_EQ(Select("(state=PIPELINE_STATE_FAILED AND display_name=x) OR display_name=other"), "p3");
  // Juxtaposition is an AND of the same looseness.
  EXPECT_EQ(Select("state=PIPELINE_STATE_FAILED display_name=x OR display_name=other"), "");
  // `a OR b AND c` is `(a OR b) AND c`.
  EXPECT_EQ(Select("state=2 OR state=3 AND labels:*"), "");
  EXPECT_EQ(Select("state=5 OR state=3 AND labels:*"), "p2");
  // NOT binds tighter than OR.
  EXPECT_EQ(Select("NOT state=4 OR state=4"), "p1,p2,p3,p4");
}

TEST_F(PipelineFilterTest, Parentheses) {
  EXPECT_EQ(Select("(state=4)"), "p1");
  EXPECT_EQ(Select("((((state=4))))"), "p1");
  EXPECT_EQ(Select("( state=4 OR state=5 )AND(labels.env=dev)"), "p2");
  EXPECT_EQ(Select("(labels:team (state=4 OR state=0)) OR (display_name=other)"), "p1,p3,p4");
  std::string deep = std::string(64, '(') + "state=4" + std::string(64, ')');
  EXPECT_EQ(Select(deep), "p1");
}

TEST_F(PipelineFilterTest, LongFlatChainsAreFine) {
  std::string chain = "state=4";
  while (chain.size() < 4000) chain += " OR state=4";
  EXPECT_EQ(Select(chain), "p1");
  std::string nots;
  while (nots.size() < 4000) nots += "NOT ";
  EXPECT_EQ(Select(nots + "state=4"), "p1");  // an even number of NOTs (1000)
}

TEST_F(PipelineFilterTest, FilterIsCopyableAndThreadSafe) {
  absl::StatusOr<Filter> parsed =
      Filter::Parse("labels.env:* AND display_name:my*", v1::TrainingPipeline::descriptor(), PipelineFields());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Filter copy = *parsed;
  std::vector<int> hits(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        for (const auto& pipeline : pipelines_) hits[t] += copy.Matches(pipeline) ? 1 : 0;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int count : hits) EXPECT_EQ(count, 400);
}

TEST_F(PipelineFilterTest, OtherMessageTypeNeverMatches) {
  absl::StatusOr<Filter> parsed = Filter::Parse("display_name:*", v1::TrainingPipeline::descriptor(), PipelineFields());
  ASSERT_TRUE(parsed.ok());
  v1::CustomJob job;
  job.set_display_name("x");
  EXPECT_FALSE(parsed->Matches(job));
}

TEST(CustomJobFilterTest, JobStateAndBool) {
  const std::vector<FieldSpec> fields = {
      {"state", "state"}, {"display_name", "display_name"}, {"satisfies_pzs", "satisfies_pzs"}, {"labels", "labels"}};
  v1::CustomJob job;
  job.set_state(v1::JOB_STATE_RUNNING);
  job.set_satisfies_pzs(true);
  auto matches = [&](absl::string_view text) {
    absl::StatusOr<Filter> parsed = Filter::Parse(text, v1::CustomJob::descriptor(), fields);
    EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status();
    return parsed.ok() && parsed->Matches(job);
  };
  EXPECT_TRUE(matches("state=JOB_STATE_RUNNING"));
  EXPECT_TRUE(matches(R"(state="JOB_STATE_RUNNING")"));
  EXPECT_FALSE(matches("state=JOB_STATE_SUCCEEDED"));
  EXPECT_TRUE(matches("state!=JOB_STATE_SUCCEEDED"));
  EXPECT_TRUE(matches("state=3"));  // JOB_STATE_RUNNING
  EXPECT_TRUE(matches("satisfies_pzs=true"));
  EXPECT_TRUE(matches("satisfies_pzs=TRUE"));
  EXPECT_FALSE(matches("satisfies_pzs=false"));
  EXPECT_TRUE(matches(R"(satisfies_pzs!="false")"));
  EXPECT_FALSE(matches("labels:*"));
}

TEST(IntegerFilterTest, Int32AndInt64) {
  v1::HyperparameterTuningJob job;
  job.set_max_trial_count(10);
  const std::vector<FieldSpec> job_fields = {{"max_trial_count", "max_trial_count"}};
  auto job_matches = [&](absl::string_view text) {
    absl::StatusOr<Filter> parsed = Filter::Parse(text, v1::HyperparameterTuningJob::descriptor(), job_fields);
    EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status();
    return parsed.ok() && parsed->Matches(job);
  };
  EXPECT_TRUE(job_matches("max_trial_count=10"));
  EXPECT_TRUE(job_matches("max_trial_count!=9"));
  EXPECT_TRUE(job_matches("max_trial_count<11"));
  EXPECT_TRUE(job_matches("max_trial_count<=10"));
  EXPECT_FALSE(job_matches("max_trial_count>10"));
  EXPECT_TRUE(job_matches("max_trial_count>=-5"));
  EXPECT_TRUE(job_matches("max_trial_count:10"));
  EXPECT_TRUE(job_matches("max_trial_count:*"));
  EXPECT_TRUE(job_matches(R"(max_trial_count="10")"));

  v1::Checkpoint checkpoint;
  checkpoint.set_epoch(int64_t{1} << 40);
  absl::StatusOr<Filter> big = Filter::Parse("epoch>1099511627775", v1::Checkpoint::descriptor(), {{"epoch", "epoch"}});
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_TRUE(big->Matches(checkpoint));
}

TEST(OrderedEnumTest, AnOrderedEnumComparesByNumber) {
  std::vector<FieldSpec> fields = {{"state", "state", /*ordered=*/true}};
  absl::StatusOr<Filter> at_least_running =
      Filter::Parse("state>=PIPELINE_STATE_RUNNING", v1::TrainingPipeline::descriptor(), fields);
  ASSERT_TRUE(at_least_running.ok()) << at_least_running.status();
  v1::TrainingPipeline pipeline;
  for (auto [state, matches] :
       {std::pair{v1::PIPELINE_STATE_QUEUED, false}, std::pair{v1::PIPELINE_STATE_RUNNING, true},
        std::pair{v1::PIPELINE_STATE_FAILED, true}}) {
    pipeline.set_state(state);
    EXPECT_EQ(at_least_running->Matches(pipeline), matches) << state;
  }
  absl::StatusOr<Filter> below = Filter::Parse("state<3", v1::TrainingPipeline::descriptor(), fields);
  ASSERT_TRUE(below.ok());
  pipeline.set_state(v1::PIPELINE_STATE_PENDING);  // 2
  EXPECT_TRUE(below->Matches(pipeline));
  absl::Status has = Filter::Parse("state:3", v1::TrainingPipeline::descriptor(), fields).status();
  EXPECT_THAT(has.message(), ::testing::HasSubstr("use one of: = != < <= > >="));
}

}  // namespace
}  // namespace kiln::filter
