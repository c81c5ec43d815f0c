#include "runtime/local_runtime.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "runtime/replica_files.h"
#include "runtime/replica_log.h"

namespace kiln::runtime {
namespace {

using internal::JoinPath;

constexpr char kHandlePrefix[] = "local:";

ReplicaState::Phase PhaseOf(ReplicaStatus::State state) {
  switch (state) {
    case ReplicaStatus::State::kRunning:
      return ReplicaState::Phase::kRunning;
    case ReplicaStatus::State::kExited:
      return ReplicaState::Phase::kExited;
    case ReplicaStatus::State::kLost:
      return ReplicaState::Phase::kLost;
  }
  return ReplicaState::Phase::kLost;
}

absl::Status MakeDirs(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return absl::ErrnoToStatus(error.value(), absl::StrCat("mkdir ", dir));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalRuntime>> LocalRuntime::Create(Options options) {
  if (options.jobs_root.empty()) return absl::InvalidArgumentError("jobs_root is required");
  if (options.first_port < 1 || options.last_port > 65535 || options.first_port > options.last_port) {
    return absl::InvalidArgumentError(
        absl::StrCat("port range ", options.first_port, "-", options.last_port, " is empty or out of 1-65535"));
  }
  std::error_code error;
  options.jobs_root = std::filesystem::absolute(options.jobs_root, error).lexically_normal();
  if (error) return absl::ErrnoToStatus(error.value(), absl::StrCat("jobs_root ", options.jobs_root));
  while (options.jobs_root.size() > 1 && options.jobs_root.back() == '/') options.jobs_root.pop_back();
  KILN_RETURN_IF_ERROR(MakeDirs(options.jobs_root));
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<internal::ShimSupervisor> supervisor,
                        internal::ShimSupervisor::Create(
                            {.shim_path = options.shim_path, .slot_root = options.slot_root, .warm = options.warm}));
  std::unique_ptr<LocalRuntime> runtime(new LocalRuntime(std::move(options)));
  runtime->supervisor_ = std::move(supervisor);
  // Set before the first launch; the runtime outlives the supervisor (destroyed first).
  runtime->supervisor_->SetExitCallback([self = runtime.get()](const ReplicaHandle& shim) { self->OnShimExit(shim); });
  return runtime;
}

LocalRuntime::LocalRuntime(Options options)
    : options_(std::move(options)), ports_(options_.first_port, options_.last_port) {}

LocalRuntime::~LocalRuntime() = default;

std::string LocalRuntime::HandleOf(const std::string& job_dir) { return absl::StrCat(kHandlePrefix, job_dir); }

absl::StatusOr<std::string> LocalRuntime::JobDir(absl::string_view handle) const {
  if (!absl::StartsWith(handle, kHandlePrefix) || handle.size() <= sizeof(kHandlePrefix) ||
      handle[sizeof(kHandlePrefix) - 1] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("not a local runtime job handle: \"", handle, "\""));
  }
  return std::string(handle.substr(sizeof(kHandlePrefix) - 1));
}

absl::Status LocalRuntime::Fault(LaunchStep step, int index) const {
  return options_.fault == nullptr ? absl::OkStatus() : options_.fault(step, index);
}

absl::StatusOr<std::string> LocalRuntime::LaunchJob(const JobLaunch& launch) {
  KILN_RETURN_IF_ERROR(ValidateJobLaunch(launch));
  const std::string dir = JoinPath(options_.jobs_root, launch.key);
  auto exists = [&] {
    return absl::AlreadyExistsError(absl::StrCat("a job with key ", launch.key, " was launched already"));
  };
  {
    MutexLock lock(&mu_);
    if (jobs_.contains(dir)) return exists();
  }
  absl::StatusOr<internal::JobManifest> previous = internal::ReadManifest(dir);
  if (!absl::IsNotFound(previous.status())) return previous.ok() ? exists() : previous.status();

  // 1. Places.
  int port_count = 0;
  for (const ReplicaRequest& r : launch.replicas) port_count += r.ports;
  KILN_ASSIGN_OR_RETURN(std::vector<int> ports, ports_.Reserve(dir, port_count));
  internal::JobManifest manifest{.key = launch.key,
                                 .name = launch.name,
                                 .annotation = launch.annotation,
                                 .stop_grace = launch.stop_grace,
                                 .replicas = {}};
  std::vector<ReplicaPlace> places;
  size_t next_port = 0;
  for (const ReplicaRequest& r : launch.replicas) {
    ReplicaPlace place{.host = options_.host, .ports = {}, .dir = JoinPath(dir, r.task)};
    for (int i = 0; i < r.ports; ++i) place.ports.push_back(ports[next_port++]);
    places.push_back(std::move(place));
  }
  // 2. Commands.
  absl::StatusOr<std::vector<ReplicaCommand>> commands = launch.build(places);
  if (commands.ok() && commands->size() != places.size()) {
    commands = absl::InternalError(
        absl::StrCat("the command builder returned ", commands->size(), " commands for ", places.size(), " replicas"));
  }
  for (size_t i = 0; commands.ok() && i < commands->size(); ++i) {
    if ((*commands)[i].argv.empty()) {
      commands = absl::InvalidArgumentError(absl::StrCat("replica ", launch.replicas[i].task, ": empty argv"));
    }
  }
  if (!commands.ok()) {
    ports_.Release(dir);
    return commands.status();
  }
  for (size_t i = 0; i < places.size(); ++i) {
    manifest.replicas.push_back({launch.replicas[i].task, places[i], std::move((*commands)[i])});
  }
  // 3. The manifest, the point from which the job exists.
  absl::Status written = MakeDirs(dir);
  if (written.ok()) {
    written = internal::WriteFileAtomically(JoinPath(dir, internal::kJobManifestFile),
                                            internal::ManifestToJson(manifest), /*durable=*/false);
  }
  if (!written.ok()) {
    ports_.Release(dir);
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return written;
  }
  {
    MutexLock lock(&mu_);
    Job& job = jobs_[dir];
    job.name = launch.name;
    job.watched = true;
    for (const internal::ManifestReplica& r : manifest.replicas) {
      job.tasks.push_back(r.task);
      job.places.push_back(r.place);
      job.shims.push_back(std::nullopt);
      job_of_replica_[r.place.dir] = dir;
    }
  }
  KILN_RETURN_IF_ERROR(Fault(LaunchStep::kManifestWritten, -1));
  // 4-5.
  absl::Status started = StartMissing(dir, manifest);
  if (absl::IsAborted(started)) return started;  // a simulated crash (tests)
  return HandleOf(dir);
}

absl::Status LocalRuntime::StartMissing(const std::string& dir, const internal::JobManifest& manifest) {
  for (size_t i = 0; i < manifest.replicas.size(); ++i) {
    const internal::ManifestReplica& r = manifest.replicas[i];
    {
      MutexLock lock(&mu_);
      const Job& job = jobs_.at(dir);
      if (job.shims[i].has_value()) continue;
    }
    absl::Status fault = Fault(LaunchStep::kReplicaStarting, static_cast<int>(i));
    if (absl::IsAborted(fault)) return fault;
    absl::StatusOr<ReplicaHandle> shim = fault.ok() ? supervisor_->Launch({.replica_dir = r.place.dir,
                                                                           .argv = r.command.argv,
                                                                           .env = r.command.env,
                                                                           .working_dir = r.command.working_dir})
                                                    : absl::StatusOr<ReplicaHandle>(fault);
    if (!shim.ok()) {
      return FailLaunch(
          dir, manifest.stop_grace,
          absl::InternalError(absl::StrCat("Replica ", r.task, " could not be started: ", shim.status().message())));
    }
    {
      MutexLock lock(&mu_);
      jobs_.at(dir).shims[i] = *std::move(shim);
    }
    KILN_RETURN_IF_ERROR(Fault(LaunchStep::kReplicaStarted, static_cast<int>(i)));
  }
  return absl::OkStatus();
}

absl::Status LocalRuntime::FailLaunch(const std::string& dir, absl::Duration grace, const absl::Status& error) {
  // Recorded before anything is stopped: a kiln that dies from here on finds it (Adopt).
  absl::Status recorded = internal::WriteLaunchError(dir, error);
  std::vector<ReplicaHandle> started;
  {
    MutexLock lock(&mu_);
    Job& job = jobs_.at(dir);
    job.launch_error = error;
    for (const std::optional<ReplicaHandle>& shim : job.shims) {
      if (shim.has_value()) started.push_back(*shim);
    }
  }
  KILN_RETURN_IF_ERROR(Fault(LaunchStep::kLaunchFailed, -1));
  absl::Status stopped = absl::OkStatus();
  for (const ReplicaHandle& shim : started) {
    absl::Status s = supervisor_->Stop(shim, grace);
    if (stopped.ok()) stopped = s;
  }
  // The launch's outcome is in Status; what went wrong recording or stopping is returned too,
  // but the job is there either way.
  return recorded.ok() ? stopped : recorded;
}

absl::StatusOr<LocalRuntime::Job> LocalRuntime::LoadJob(const std::string& dir, const internal::JobManifest& manifest) {
  Job job;
  job.name = manifest.name;
  job.launch_error = internal::ReadLaunchError(dir);
  for (const internal::ManifestReplica& r : manifest.replicas) {
    job.tasks.push_back(r.task);
    job.places.push_back(r.place);
    KILN_ASSIGN_OR_RETURN(std::optional<ReplicaHandle> shim, supervisor_->Find(r.place.dir));
    job.shims.push_back(std::move(shim));
  }
  return job;
}

absl::StatusOr<LocalRuntime::Job> LocalRuntime::Snapshot(const std::string& dir) {
  {
    MutexLock lock(&mu_);
    auto it = jobs_.find(dir);
    if (it != jobs_.end()) return it->second;
  }
  absl::StatusOr<internal::JobManifest> manifest = internal::ReadManifest(dir);
  if (absl::IsNotFound(manifest.status())) return absl::NotFoundError(absl::StrCat("no job in ", dir));
  if (!manifest.ok()) return manifest.status();
  return LoadJob(dir, *manifest);
}

absl::StatusOr<std::optional<FoundJob>> LocalRuntime::FindJob(absl::string_view key) {
  if (!IsValidLaunchName(key)) return absl::InvalidArgumentError(absl::StrCat("bad job key \"", key, "\""));
  std::string dir = JoinPath(options_.jobs_root, key);
  absl::StatusOr<internal::JobManifest> manifest = internal::ReadManifest(dir);
  if (absl::IsNotFound(manifest.status())) {
    // A folder an earlier kiln made (before manifests): described once, then like any other.
    manifest = internal::LegacyManifest(dir, std::string(key));
    if (absl::IsNotFound(manifest.status())) return std::nullopt;
    KILN_RETURN_IF_ERROR(manifest.status());
    KILN_RETURN_IF_ERROR(internal::WriteFileAtomically(JoinPath(dir, internal::kJobManifestFile),
                                                       internal::ManifestToJson(*manifest), /*durable=*/false));
  }
  if (!manifest.ok()) return manifest.status();
  return FoundJob{.handle = HandleOf(dir), .annotation = manifest->annotation};
}

absl::Status LocalRuntime::Adopt(absl::string_view handle) {
  KILN_ASSIGN_OR_RETURN(std::string dir, JobDir(handle));
  {
    MutexLock lock(&mu_);
    auto it = jobs_.find(dir);
    if (it != jobs_.end() && it->second.watched) return absl::OkStatus();
  }
  absl::StatusOr<internal::JobManifest> manifest = internal::ReadManifest(dir);
  if (absl::IsNotFound(manifest.status())) return absl::NotFoundError(absl::StrCat("no job in ", dir));
  KILN_RETURN_IF_ERROR(manifest.status());
  KILN_ASSIGN_OR_RETURN(Job job, LoadJob(dir, *manifest));
  job.watched = true;
  {
    MutexLock lock(&mu_);
    auto [it, inserted] = jobs_.try_emplace(dir, job);
    if (!inserted) {
      if (it->second.watched) return absl::OkStatus();  // adopted meanwhile
      it->second = job;
    }
    for (const std::string& replica_dir : job.Dirs()) job_of_replica_[replica_dir] = dir;
  }
  std::vector<int> ports;
  for (const internal::ManifestReplica& r : manifest->replicas)
    ports.insert(ports.end(), r.place.ports.begin(), r.place.ports.end());
  ports_.Restore(dir, ports);
  for (const std::optional<ReplicaHandle>& shim : job.shims) {
    if (shim.has_value()) KILN_RETURN_IF_ERROR(supervisor_->Adopt(*shim));
  }
  if (!job.launch_error.ok()) {
    // The launch had failed: go on stopping what it started.
    for (const std::optional<ReplicaHandle>& shim : job.shims) {
      if (shim.has_value()) KILN_RETURN_IF_ERROR(supervisor_->Stop(*shim, manifest->stop_grace));
    }
    return absl::OkStatus();
  }
  return StartMissing(dir, *manifest);
}

absl::StatusOr<JobStatus> LocalRuntime::Status(absl::string_view handle) {
  KILN_ASSIGN_OR_RETURN(std::string dir, JobDir(handle));
  KILN_ASSIGN_OR_RETURN(Job job, Snapshot(dir));
  JobStatus status;
  status.launch_error = job.launch_error;
  for (size_t i = 0; i < job.tasks.size(); ++i) {
    ReplicaState r;
    r.task = job.tasks[i];
    r.place = job.places[i];
    if (job.shims[i].has_value()) {
      KILN_ASSIGN_OR_RETURN(ReplicaStatus s, supervisor_->Poll(*job.shims[i]));
      r.phase = PhaseOf(s.state);
      r.exit_code = s.exit_code;
      r.term_signal = s.term_signal;
      r.stopped_by_kiln = s.stopped_by_kiln;
      r.end_time = s.end_time;
    } else {
      r.phase = job.launch_error.ok() ? ReplicaState::Phase::kPending : ReplicaState::Phase::kNotStarted;
    }
    status.replicas.push_back(std::move(r));
  }
  if (status.final()) ports_.Release(dir);  // nothing listens on them any more
  return status;
}

absl::Status LocalRuntime::Stop(absl::string_view handle, absl::Duration grace) {
  KILN_ASSIGN_OR_RETURN(std::string dir, JobDir(handle));
  KILN_ASSIGN_OR_RETURN(Job job, Snapshot(dir));
  absl::Status result = absl::OkStatus();
  for (const std::optional<ReplicaHandle>& shim : job.shims) {
    if (!shim.has_value()) continue;
    absl::Status s = supervisor_->Stop(*shim, grace);
    if (result.ok()) result = s;
  }
  return result;
}

absl::StatusOr<std::unique_ptr<LogReader>> LocalRuntime::OpenLog(absl::string_view handle, absl::string_view task) {
  KILN_ASSIGN_OR_RETURN(std::string dir, JobDir(handle));
  if (!IsValidLaunchName(task)) return absl::NotFoundError(absl::StrCat("no replica \"", task, "\""));
  {
    MutexLock lock(&mu_);
    auto it = jobs_.find(dir);
    if (it != jobs_.end()) {
      for (size_t i = 0; i < it->second.tasks.size(); ++i) {
        if (it->second.tasks[i] == task) return NewReplicaLogReader(it->second.places[i].dir);
      }
      return absl::NotFoundError(absl::StrCat("the job has no replica ", task));
    }
  }
  absl::StatusOr<internal::JobManifest> manifest = internal::ReadManifest(dir);
  if (absl::IsNotFound(manifest.status())) return absl::NotFoundError(absl::StrCat("no job in ", dir));
  KILN_RETURN_IF_ERROR(manifest.status());
  for (const internal::ManifestReplica& r : manifest->replicas) {
    if (r.task == task) return NewReplicaLogReader(r.place.dir);
  }
  return absl::NotFoundError(absl::StrCat("the job has no replica ", task));
}

absl::Status LocalRuntime::Remove(absl::string_view handle) {
  KILN_ASSIGN_OR_RETURN(std::string dir, JobDir(handle));
  absl::StatusOr<JobStatus> status = Status(handle);
  if (status.ok() && !status->final()) {
    return absl::FailedPreconditionError("the job still has replicas that may run; stop it and wait for them first");
  }
  if (!status.ok() && !absl::IsNotFound(status.status())) return status.status();
  {
    MutexLock lock(&mu_);
    auto it = jobs_.find(dir);
    if (it != jobs_.end()) {
      for (const std::string& replica_dir : it->second.Dirs()) job_of_replica_.erase(replica_dir);
      jobs_.erase(it);
    }
  }
  ports_.Release(dir);
  std::error_code error;
  std::filesystem::remove_all(dir, error);
  if (error) return absl::ErrnoToStatus(error.value(), absl::StrCat("removing ", dir));
  return absl::OkStatus();
}

Subscription LocalRuntime::Subscribe(std::function<void(const std::string& name)> on_change) {
  return subscribers_.Add(std::move(on_change));
}

void LocalRuntime::OnShimExit(const ReplicaHandle& shim) {
  std::string name;
  {
    MutexLock lock(&mu_);
    auto job = job_of_replica_.find(shim.replica_dir);
    if (job == job_of_replica_.end()) return;
    auto it = jobs_.find(job->second);
    if (it == jobs_.end()) return;
    name = it->second.name;
  }
  subscribers_.Notify(name);
}

}  // namespace kiln::runtime
