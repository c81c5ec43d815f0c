#ifndef KILN_RUNTIME_FAKE_RUNTIME_H_
#define KILN_RUNTIME_FAKE_RUNTIME_H_

// FakeRuntime: the Runtime seam for other modules' tests. Nothing runs; the test decides what
// happens to each replica, when, and where a launch fails or "kiln crashes".
//
//   FakeRuntime runtime;
//   CustomJobReconciler reconciler(&store, &runtime, ...);   // code under test launches jobs
//   ...
//   std::string h = runtime.jobs()[0].handle;
//   runtime.Finish(h, "workerpool0-0", {.phase = ReplicaState::Phase::kExited, .exit_code = 3});
//   // → Status(h) reports it, and subscribers were notified on this thread.
//
// Launches follow the seam's contract: places are distinct hosts 10.0.0.<n> with ports from
// 30000 up and folders /fake/<key>/<task>; the builder is called once; all or nothing:
//   - FailLaunchAt(i, status): the next launch starts replicas 0..i-1, fails replica i with
//     `status` (launch_error "Replica <task> could not be started: ..."), asks 0..i-1 to stop,
//     and reports the rest kNotStarted. The stopped replicas run until the test ends them
//     (Finish, or ExitStopped for every replica asked to stop).
//   - CrashLaunchAt(step, i): the next launch stops at that point as if kiln died there and
//     returns ABORTED; the job is kept as far as it got (FindJob finds it; Adopt finishes it).
//   - PlaceLater(reason): the next launch leaves its replicas kPending with that reason until
//     Place(handle) (a cluster that allocates later).
// Restart() forgets which jobs are watched, as a new kiln process would; jobs themselves stay.
//
// Threading: thread-safe; notifications run on the thread calling the test control (Finish,
// Place, ExitStopped), with no lock held. LaunchJob and Adopt do not notify.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/callbacks.h"
#include "common/mutex.h"
#include "runtime/runtime.h"

namespace kiln::runtime {

class FakeRuntime final : public Runtime {
 public:
  // Where CrashLaunchAt stops a launch (or an Adopt that resumes one).
  enum class Step {
    kBeforeReplica,  // before replica `index` starts (0: right after the job is recorded)
    kAfterFailure,   // the launch failure is recorded, nothing stopped yet
  };
  struct StopRequest {
    std::string handle;
    std::string task;
    absl::Duration grace;
  };
  // A job as the fake keeps it.
  struct Job {
    std::string handle;
    std::string key;
    std::string name;
    std::string annotation;
    absl::Duration stop_grace;
    std::vector<ReplicaPlace> places;
    std::vector<ReplicaCommand> commands;
    JobStatus status;
    bool watched = false;
  };
  struct ReplicaEnd {
    ReplicaState::Phase phase = ReplicaState::Phase::kExited;
    int exit_code = 0;
    int term_signal = 0;
    bool stopped_by_kiln = false;
    absl::Time end_time = absl::Now();
  };

  // --- Runtime ---
  absl::StatusOr<std::string> LaunchJob(const JobLaunch& launch) override;
  absl::StatusOr<std::optional<FoundJob>> FindJob(absl::string_view key) override;
  absl::Status Adopt(absl::string_view handle) override;
  absl::StatusOr<JobStatus> Status(absl::string_view handle) override;
  // Records the request for every replica not yet final; the replicas keep running.
  absl::Status Stop(absl::string_view handle, absl::Duration grace) override;
  // A reader over what SetLog gave (empty by default).
  absl::StatusOr<std::unique_ptr<LogReader>> OpenLog(absl::string_view handle, absl::string_view task) override;
  absl::Status Remove(absl::string_view handle) override;
  Subscription Subscribe(std::function<void(const std::string& name)> on_change) override;

  // --- Test controls ---
  void FailLaunchAt(int index, absl::Status status);
  void CrashLaunchAt(Step step, int index);
  // The next LaunchJob fails with `status` before anything starts (e.g. UNAVAILABLE).
  void RefuseNextLaunch(absl::Status status);
  void PlaceLater(std::string reason);
  // Places a job left kPending by PlaceLater: every replica kRunning; notifies.
  void Place(absl::string_view handle);
  // Ends replica `task` as `end` says (it must not be final already); notifies.
  void Finish(absl::string_view handle, absl::string_view task, const ReplicaEnd& end);
  // Every running replica that was asked to stop ends (SIGTERM, stopped_by_kiln); notifies
  // once per job. Returns how many ended.
  int ExitStopped();
  // The raw log of a replica (lines at one time, stdout).
  void SetLog(absl::string_view handle, absl::string_view task, std::string text);
  void Restart();

  std::vector<Job> jobs() const;  // in launch order
  std::optional<Job> job(absl::string_view handle) const;
  std::vector<StopRequest> stops() const;
  std::vector<std::string> adopted() const;
  std::vector<std::string> removed() const;
  int launch_calls() const;

 private:
  Job* FindLocked(absl::string_view handle) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts the replicas of `job` still kPending, honouring an injected crash or failure.
  // ABORTED for a crash.
  absl::Status StartPendingLocked(Job& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FailLocked(Job& job, size_t index, const absl::Status& cause) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StopRunningLocked(Job& job, absl::Duration grace) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  CallbackList<const std::string&> subscribers_;
  mutable Mutex mu_;
  std::vector<Job> jobs_ ABSL_GUARDED_BY(mu_);
  std::vector<StopRequest> stops_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> adopted_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> removed_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, std::string> logs_ ABSL_GUARDED_BY(mu_);
  std::optional<std::pair<int, absl::Status>> fail_at_ ABSL_GUARDED_BY(mu_);
  std::optional<std::pair<Step, int>> crash_at_ ABSL_GUARDED_BY(mu_);
  absl::Status refuse_next_ ABSL_GUARDED_BY(mu_);
  std::optional<std::string> place_later_ ABSL_GUARDED_BY(mu_);
  int next_port_ ABSL_GUARDED_BY(mu_) = 30000;
  int launch_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kiln::runtime

#endif  // KILN_RUNTIME_FAKE_RUNTIME_H_
