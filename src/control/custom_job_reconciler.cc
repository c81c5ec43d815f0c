#include "control/custom_job_reconciler.h"

#include <string.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "control/legacy_records.h"
#include "google/protobuf/util/time_util.h"
#include "protojson/proto_time.h"
#include "service/job_service.h"
#include "service/repository.h"
#include "spdlog/spdlog.h"

namespace kiln::control {
namespace {

namespace v1 = google::cloud::aiplatform::v1;
using google::protobuf::util::TimeUtil;
using Phase = runtime::ReplicaState::Phase;

constexpr char kPrimary[] = "workerpool0-0";
constexpr absl::Duration kDefaultTimeout = absl::Hours(24 * 7);

// The launch commit (record, RUNNING) is not fsync'd: it is the one commit on the way from
// create to a replica's exec. A crash of kiln keeps it. A machine crash before the job's next
// (durable) commit may lose it, and the job is then QUEUED again after the reboot: the next step
// finds the launch by its key (Runtime::FindJob) and adopts it, whose replicas the reboot ended.
// Every later commit is durable and makes this one durable too.
constexpr store::Store::Durability kLaunchDurability = store::Store::Durability::kDeferred;

absl::Duration TimeoutOf(const v1::CustomJob& job) {
  if (!job.job_spec().scheduling().has_timeout()) return kDefaultTimeout;
  return absl::Milliseconds(TimeUtil::DurationToMilliseconds(job.job_spec().scheduling().timeout()));
}

const service::Repository<v1::CustomJob>& Jobs() {
  static const auto* kRepo = new service::Repository<v1::CustomJob>("customJobs", "CustomJob");
  return *kRepo;
}

std::string KeyOf(absl::string_view job_name) { return std::string(job_name.substr(job_name.rfind('/') + 1)); }

}  // namespace

CustomJobReconciler::CustomJobReconciler(store::Store* store, runtime::Runtime* runtime, JobPlanner* planner,
                                         const Clock* clock, Options options)
    : store_(store),
      runtime_(runtime),
      planner_(planner),
      clock_(clock),
      options_(options),
      loop_(
          "customJobs", [this](const std::string& job) { return ReconcileOnce(job); }, [this] { return Unfinished(); },
          options.resync_interval) {}

CustomJobReconciler::~CustomJobReconciler() { Stop(); }

void CustomJobReconciler::Start() {
  // Before the first step: records an earlier kiln kept in its old layout become job records.
  int upgraded = 0;
  if (absl::Status s = UpgradeLegacyRecords(*store_, *runtime_, &upgraded); !s.ok()) {
    spdlog::error("CustomJobReconciler: upgrading the records of an earlier kiln: {}", s.ToString());
  } else if (upgraded > 0) {
    spdlog::info("CustomJobReconciler: upgraded the records of {} jobs from an earlier kiln", upgraded);
  }
  if (subscriptions_.empty()) {
    subscriptions_.push_back(store_->AddCommitListener([this](const std::vector<std::string>& names) {
      for (const std::string& n : names) {
        if (absl::StrContains(n, "/customJobs/")) loop_.Enqueue(n);
      }
    }));
    subscriptions_.push_back(runtime_->Subscribe([this](const std::string& job) {
      if (!job.empty()) loop_.Enqueue(job);  // a job an earlier kiln launched has no name: resync
    }));
    subscriptions_.push_back(planner_->OnWake([this](const std::string& job) { loop_.Enqueue(job); }));
  }
  loop_.Start();
}

void CustomJobReconciler::Stop() {
  // Registrations first: once cancelled, no callback is running or will start, so the loop can
  // go without anything enqueueing into it.
  for (Subscription& s : subscriptions_) s.Cancel();
  subscriptions_.clear();
  loop_.Stop();
  MutexLock lock(&mu_);
  recovered_.clear();  // a later Start adopts again (harmless when already watched)
}

std::string CustomJobReconciler::QueueReason(const std::string& job_name) const {
  MutexLock lock(&mu_);
  auto it = queue_reasons_.find(job_name);
  return it == queue_reasons_.end() ? "" : it->second;
}

std::vector<std::string> CustomJobReconciler::Unfinished() {
  absl::StatusOr<std::vector<std::string>> names =
      service::Names(*store_, Jobs(), [](const v1::CustomJob& m) { return !service::IsFinalJobState(m.state()); });
  if (!names.ok()) {
    spdlog::error("CustomJobReconciler: resync failed: {}", names.status().ToString());
    return {};
  }
  return *std::move(names);
}

absl::Status CustomJobReconciler::ReconcileOnce(const std::string& job_name) {
  absl::StatusOr<v1::CustomJob> read = service::Get(*store_, Jobs(), job_name);
  if (absl::IsNotFound(read.status())) return CleanUp(job_name);  // deleted: its files and record go too
  if (!read.ok()) return read.status();
  const v1::CustomJob& job = *read;
  if (service::IsFinalJobState(job.state())) return absl::OkStatus();
  absl::StatusOr<std::optional<JobRecord>> record = ReadJobRecord(*store_, job_name);
  if (!record.ok()) return record.status();
  if (record->has_value() && !(*record)->runtime_handle.empty()) return Supervise(job, **std::move(record));
  if (job.state() == v1::JOB_STATE_CANCELLING) {
    // Cancelled before anything was recorded: a launch a crash left unrecorded is adopted and
    // stopped like any other; without one, nothing runs.
    absl::StatusOr<std::optional<runtime::FoundJob>> found = runtime_->FindJob(KeyOf(job_name));
    if (!found.ok()) return found.status();
    if (!found->has_value())
      return Finish(job_name, v1::JOB_STATE_CANCELLED, absl::CancelledError("CustomJob was cancelled."));
  }
  return Start(job);
}

absl::Status CustomJobReconciler::Start(const v1::CustomJob& job) {
  const std::string& job_name = job.name();
  JobRecord record;
  // A launch kiln made but never recorded (it died in between) is found by the job's key.
  absl::StatusOr<std::optional<runtime::FoundJob>> found = runtime_->FindJob(KeyOf(job_name));
  if (!found.ok()) return found.status();
  if (found->has_value()) {
    record.runtime_handle = (*found)->handle;
    record.grant = (*found)->annotation;
    if (absl::Status r = planner_->Restore(job, record.grant); !r.ok()) {
      spdlog::warn("reconciler: restoring the reservation of {}: {}", job_name, r.ToString());
    }
    if (absl::Status a = runtime_->Adopt(record.runtime_handle); !a.ok()) return a;
  } else {
    absl::StatusOr<runtime::JobLaunch> launch = planner_->Plan(job);
    if (absl::IsResourceExhausted(launch.status())) {
      MutexLock lock(&mu_);
      queue_reasons_[job_name] = std::string(launch.status().message());
      return absl::OkStatus();  // tried again when a job ends or the planner wakes it
    }
    if (!launch.ok()) return Finish(job_name, v1::JOB_STATE_FAILED, launch.status());
    launch->stop_grace = options_.stop_grace;
    absl::StatusOr<std::string> handle = runtime_->LaunchJob(*launch);
    if (!handle.ok()) {
      // Nothing started and nothing was kept.
      planner_->Release(job_name);
      if (absl::IsResourceExhausted(handle.status())) {
        MutexLock lock(&mu_);
        queue_reasons_[job_name] = std::string(handle.status().message());
        return absl::OkStatus();
      }
      if (absl::IsAlreadyExists(handle.status())) return handle.status();  // raced with a launch; next step adopts
      return Finish(job_name, v1::JOB_STATE_FAILED, handle.status());
    }
    record.runtime_handle = *std::move(handle);
    record.grant = launch->annotation;
  }
  {
    MutexLock lock(&mu_);
    queue_reasons_.erase(job_name);
    recovered_.insert(job_name);
  }
  absl::StatusOr<runtime::JobStatus> status = runtime_->Status(record.runtime_handle);
  if (!status.ok()) return status.status();
  if (!status->launch_error.ok()) {
    record.outcome = JobRecord::Outcome{v1::JOB_STATE_FAILED, status->launch_error};
  }
  KILN_RETURN_IF_ERROR(CommitLaunch(job_name, record, *status));
  // A failed launch whose started replicas have all exited ends now; otherwise the runtime's
  // notifications bring the next step.
  if (record.outcome.has_value() && status->final())
    return Finish(job_name, record.outcome->state, record.outcome->error);
  return absl::OkStatus();
}

absl::Status CustomJobReconciler::CommitLaunch(const std::string& job_name, const JobRecord& record,
                                               const runtime::JobStatus& status) {
  return store_->Write(
      [&](store::Transaction& tx) -> absl::Status {
        absl::StatusOr<v1::CustomJob> current = Jobs().Get(tx, job_name);
        if (!current.ok()) return current.status();
        KILN_RETURN_IF_ERROR(PutJobRecord(tx, job_name, record));
        if (record.outcome.has_value()) return absl::OkStatus();
        v1::JobState next = status.running() ? v1::JOB_STATE_RUNNING : v1::JOB_STATE_PENDING;
        v1::JobState now_state = current->state();
        bool advance = (now_state == v1::JOB_STATE_QUEUED) ||
                       (now_state == v1::JOB_STATE_PENDING && next == v1::JOB_STATE_RUNNING);
        if (!advance) return absl::OkStatus();  // cancelled meanwhile: supervised from here on
        absl::Time now = clock_->Now();
        current->set_state(next);
        if (next == v1::JOB_STATE_RUNNING) *current->mutable_start_time() = protojson::ToTimestamp(now);
        *current->mutable_update_time() = protojson::ToTimestamp(now);
        return Jobs().Update(tx, *current);
      },
      kLaunchDurability);
}

absl::Status CustomJobReconciler::RecoverOnce(const v1::CustomJob& job, const JobRecord& record) {
  {
    MutexLock lock(&mu_);
    if (!recovered_.insert(job.name()).second) return absl::OkStatus();
  }
  if (!record.grant.empty()) {
    if (absl::Status s = planner_->Restore(job, record.grant); !s.ok()) {
      spdlog::warn("reconciler: restoring the reservation of {}: {}", job.name(), s.ToString());
    }
  }
  absl::Status adopted = runtime_->Adopt(record.runtime_handle);
  if (!adopted.ok()) {
    MutexLock lock(&mu_);
    recovered_.erase(job.name());  // tried again on the next step
  }
  return adopted;
}

std::optional<JobRecord::Outcome> CustomJobReconciler::Decide(const v1::CustomJob& job, const std::string& handle,
                                                              const runtime::JobStatus& status) {
  if (job.state() == v1::JOB_STATE_CANCELLING) {
    return JobRecord::Outcome{v1::JOB_STATE_CANCELLED, absl::CancelledError("CustomJob was cancelled.")};
  }
  if (!status.launch_error.ok()) return JobRecord::Outcome{v1::JOB_STATE_FAILED, status.launch_error};
  // The earliest decisive end wins: a replica failing or lost, or the primary succeeding.
  const runtime::ReplicaState* first = nullptr;
  for (const runtime::ReplicaState& r : status.replicas) {
    bool exited = r.phase == Phase::kExited;
    bool failed = r.phase == Phase::kLost || (exited && !r.stopped_by_kiln && (r.exit_code != 0 || r.term_signal != 0));
    bool primary_succeeded = exited && r.task == kPrimary && r.exit_code == 0 && r.term_signal == 0;
    if ((failed || primary_succeeded) && (first == nullptr || r.end_time < first->end_time)) first = &r;
  }
  if (first != nullptr) {
    if (first->phase == Phase::kExited && first->exit_code == 0 && first->term_signal == 0) {
      return JobRecord::Outcome{v1::JOB_STATE_SUCCEEDED, absl::OkStatus()};
    }
    std::string how =
        first->phase == Phase::kLost
            ? "was lost (its supervisor disappeared without recording an exit; its processes were stopped)"
        : first->term_signal != 0
            ? absl::StrCat("was killed by signal ", first->term_signal, " (", strsignal(first->term_signal), ")")
            : absl::StrCat("exited with a non-zero status of ", first->exit_code);
    std::string tail;
    if (absl::StatusOr<std::unique_ptr<runtime::LogReader>> log = runtime_->OpenLog(handle, first->task); log.ok()) {
      tail = (*log)->Tail(options_.log_tail_lines);
    }
    return JobRecord::Outcome{
        v1::JOB_STATE_FAILED,
        absl::InvalidArgumentError(absl::StrCat("The replica ", first->task, " ", how, ".",
                                                tail.empty() ? "" : absl::StrCat(" Last lines of its log:\n", tail)))};
  }
  absl::Time now = clock_->Now();
  if (job.has_start_time() && now >= protojson::FromTimestamp(job.start_time()) + TimeoutOf(job)) {
    return JobRecord::Outcome{v1::JOB_STATE_FAILED, absl::DeadlineExceededError(absl::StrCat(
                                                        "CustomJob ran longer than its scheduling.timeout of ",
                                                        absl::FormatDuration(TimeoutOf(job)), " and was stopped."))};
  }
  return std::nullopt;
}

absl::Status CustomJobReconciler::Supervise(const v1::CustomJob& job, JobRecord record) {
  const std::string& job_name = job.name();
  KILN_RETURN_IF_ERROR(RecoverOnce(job, record));
  absl::StatusOr<runtime::JobStatus> status = runtime_->Status(record.runtime_handle);
  if (!status.ok()) return status.status();

  if (!record.outcome.has_value()) {
    record.outcome = Decide(job, record.runtime_handle, *status);
    if (!record.outcome.has_value()) {
      if (job.state() == v1::JOB_STATE_PENDING && status->running()) {
        KILN_RETURN_IF_ERROR(CommitLaunch(job_name, record, *status));  // placed now: RUNNING
        return absl::OkStatus();  // the commit wakes the next step, which sets the deadline
      }
      if (job.has_start_time()) {
        // The timeout is measured on `clock_`; the loop waits in wall-clock time.
        absl::Time now = clock_->Now();
        loop_.SetDeadline(job_name, absl::Now() + (protojson::FromTimestamp(job.start_time()) + TimeoutOf(job) - now));
      }
      return absl::OkStatus();
    }
    if (status->final()) return Finish(job_name, record.outcome->state, record.outcome->error);
    // Decided, with replicas still running: the decision is durable before anything is stopped,
    // so a restart ends the job the same way.
    KILN_RETURN_IF_ERROR(store_->Write([&](store::Transaction& tx) { return PutJobRecord(tx, job_name, record); }));
  }
  if (status->final()) return Finish(job_name, record.outcome->state, record.outcome->error);
  // Stop whatever still runs; the runtime's notifications bring the step that finishes. A stop
  // that ends the job at once (nothing was placed yet) is not a replica's exit: seen here.
  KILN_RETURN_IF_ERROR(runtime_->Stop(record.runtime_handle, options_.stop_grace));
  status = runtime_->Status(record.runtime_handle);
  if (status.ok() && status->final()) return Finish(job_name, record.outcome->state, record.outcome->error);
  return status.status();
}

absl::Status CustomJobReconciler::Finish(const std::string& job_name, v1::JobState state, const absl::Status& error) {
  loop_.ClearDeadline(job_name);
  {
    MutexLock lock(&mu_);
    queue_reasons_.erase(job_name);
  }
  absl::Status s = store_->Write([&](store::Transaction& tx) -> absl::Status {
    absl::StatusOr<v1::CustomJob> current = Jobs().Get(tx, job_name);
    if (!current.ok()) return current.status();
    if (service::IsFinalJobState(current->state())) return absl::OkStatus();
    // The record keeps the runtime handle (for logs); the reservation and outcome are done.
    absl::StatusOr<JobRecord> record = GetJobRecord(tx, job_name);
    if (record.ok()) {
      record->grant.clear();
      record->outcome.reset();
      KILN_RETURN_IF_ERROR(PutJobRecord(tx, job_name, *record));
    } else if (!absl::IsNotFound(record.status())) {
      return record.status();
    }
    absl::Time now = clock_->Now();
    current->set_state(state);
    *current->mutable_end_time() = protojson::ToTimestamp(now);
    *current->mutable_update_time() = protojson::ToTimestamp(now);
    if (!error.ok()) {
      current->mutable_error()->set_code(static_cast<int>(error.code()));
      current->mutable_error()->set_message(std::string(error.message()));
    }
    return Jobs().Update(tx, *current);
  });
  if (!s.ok()) return s;
  // What this job held is free again: jobs waiting for resources get another try, oldest first
  // (names end in increasing numeric ids).
  planner_->Release(job_name);
  std::vector<std::string> waiting;
  {
    MutexLock lock(&mu_);
    recovered_.erase(job_name);
    for (const auto& [name, reason] : queue_reasons_) waiting.push_back(name);
  }
  std::sort(waiting.begin(), waiting.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  for (const std::string& name : waiting) loop_.Enqueue(name);
  return absl::OkStatus();
}

void CustomJobReconciler::ForgetLocked(const std::string& job_name) {
  queue_reasons_.erase(job_name);
  recovered_.erase(job_name);
}

absl::Status CustomJobReconciler::CleanUp(const std::string& job_name) {
  absl::StatusOr<std::optional<JobRecord>> record = ReadJobRecord(*store_, job_name);
  if (!record.ok()) return record.status();
  loop_.ClearDeadline(job_name);
  {
    MutexLock lock(&mu_);
    ForgetLocked(job_name);
  }
  planner_->Release(job_name);
  if (record->has_value() && !(*record)->runtime_handle.empty()) {
    // Only final jobs can be deleted, so nothing of it runs. On failure the record stays, and
    // with it the way to the files.
    KILN_RETURN_IF_ERROR(runtime_->Remove((*record)->runtime_handle));
  }
  return store_->Write([&](store::Transaction& tx) { return DeleteJobRecord(tx, job_name); });
}

}  // namespace kiln::control
