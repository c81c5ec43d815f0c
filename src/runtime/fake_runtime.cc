#include "runtime/fake_runtime.h"

#include <signal.h>

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace kiln::runtime {
namespace {

using Phase = ReplicaState::Phase;

// Lines of `text` as stdout lines at one time.
class FakeLogReader final : public LogReader {
 public:
  explicit FakeLogReader(std::string text) : text_(std::move(text)) {}
  absl::StatusOr<std::string> Read(int64_t offset, int64_t max_bytes) override {
    if (offset >= static_cast<int64_t>(text_.size())) return std::string();
    return text_.substr(static_cast<size_t>(offset), static_cast<size_t>(max_bytes));
  }
  int64_t Size() override { return static_cast<int64_t>(text_.size()); }
  std::string Tail(int max_lines) override {
    std::vector<std::string> lines = absl::StrSplit(text_, '\n', absl::SkipEmpty());
    size_t first = lines.size() > static_cast<size_t>(max_lines) ? lines.size() - max_lines : 0;
    return absl::StrJoin(lines.begin() + static_cast<std::ptrdiff_t>(first), lines.end(), "\n");
  }
  absl::Status VisitLines(const LogReadOptions& options, const std::function<bool(LogLine)>& visit) override {
    std::vector<LogLine> lines;
    int64_t offset = 0;
    for (absl::string_view line : absl::StrSplit(text_, '\n')) {
      if (offset < static_cast<int64_t>(text_.size())) {
        lines.push_back({offset, absl::UnixEpoch(), LogStream::kStdout, std::string(line)});
      }
      offset += static_cast<int64_t>(line.size()) + 1;
    }
    if (!lines.empty() && lines.back().text.empty()) lines.pop_back();
    if (options.newest_first) std::reverse(lines.begin(), lines.end());
    for (LogLine& line : lines) {
      if (!visit(std::move(line))) break;
    }
    return absl::OkStatus();
  }
  void WaitForChange(int64_t, absl::Duration) override {}

 private:
  std::string text_;
};

}  // namespace

absl::StatusOr<std::string> FakeRuntime::LaunchJob(const JobLaunch& launch) {
  std::vector<ReplicaPlace> places;
  {
    MutexLock lock(&mu_);
    ++launch_calls_;
    if (!refuse_next_.ok()) return std::exchange(refuse_next_, absl::OkStatus());
    if (absl::Status s = ValidateJobLaunch(launch); !s.ok()) return s;
    for (const Job& j : jobs_) {
      if (j.key == launch.key) {
        return absl::AlreadyExistsError(absl::StrCat("a job with key ", launch.key, " was launched already"));
      }
    }
    for (size_t i = 0; i < launch.replicas.size(); ++i) {
      ReplicaPlace place{.host = absl::StrCat("10.0.0.", i + 1),
                         .ports = {},
                         .dir = absl::StrCat("/fake/", launch.key, "/", launch.replicas[i].task)};
      for (int p = 0; p < launch.replicas[i].ports; ++p) place.ports.push_back(next_port_++);
      places.push_back(std::move(place));
    }
  }
  absl::StatusOr<std::vector<ReplicaCommand>> commands = launch.build(places);
  if (!commands.ok()) return commands.status();
  if (commands->size() != places.size()) return absl::InternalError("the command builder returned the wrong count");

  MutexLock lock(&mu_);
  Job job;
  job.handle = absl::StrCat("fake:", launch.key);
  job.key = launch.key;
  job.name = launch.name;
  job.annotation = launch.annotation;
  job.stop_grace = launch.stop_grace;
  job.places = places;
  job.commands = *std::move(commands);
  job.watched = true;
  for (size_t i = 0; i < places.size(); ++i) {
    job.status.replicas.push_back({.task = launch.replicas[i].task, .phase = Phase::kPending, .place = places[i]});
  }
  jobs_.push_back(std::move(job));
  Job& stored = jobs_.back();
  if (place_later_.has_value()) {
    stored.status.pending_reason = *std::exchange(place_later_, std::nullopt);
    return stored.handle;
  }
  absl::Status started = StartPendingLocked(stored);
  if (!started.ok()) return started;  // a simulated crash
  return stored.handle;
}

absl::Status FakeRuntime::StartPendingLocked(Job& job) {
  for (size_t i = 0; i < job.status.replicas.size(); ++i) {
    ReplicaState& r = job.status.replicas[i];
    if (r.phase != Phase::kPending) continue;
    if (crash_at_.has_value() && crash_at_->first == Step::kBeforeReplica && crash_at_->second == static_cast<int>(i)) {
      crash_at_.reset();
      job.watched = false;  // the process that watched it is gone
      return absl::AbortedError("simulated crash");
    }
    if (fail_at_.has_value() && fail_at_->first == static_cast<int>(i)) {
      absl::Status cause = std::move(fail_at_->second);
      fail_at_.reset();
      FailLocked(job, i, cause);
      if (!job.watched) return absl::AbortedError("simulated crash");
      return absl::OkStatus();
    }
    r.phase = Phase::kRunning;
  }
  return absl::OkStatus();
}

void FakeRuntime::FailLocked(Job& job, size_t index, const absl::Status& cause) {
  job.status.launch_error = absl::InternalError(
      absl::StrCat("Replica ", job.status.replicas[index].task, " could not be started: ", cause.message()));
  for (ReplicaState& r : job.status.replicas) {
    if (r.phase == Phase::kPending) r.phase = Phase::kNotStarted;
  }
  if (crash_at_.has_value() && crash_at_->first == Step::kAfterFailure) {
    crash_at_.reset();
    job.watched = false;
    return;
  }
  StopRunningLocked(job, job.stop_grace);
}

void FakeRuntime::StopRunningLocked(Job& job, absl::Duration grace) {
  for (ReplicaState& r : job.status.replicas) {
    if (r.phase == Phase::kRunning) stops_.push_back({job.handle, r.task, grace});
  }
}

FakeRuntime::Job* FakeRuntime::FindLocked(absl::string_view handle) {
  for (Job& j : jobs_) {
    if (j.handle == handle) return &j;
  }
  return nullptr;
}

absl::StatusOr<std::optional<FoundJob>> FakeRuntime::FindJob(absl::string_view key) {
  MutexLock lock(&mu_);
  for (const Job& j : jobs_) {
    if (j.key == key) return FoundJob{.handle = j.handle, .annotation = j.annotation};
  }
  return std::nullopt;
}

absl::Status FakeRuntime::Adopt(absl::string_view handle) {
  MutexLock lock(&mu_);
  Job* job = FindLocked(handle);
  if (job == nullptr) return absl::NotFoundError(absl::StrCat("fake runtime: no job ", handle));
  if (job->watched) return absl::OkStatus();
  job->watched = true;
  adopted_.push_back(job->handle);
  if (!job->status.launch_error.ok()) {
    StopRunningLocked(*job, job->stop_grace);
    return absl::OkStatus();
  }
  if (!job->status.pending_reason.empty()) return absl::OkStatus();  // placed later
  return StartPendingLocked(*job);
}

absl::StatusOr<JobStatus> FakeRuntime::Status(absl::string_view handle) {
  MutexLock lock(&mu_);
  Job* job = FindLocked(handle);
  if (job == nullptr) return absl::NotFoundError(absl::StrCat("fake runtime: no job ", handle));
  return job->status;
}

absl::Status FakeRuntime::Stop(absl::string_view handle, absl::Duration grace) {
  MutexLock lock(&mu_);
  Job* job = FindLocked(handle);
  if (job == nullptr) return absl::NotFoundError(absl::StrCat("fake runtime: no job ", handle));
  for (ReplicaState& r : job->status.replicas) {
    if (r.phase == Phase::kPending && !job->status.pending_reason.empty()) {
      r.phase = Phase::kNotStarted;  // withdrawn before placement
      r.stopped_by_kiln = true;
    }
  }
  StopRunningLocked(*job, grace);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<LogReader>> FakeRuntime::OpenLog(absl::string_view handle, absl::string_view task) {
  MutexLock lock(&mu_);
  Job* job = FindLocked(handle);
  if (job == nullptr) return absl::NotFoundError(absl::StrCat("fake runtime: no job ", handle));
  if (job->status.Find(task) == nullptr) return absl::NotFoundError(absl::StrCat("the job has no replica ", task));
  auto it = logs_.find({std::string(handle), std::string(task)});
  return std::unique_ptr<LogReader>(new FakeLogReader(it == logs_.end() ? "" : it->second));
}

absl::Status FakeRuntime::Remove(absl::string_view handle) {
  MutexLock lock(&mu_);
  for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
    if (it->handle != handle) continue;
    if (!it->status.final()) return absl::FailedPreconditionError("the job still has replicas that may run");
    removed_.push_back(it->handle);
    jobs_.erase(it);
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

Subscription FakeRuntime::Subscribe(std::function<void(const std::string& name)> on_change) {
  return subscribers_.Add(std::move(on_change));
}

void FakeRuntime::FailLaunchAt(int index, absl::Status status) {
  MutexLock lock(&mu_);
  fail_at_ = std::make_pair(index, std::move(status));
}

void FakeRuntime::CrashLaunchAt(Step step, int index) {
  MutexLock lock(&mu_);
  crash_at_ = std::make_pair(step, index);
}

void FakeRuntime::RefuseNextLaunch(absl::Status status) {
  MutexLock lock(&mu_);
  refuse_next_ = std::move(status);
}

void FakeRuntime::PlaceLater(std::string reason) {
  MutexLock lock(&mu_);
  place_later_ = std::move(reason);
}

void FakeRuntime::Place(absl::string_view handle) {
  std::string name;
  {
    MutexLock lock(&mu_);
    Job* job = FindLocked(handle);
    if (job == nullptr || job->status.pending_reason.empty()) return;
    job->status.pending_reason.clear();
    if (!StartPendingLocked(*job).ok()) return;
    name = job->name;
  }
  subscribers_.Notify(name);
}

void FakeRuntime::Finish(absl::string_view handle, absl::string_view task, const ReplicaEnd& end) {
  std::string name;
  {
    MutexLock lock(&mu_);
    Job* job = FindLocked(handle);
    if (job == nullptr) return;
    for (ReplicaState& r : job->status.replicas) {
      if (r.task != task || r.final()) continue;
      r.phase = end.phase;
      r.exit_code = end.exit_code;
      r.term_signal = end.term_signal;
      r.stopped_by_kiln = end.stopped_by_kiln;
      r.end_time = end.end_time;
    }
    name = job->name;
  }
  subscribers_.Notify(name);
}

int FakeRuntime::ExitStopped() {
  std::vector<std::string> names;
  int ended = 0;
  {
    MutexLock lock(&mu_);
    std::set<std::pair<std::string, std::string>> asked;
    for (const StopRequest& s : stops_) asked.insert({s.handle, s.task});
    for (Job& job : jobs_) {
      bool changed = false;
      for (ReplicaState& r : job.status.replicas) {
        if (r.phase != Phase::kRunning || !asked.contains({job.handle, r.task})) continue;
        r.phase = Phase::kExited;
        r.term_signal = SIGTERM;
        r.stopped_by_kiln = true;
        r.end_time = absl::Now();
        changed = true;
        ++ended;
      }
      if (changed) names.push_back(job.name);
    }
  }
  for (const std::string& name : names) subscribers_.Notify(name);
  return ended;
}

void FakeRuntime::SetLog(absl::string_view handle, absl::string_view task, std::string text) {
  MutexLock lock(&mu_);
  logs_[{std::string(handle), std::string(task)}] = std::move(text);
}

void FakeRuntime::Restart() {
  MutexLock lock(&mu_);
  for (Job& j : jobs_) j.watched = false;
}

std::vector<FakeRuntime::Job> FakeRuntime::jobs() const {
  MutexLock lock(&mu_);
  return jobs_;
}

std::optional<FakeRuntime::Job> FakeRuntime::job(absl::string_view handle) const {
  MutexLock lock(&mu_);
  for (const Job& j : jobs_) {
    if (j.handle == handle) return j;
  }
  return std::nullopt;
}

std::vector<FakeRuntime::StopRequest> FakeRuntime::stops() const {
  MutexLock lock(&mu_);
  return stops_;
}

std::vector<std::string> FakeRuntime::adopted() const {
  MutexLock lock(&mu_);
  return adopted_;
}

std::vector<std::string> FakeRuntime::removed() const {
  MutexLock lock(&mu_);
  return removed_;
}

int FakeRuntime::launch_calls() const {
  MutexLock lock(&mu_);
  return launch_calls_;
}

}  // namespace kiln::runtime
