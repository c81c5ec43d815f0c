#include "client/job_follow.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "client/proto_io.h"
#include "client/resources.h"
#include "common/status_macros.h"
#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "google/cloud/aiplatform/v1/job_state.pb.h"

namespace kiln::client {
namespace {

namespace v1 = google::cloud::aiplatform::v1;
using nlohmann::json;

constexpr size_t kMaxReplicasShown = 4;

// The state's name; "" when unset, its number when this client's protos do not name it.
std::string StateName(const v1::CustomJob& job) {
  if (job.state() == v1::JOB_STATE_UNSPECIFIED) return "";
  const std::string& name = v1::JobState_Name(job.state());
  return name.empty() ? absl::StrCat(static_cast<int>(job.state())) : name;
}

bool IsFinal(const v1::CustomJob& job) {
  switch (job.state()) {
    case v1::JOB_STATE_SUCCEEDED:
    case v1::JOB_STATE_FAILED:
    case v1::JOB_STATE_CANCELLED:
    case v1::JOB_STATE_PAUSED:
    case v1::JOB_STATE_EXPIRED:
    case v1::JOB_STATE_PARTIALLY_SUCCEEDED:
      return true;
    default:
      return false;
  }
}

bool IsMissingRoute(const absl::Status& status) {
  return status.code() == absl::StatusCode::kNotFound || status.code() == absl::StatusCode::kUnimplemented;
}

std::string FormatElapsed(absl::Duration elapsed) {
  const int64_t total = std::max<int64_t>(0, absl::ToInt64Seconds(elapsed));
  const int64_t hours = total / 3600;
  const int64_t minutes = (total % 3600) / 60;
  const int64_t seconds = total % 60;
  auto two_digits = [](int64_t value) { return absl::StrCat(value < 10 ? "0" : "", value); };
  if (hours > 0) {
    return absl::StrCat(hours, "h", two_digits(minutes), "m", two_digits(seconds), "s");
  }
  if (minutes > 0) return absl::StrCat(minutes, "m", two_digits(seconds), "s");
  return absl::StrCat(seconds, "s");
}

std::string ShortState(const std::string& state) {
  absl::string_view shown = state;
  absl::ConsumePrefix(&shown, "JOB_STATE_");
  return shown.empty() ? "UNKNOWN" : std::string(shown);
}

std::string StringField(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// Prints progress lines (see FollowOptions::tty).
class ProgressPrinter {
 public:
  ProgressPrinter(bool tty, std::ostream& err) : tty_(tty), err_(err) {}

  void Show(const std::string& line, const std::string& without_elapsed) {
    if (tty_) {
      std::string padded = line;
      if (padded.size() < last_width_) {
        padded.append(last_width_ - padded.size(), ' ');
      }
      err_ << "\r" << padded << std::flush;
      last_width_ = line.size();
    } else if (without_elapsed != last_key_) {
      err_ << line << "\n" << std::flush;
    }
    last_key_ = without_elapsed;
  }

  void Finish() {
    if (tty_ && last_width_ > 0) err_ << "\n" << std::flush;
    last_width_ = 0;
  }

 private:
  bool tty_;
  std::ostream& err_;
  size_t last_width_ = 0;
  std::string last_key_;
};

}  // namespace

std::string JobStateName(const json& job) {
  absl::StatusOr<v1::CustomJob> read = ReadAnswer<v1::CustomJob>(job, "customJobs.get");
  return read.ok() ? StateName(*read) : "";
}

bool IsFinalJob(const json& job) {
  absl::StatusOr<v1::CustomJob> read = ReadAnswer<v1::CustomJob>(job, "customJobs.get");
  return read.ok() && IsFinal(*read);
}

absl::Status JobOutcome(const json& answer) {
  KILN_ASSIGN_OR_RETURN(v1::CustomJob job, ReadAnswer<v1::CustomJob>(answer, "customJobs.get"));
  if (job.state() == v1::JOB_STATE_SUCCEEDED) return absl::OkStatus();
  const std::string state = StateName(job);
  if (job.has_error()) return FromRpcStatus(job.error(), absl::StrCat("job ended in state ", state));
  return absl::UnknownError(
      absl::StrCat("CustomJob [", job.name(), "] ended in state ", state.empty() ? "UNKNOWN" : state));
}

absl::StatusOr<std::optional<json>> FetchKilnStatus(ApiClient& client, absl::string_view name) {
  absl::StatusOr<json> status = client.Get(absl::StrCat("/kiln/v1/", name, "/replicas"));
  if (!status.ok()) {
    if (IsMissingRoute(status.status())) return std::optional<json>();
    return status.status();
  }
  return std::optional<json>(*std::move(status));
}

std::string ProgressLine(const json& job, const std::optional<json>& kiln_status, absl::Duration elapsed) {
  std::string line = absl::StrCat("[", ShortState(JobStateName(job)), "] elapsed ", FormatElapsed(elapsed));
  if (!kiln_status.has_value() || !kiln_status->is_object()) return line;
  const std::string reason = StringField(*kiln_status, "queueReason");
  if (!reason.empty()) return absl::StrCat(line, " · ", reason);
  auto replicas = kiln_status->find("replicas");
  if (replicas == kiln_status->end() || !replicas->is_array()) return line;
  size_t shown = 0;
  for (const json& replica : *replicas) {
    if (!replica.is_object()) continue;
    if (shown == kMaxReplicasShown) {
      absl::StrAppend(&line, " · +", replicas->size() - shown, " more");
      break;
    }
    absl::StrAppend(&line, " · ", StringField(replica, "taskName"), " ", StringField(replica, "state"));
    ++shown;
  }
  return line;
}

absl::StatusOr<json> FollowJob(ApiClient& client, absl::string_view name, const FollowOptions& options,
                               std::ostream& err) {
  const absl::Time start = absl::Now();
  const bool limited = options.timeout > absl::ZeroDuration();
  const absl::Time deadline = start + options.timeout;
  const int wait_seconds = std::clamp(options.wait_seconds, 1, 60);
  bool wait_route = true;
  bool replicas_route = true;
  ProgressPrinter printer(options.tty, err);
  while (true) {
    const absl::Time call_start = absl::Now();
    int this_wait = wait_seconds;
    if (limited) {
      const int64_t left = absl::ToInt64Seconds(absl::Ceil(deadline - call_start, absl::Seconds(1)));
      this_wait = static_cast<int>(std::clamp<int64_t>(left, 1, wait_seconds));
    }
    absl::StatusOr<json> job = absl::UnknownError("unset");
    if (wait_route) {
      job = client.Get(absl::StrCat("/kiln/v1/", name, ":wait"), {{"timeoutSeconds", absl::StrCat(this_wait)}});
      if (!job.ok() && IsMissingRoute(job.status())) {
        // An older server: fall back to polling GET /v1/{name}; a job that
        // really is missing fails there with the server's message.
        job = client.Get(ResourcePath(name));
        if (job.ok()) wait_route = false;
      }
    } else {
      job = client.Get(ResourcePath(name));
    }
    if (!job.ok()) {
      printer.Finish();
      return job.status();
    }
    absl::StatusOr<v1::CustomJob> read = ReadAnswer<v1::CustomJob>(*job, "customJobs.get");
    if (!read.ok()) {
      printer.Finish();
      return read.status();
    }
    std::optional<json> kiln_status;
    if (replicas_route) {
      absl::StatusOr<std::optional<json>> fetched = FetchKilnStatus(client, name);
      if (fetched.ok()) {
        kiln_status = *std::move(fetched);
        replicas_route = kiln_status.has_value();
      }
    }
    const absl::Time now = absl::Now();
    printer.Show(ProgressLine(*job, kiln_status, now - start), ProgressLine(*job, kiln_status, absl::ZeroDuration()));
    if (IsFinal(*read)) {
      printer.Finish();
      return job;
    }
    if (limited && now >= deadline) {
      printer.Finish();
      return absl::DeadlineExceededError(absl::StrCat("CustomJob [", name, "] is still ", StateName(*read), " after ",
                                                      absl::FormatDuration(options.timeout),
                                                      "; wait again or raise --timeout"));
    }
    const absl::Duration since_call = absl::Now() - call_start;
    if (since_call < options.min_interval) {
      absl::Duration pause = options.min_interval - since_call;
      if (limited) pause = std::min(pause, deadline - absl::Now());
      if (pause > absl::ZeroDuration()) absl::SleepFor(pause);
    }
  }
}

}  // namespace kiln::client
