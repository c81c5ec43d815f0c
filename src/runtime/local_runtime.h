#ifndef KILN_RUNTIME_LOCAL_RUNTIME_H_
#define KILN_RUNTIME_LOCAL_RUNTIME_H_

// LocalRuntime: the Runtime seam on this machine. Every replica is a process tree under its own
// kiln-shim supervisor (shim_supervisor.h), so jobs outlive kiln; a job is a folder
// <jobs_root>/<key> holding its manifest (job_manifest.h) and one folder per replica.
//
//   auto runtime = LocalRuntime::Create({.shim_path = ..., .slot_root = home + "/run/slots",
//                                        .jobs_root = home + "/jobs"});
//   Subscription s = (*runtime)->Subscribe([&](const std::string& name) { Wake(name); });
//   KILN_ASSIGN_OR_RETURN(std::string handle, (*runtime)->LaunchJob(launch));
//
// Launching a job, all or nothing:
//   1. Reserve ReplicaRequest::ports ports per replica from kiln's port range (port_allocator.h)
//      and place every replica on `host` in <jobs_root>/<key>/<task>.
//   2. Build every replica's command from those places (JobLaunch::build).
//   3. Write job.json (key, name, annotation, places, commands) into the job's folder: from
//      here on the job is found by its key, and a restarted kiln can finish steps 4-5.
//   4. Start the replicas in order, each under its shim.
//   5. If replica i cannot start: write launch-error naming it, then stop replicas 0..i-1
//      (grace from the launch). The job is final once they have exited.
// A failure in steps 1-2 (or creating the folder in 3) starts nothing and keeps nothing.
// After a crash in 3-5, Adopt resumes: it adopts the shims it finds, and either starts the
// replicas still missing (with the stored commands) or, after a recorded launch error, goes on
// stopping.
//
// Ports are held until the job is seen final (Status) or removed. Replica states come from the
// shims' exit records (exit.json) and their liveness (ShimSupervisor::Poll); a replica whose shim
// vanished is kLost.
//
// Threading: thread-safe. Notifications run on the supervisor's watcher thread, never under a
// lock of this class; LaunchJob and Adopt run on the caller's thread and never wait for a
// replica. Destroying the runtime stops nothing (replicas keep running and a later kiln adopts
// them); it must not happen while a notification callback runs on another thread's behalf
// (cancel subscriptions first).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/callbacks.h"
#include "common/mutex.h"
#include "runtime/job_manifest.h"
#include "runtime/port_allocator.h"
#include "runtime/runtime.h"
#include "runtime/shim_supervisor.h"

namespace kiln::runtime {

class LocalRuntime final : public Runtime {
 public:
  // Where a test may interrupt LaunchJob / Adopt (Options::fault).
  enum class LaunchStep {
    kManifestWritten,  // step 3 done, nothing started
    kReplicaStarting,  // before replica `index` starts
    kReplicaStarted,   // replica `index` has started
    kLaunchFailed,     // launch-error written, nothing stopped yet
  };

  struct Options {
    std::string shim_path;           // the kiln-shim executable (absolute path)
    std::string jobs_root;           // where job folders go; required
    std::string slot_root = {};      // prepared replica folders (warm_pool.h); same file system as jobs_root
    int warm = 1;                    // idle shims (and slots) kept ready; 0 = start each shim at launch
    std::string host = "127.0.0.1";  // the address replicas are given for each other
    // kiln's port range: outside the kernel's ephemeral range (ip_local_port_range).
    int first_port = 20000;
    int last_port = 29999;
    // Test only: called at each LaunchStep. A non-OK status at kReplicaStarting fails that
    // replica's start with it (the all-or-nothing path); ABORTED at any step simulates kiln
    // dying there: LaunchJob/Adopt return at once, leaving files and processes as they are (the
    // test then destroys this runtime and adopts with a new one).
    std::function<absl::Status(LaunchStep step, int index)> fault = nullptr;
  };

  // INVALID_ARGUMENT without shim_path or jobs_root, or with an empty port range;
  // FAILED_PRECONDITION if the shim is not executable; errno-based statuses otherwise.
  static absl::StatusOr<std::unique_ptr<LocalRuntime>> Create(Options options);
  ~LocalRuntime() override;

  LocalRuntime(const LocalRuntime&) = delete;
  LocalRuntime& operator=(const LocalRuntime&) = delete;

  absl::StatusOr<std::string> LaunchJob(const JobLaunch& launch) override;
  absl::StatusOr<std::optional<FoundJob>> FindJob(absl::string_view key) override;
  absl::Status Adopt(absl::string_view handle) override;
  absl::StatusOr<JobStatus> Status(absl::string_view handle) override;
  absl::Status Stop(absl::string_view handle, absl::Duration grace) override;
  absl::StatusOr<std::unique_ptr<LogReader>> OpenLog(absl::string_view handle, absl::string_view task) override;
  absl::Status Remove(absl::string_view handle) override;
  [[nodiscard]] Subscription Subscribe(std::function<void(const std::string& name)> on_change) override;

  // The ports held by unfinished jobs (tests).
  int ports_held() const { return ports_.held(); }

 private:
  // A job this process knows about, by folder.
  struct Job {
    std::string name;
    std::vector<std::string> tasks;
    std::vector<ReplicaPlace> places;                 // per task
    std::vector<std::optional<ReplicaHandle>> shims;  // per task; nullopt: not started
    absl::Status launch_error;
    bool watched = false;  // launched or adopted by this process

    std::vector<std::string> Dirs() const {
      std::vector<std::string> dirs;
      for (const ReplicaPlace& p : places) dirs.push_back(p.dir);
      return dirs;
    }
  };

  explicit LocalRuntime(Options options);

  // The job folder a handle names; INVALID_ARGUMENT for one this runtime did not make.
  absl::StatusOr<std::string> JobDir(absl::string_view handle) const;
  static std::string HandleOf(const std::string& job_dir);
  // The job in `dir` as its files describe it (manifest, launch error, shims found).
  absl::StatusOr<Job> LoadJob(const std::string& dir, const internal::JobManifest& manifest);
  // The job in `dir`: the watched record, else loaded from its files.
  absl::StatusOr<Job> Snapshot(const std::string& dir);
  // Steps 4-5 for the replicas of `manifest` without a shim; Job already registered.
  absl::Status StartMissing(const std::string& dir, const internal::JobManifest& manifest);
  // Step 5: records `error`, then stops what started.
  absl::Status FailLaunch(const std::string& dir, absl::Duration grace, const absl::Status& error);
  absl::Status Fault(LaunchStep step, int index) const;
  void OnShimExit(const ReplicaHandle& shim);

  const Options options_;
  internal::PortAllocator ports_;
  CallbackList<const std::string&> subscribers_;

  mutable Mutex mu_;
  absl::flat_hash_map<std::string, Job> jobs_ ABSL_GUARDED_BY(mu_);                    // by job folder
  absl::flat_hash_map<std::string, std::string> job_of_replica_ ABSL_GUARDED_BY(mu_);  // replica folder → job folder

  // Last: destroyed first, joining the watcher thread that calls OnShimExit.
  std::unique_ptr<internal::ShimSupervisor> supervisor_;
};

}  // namespace kiln::runtime

#endif  // KILN_RUNTIME_LOCAL_RUNTIME_H_
