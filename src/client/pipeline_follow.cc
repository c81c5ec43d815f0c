// Following a TrainingPipeline (see pipeline_verbs.h): states, progress and
// the polling loop. There is no wait route for pipelines, so this polls
// GET /v1/{name}.

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "client/pipeline_verbs.h"
#include "client/resources.h"

namespace kiln::client {
namespace {

using nlohmann::json;

// PipelineState names by number (pipeline_state.proto).
constexpr const char* kPipelineStates[] = {
    "PIPELINE_STATE_UNSPECIFIED", "PIPELINE_STATE_QUEUED",    "PIPELINE_STATE_PENDING",
    "PIPELINE_STATE_RUNNING",     "PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED",
    "PIPELINE_STATE_CANCELLING",  "PIPELINE_STATE_CANCELLED", "PIPELINE_STATE_PAUSED"};

std::string Text(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
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

}  // namespace

std::string PipelineStateName(const json& pipeline) {
  if (!pipeline.is_object()) return "";
  auto it = pipeline.find("state");
  if (it == pipeline.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) {
    const int64_t value = it->get<int64_t>();
    if (value >= 0 && value < static_cast<int64_t>(std::size(kPipelineStates))) {
      return kPipelineStates[value];
    }
    return absl::StrCat(value);
  }
  return "";
}

bool IsFinalPipeline(const json& pipeline) {
  const std::string state = PipelineStateName(pipeline);
  return state == "PIPELINE_STATE_SUCCEEDED" || state == "PIPELINE_STATE_FAILED" ||
         state == "PIPELINE_STATE_CANCELLED" || state == "PIPELINE_STATE_PAUSED";
}

absl::Status PipelineOutcome(const json& pipeline) {
  const std::string state = PipelineStateName(pipeline);
  if (state == "PIPELINE_STATE_SUCCEEDED") return absl::OkStatus();
  auto error = pipeline.find("error");
  if (error != pipeline.end() && error->is_object()) {
    absl::StatusCode code = absl::StatusCode::kUnknown;
    auto c = error->find("code");
    if (c != error->end() && c->is_number_integer()) {
      const int value = c->get<int>();
      if (value > 0 && value <= 16) code = static_cast<absl::StatusCode>(value);
    }
    std::string message = Text(*error, "message");
    if (message.empty()) {
      message = absl::StrCat("the pipeline ended in state ", state);
    }
    return absl::Status(code, message);
  }
  return absl::UnknownError(absl::StrCat("TrainingPipeline [", Text(pipeline, "name"), "] ended in state ",
                                         state.empty() ? "UNKNOWN" : state));
}

std::string PipelineProgressLine(const json& pipeline, absl::Duration elapsed) {
  const std::string state = PipelineStateName(pipeline);
  absl::string_view shown = state;
  absl::ConsumePrefix(&shown, "PIPELINE_STATE_");
  std::string line = absl::StrCat("[", shown.empty() ? "UNKNOWN" : shown, "] elapsed ", Elapsed(elapsed));
  auto metadata = pipeline.find("trainingTaskMetadata");
  if (metadata != pipeline.end()) {
    const std::string job = Text(*metadata, "backingCustomJob");
    if (!job.empty()) {
      absl::StrAppend(&line, " · backing CustomJob ", LastSegment(job));
    }
  }
  return line;
}

std::string UploadedModelLine(const json& pipeline) {
  auto model = pipeline.find("modelToUpload");
  if (model == pipeline.end()) return "";
  const std::string name = Text(*model, "name");
  if (name.empty()) return "";
  std::string line = absl::StrCat("Model: ", name);
  const std::string version = Text(*model, "versionId");
  if (!version.empty()) absl::StrAppend(&line, " version ", version);
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
    const absl::Time now = absl::Now();
    const std::string line = PipelineProgressLine(*pipeline, now - start);
    const std::string key = PipelineProgressLine(*pipeline, absl::ZeroDuration());
    if (options.tty) {
      std::string padded = line;
      if (padded.size() < last_width) padded.append(last_width - padded.size(), ' ');
      err << "\r" << padded << std::flush;
      last_width = line.size();
    } else if (key != last_key) {
      err << line << "\n" << std::flush;
    }
    last_key = key;
    if (IsFinalPipeline(*pipeline)) {
      finish();
      return pipeline;
    }
    if (limited && now >= deadline) {
      finish();
      return absl::DeadlineExceededError(
          absl::StrCat("TrainingPipeline [", name, "] is still ", PipelineStateName(*pipeline), " after ",
                       absl::FormatDuration(options.timeout), "; wait again or raise --timeout"));
    }
    absl::Duration pause = options.poll_interval - (absl::Now() - call_start);
    if (limited) pause = std::min(pause, deadline - absl::Now());
    if (pause > absl::ZeroDuration()) absl::SleepFor(pause);
  }
}

}  // namespace kiln::client
