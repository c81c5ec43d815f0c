// Following a TrainingPipeline (see pipeline_verbs.h): states, progress and
// the polling loop. There is no wait route for pipelines, so this polls
// GET /v1/{name}.

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "client/pipeline_verbs.h"
#include "client/proto_io.h"
#include "client/resources.h"
#include "common/status_macros.h"
#include "google/cloud/aiplatform/v1/pipeline_state.pb.h"
#include "google/cloud/aiplatform/v1/training_pipeline.pb.h"

namespace kiln::client {
namespace {

namespace v1 = google::cloud::aiplatform::v1;
using nlohmann::json;

// The custom task's trainingTaskMetadata (a free-form Value) names its CustomJob under this key.
constexpr char kBackingCustomJobKey[] = "backingCustomJob";

absl::StatusOr<v1::TrainingPipeline> Read(const json& answer) {
  return ReadAnswer<v1::TrainingPipeline>(answer, "trainingPipelines.get");
}

// The state's name; "" when unset, its number when this client's protos do not name it.
std::string StateName(const v1::TrainingPipeline& pipeline) {
  if (pipeline.state() == v1::PIPELINE_STATE_UNSPECIFIED) return "";
  const std::string& name = v1::PipelineState_Name(pipeline.state());
  return name.empty() ? absl::StrCat(static_cast<int>(pipeline.state())) : name;
}

bool IsFinal(const v1::TrainingPipeline& pipeline) {
  switch (pipeline.state()) {
    case v1::PIPELINE_STATE_SUCCEEDED:
    case v1::PIPELINE_STATE_FAILED:
    case v1::PIPELINE_STATE_CANCELLED:
    case v1::PIPELINE_STATE_PAUSED:
      return true;
    default:
      return false;
  }
}

std::string Elapsed(absl::Duration elapsed) {
  const int64_t total = std::max<int64_t>(0, absl::ToInt64Seconds(elapsed));
  const int64_t hours = total / 3600;
  const int64_t minutes = total / 60 % 60;
  const int64_t seconds = total % 60;
  auto pad = [](int64_t value) { return absl::StrCat(value < 10 ? "0" : "", value); };
  if (hours > 0) return absl::StrCat(hours, "h", pad(minutes), "m", pad(seconds), "s");
  if (minutes > 0) return absl::StrCat(minutes, "m", pad(seconds), "s");
  return absl::StrCat(seconds, "s");
}

std::string ProgressLine(const v1::TrainingPipeline& pipeline, absl::Duration elapsed) {
  const std::string state = StateName(pipeline);
  absl::string_view shown = state;
  absl::ConsumePrefix(&shown, "PIPELINE_STATE_");
  std::string line = absl::StrCat("[", shown.empty() ? "UNKNOWN" : shown, "] elapsed ", Elapsed(elapsed));
  const auto& metadata = pipeline.training_task_metadata().struct_value().fields();
  if (auto it = metadata.find(kBackingCustomJobKey); it != metadata.end() && !it->second.string_value().empty()) {
    absl::StrAppend(&line, " · backing CustomJob ", LastSegment(it->second.string_value()));
  }
  return line;
}

}  // namespace

std::string PipelineStateName(const json& pipeline) {
  absl::StatusOr<v1::TrainingPipeline> read = Read(pipeline);
  return read.ok() ? StateName(*read) : "";
}

bool IsFinalPipeline(const json& pipeline) {
  absl::StatusOr<v1::TrainingPipeline> read = Read(pipeline);
  return read.ok() && IsFinal(*read);
}

absl::Status PipelineOutcome(const json& answer) {
  KILN_ASSIGN_OR_RETURN(v1::TrainingPipeline pipeline, Read(answer));
  if (pipeline.state() == v1::PIPELINE_STATE_SUCCEEDED) return absl::OkStatus();
  const std::string state = StateName(pipeline);
  if (pipeline.has_error()) {
    return FromRpcStatus(pipeline.error(), absl::StrCat("the pipeline ended in state ", state));
  }
  return absl::UnknownError(
      absl::StrCat("TrainingPipeline [", pipeline.name(), "] ended in state ", state.empty() ? "UNKNOWN" : state));
}

std::string PipelineProgressLine(const json& pipeline, absl::Duration elapsed) {
  absl::StatusOr<v1::TrainingPipeline> read = Read(pipeline);
  return ProgressLine(read.ok() ? *read : v1::TrainingPipeline(), elapsed);
}

std::string UploadedModelLine(const json& answer) {
  absl::StatusOr<v1::TrainingPipeline> pipeline = Read(answer);
  if (!pipeline.ok()) return "";
  const v1::Model& model = pipeline->model_to_upload();
  if (model.name().empty()) return "";
  std::string line = absl::StrCat("Model: ", model.name());
  if (!model.version_id().empty()) absl::StrAppend(&line, " version ", model.version_id());
  return line;
}

absl::StatusOr<json> FollowPipeline(ApiClient& client, absl::string_view name, const PipelineFollowOptions& options,
                                    std::ostream& err) {
  const absl::Time start = absl::Now();
  const bool limited = options.timeout > absl::ZeroDuration();
  const absl::Time deadline = start + options.timeout;
  std::string last_key;
  size_t last_width = 0;
  auto finish = [&] {
    if (options.tty && last_width > 0) err << "\n" << std::flush;
  };
  while (true) {
    const absl::Time call_start = absl::Now();
    absl::StatusOr<json> pipeline = client.Get(ResourcePath(name));
    if (!pipeline.ok()) {
      finish();
      return pipeline.status();
    }
    absl::StatusOr<v1::TrainingPipeline> read = Read(*pipeline);
    if (!read.ok()) {
      finish();
      return read.status();
    }
    const absl::Time now = absl::Now();
    const std::string line = ProgressLine(*read, now - start);
    const std::string key = ProgressLine(*read, absl::ZeroDuration());
    if (options.tty) {
      std::string padded = line;
      if (padded.size() < last_width) padded.append(last_width - padded.size(), ' ');
      err << "\r" << padded << std::flush;
      last_width = line.size();
    } else if (key != last_key) {
      err << line << "\n" << std::flush;
    }
    last_key = key;
    if (IsFinal(*read)) {
      finish();
      return pipeline;
    }
    if (limited && now >= deadline) {
      finish();
      return absl::DeadlineExceededError(absl::StrCat("TrainingPipeline [", name, "] is still ", StateName(*read),
                                                      " after ", absl::FormatDuration(options.timeout),
                                                      "; wait again or raise --timeout"));
    }
    absl::Duration pause = options.poll_interval - (absl::Now() - call_start);
    if (limited) pause = std::min(pause, deadline - absl::Now());
    if (pause > absl::ZeroDuration()) absl::SleepFor(pause);
  }
}

}  // namespace kiln::client
