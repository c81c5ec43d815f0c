#include "runtime/shim_supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "runtime/replica_files.h"

namespace kiln::runtime::internal {
namespace {


constexpr absl::Duration kMaxStopGrace = absl::Hours(24 * 366);
constexpr int kRefillQuietMs = 5;

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int PidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

absl::Status Errno(int error, absl::string_view what) { return absl::ErrnoToStatus(error, what); }

bool SameBoot(const ReplicaHandle& handle) {
  return handle.boot_id.empty() || BootId().empty() || handle.boot_id == BootId();
}

// The shim named by `handle`, checked against pid reuse.
struct VerifiedShim {
  int pidfd = -1;
  bool zombie = false;  // exited, not yet reaped
  bool child = false;   // this process's child
};

// NOT_FOUND when the handle's shim no longer exists (or its pid now names another process).
absl::StatusOr<VerifiedShim> OpenVerifiedShim(const ReplicaHandle& handle) {
  if (!SameBoot(handle)) return absl::NotFoundError("shim from another boot");
  pid_t pid = static_cast<pid_t>(handle.shim_pid);
  int pidfd = PidfdOpen(pid);
  if (pidfd < 0) {
    if (errno == ESRCH || errno == EINVAL) return absl::NotFoundError("shim gone");
    return Errno(errno, absl::StrCat("pidfd_open ", pid));
  }
  // Checked after opening: if the pid named another process then, its start time differs.
  absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
  if (!stat.ok() || stat->start_ticks != handle.shim_start_ticks) {
    ::close(pidfd);
    return absl::NotFoundError("shim gone");
  }
  return VerifiedShim{pidfd, stat->zombie, stat->parent_pid == ::getpid()};
}

bool ShimAlive(const ReplicaHandle& handle) {
  if (!SameBoot(handle)) return false;
  absl::StatusOr<ProcStat> stat = ReadProcStat(static_cast<pid_t>(handle.shim_pid));
  return stat.ok() && stat->start_ticks == handle.shim_start_ticks && !stat->zombie;
}

// exit.json as a status; NOT_FOUND when there is none yet.
absl::StatusOr<ReplicaStatus> ReadExit(const ReplicaHandle& handle) {
  KILN_ASSIGN_OR_RETURN(std::string text, ReadFile(JoinPath(handle.replica_dir, kExitFile)));
  absl::StatusOr<ExitRecord> record = ExitRecordFromJson(text);
  if (!record.ok()) {
    return absl::DataLossError(absl::StrCat(handle.replica_dir, ": ", record.status().message()));
  }
  ReplicaStatus status;
  status.state = ReplicaStatus::State::kExited;
  status.exit_code = record->exit_code;
  status.term_signal = record->signal;
  status.stopped_by_kiln = record->stopped_by_kiln;
  status.end_time = record->end_time;
  return status;
}

absl::Status MakeDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) return absl::OkStatus();
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Errno(error.value(), absl::StrCat("mkdir ", dir));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ShimSupervisor>> ShimSupervisor::Create(Options options) {
  if (options.shim_path.empty()) return absl::InvalidArgumentError("shim_path is required");
  if (::access(options.shim_path.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("kiln-shim not executable: ", options.shim_path, ": ", strerror(errno)));
  }
  int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return Errno(errno, "epoll_create1");
  int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    int error = errno;
    ::close(epoll_fd);
    return Errno(error, "eventfd");
  }
  epoll_event event = {};
  event.events = EPOLLIN;
  event.data.u64 = 0;
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &event) != 0) {
    int error = errno;
    ::close(wake_fd);
    ::close(epoll_fd);
    return Errno(error, "epoll_ctl");
  }
  return std::unique_ptr<ShimSupervisor>(new ShimSupervisor(std::move(options), epoll_fd, wake_fd));
}

ShimSupervisor::ShimSupervisor(Options options, int epoll_fd, int wake_fd)
    : options_(std::move(options)),
      epoll_fd_(epoll_fd),
      wake_fd_(wake_fd),
      pool_({.shim_path = options_.shim_path, .slot_root = options_.slot_root, .size = options_.warm}) {
  refill_requested_ = true;  // the first Launch finds what it needs ready
  watcher_ = std::thread([this] { WatchLoop(); });
  Wake();
}

ShimSupervisor::~ShimSupervisor() {
  {
    MutexLock lock(&mu_);
    shutting_down_ = true;
  }
  Wake();
  watcher_.join();
  MutexLock lock(&mu_);  // uncontended now; for the analysis
  for (auto& [cookie, watch] : watches_) ::close(watch.pidfd);
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void ShimSupervisor::Wake() {
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));  // fails only if the counter is full
  (void)ignored;
}

absl::StatusOr<ReplicaHandle> ShimSupervisor::Launch(const ReplicaSpec& spec) {
  if (spec.argv.empty()) return absl::InvalidArgumentError("replica spec: empty argv");
  if (spec.replica_dir.empty()) return absl::InvalidArgumentError("replica spec: no replica_dir");
  std::error_code error;
  std::string dir = std::filesystem::absolute(spec.replica_dir, error).lexically_normal();
  if (error) return Errno(error.value(), absl::StrCat("replica_dir ", spec.replica_dir));
  if (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  absl::StatusOr<ReplicaHandle> handle = LaunchIn(spec, dir);
  // Only now, whatever the outcome: the refill creates files, which would slow this launch's.
  {
    MutexLock lock(&mu_);
    refill_requested_ = true;
  }
  Wake();
  return handle;
}

absl::StatusOr<ReplicaHandle> ShimSupervisor::LaunchIn(const ReplicaSpec& spec, const std::string& dir) {
  KILN_ASSIGN_OR_RETURN(IdleShim shim, pool_.TakeShim());
  absl::Status status = PlaceReplicaDir(dir);
  // spec.json names the shim before the shim is given the folder: whatever happens next, a
  // restarted kiln finds the supervisor of this replica through it (Find).
  for (int attempt = 0; status.ok(); ++attempt) {
    ReplicaHandle handle = shim.identity;
    handle.replica_dir = dir;
    status = WriteFile(JoinPath(dir, kSpecFile), SpecToJson(spec, handle));
    if (status.ok()) status = HandOff(shim, dir);
    if (status.ok()) {
      MutexLock lock(&mu_);
      status = AddWatchLocked(handle, shim.pidfd, /*child=*/true);  // owns or closes the pidfd
      if (status.ok()) return handle;
      // Not watched: the shim would run the replica unsupervised. Stop it and reap it.
      if (WriteFile(JoinPath(dir, kStopFile), "0\n").ok()) {
        ::kill(static_cast<pid_t>(handle.shim_pid), SIGTERM);
      }
      ::waitpid(static_cast<pid_t>(handle.shim_pid), nullptr, 0);
      return status;
    }
    // An idle shim may have been killed while it waited: start a fresh one, once.
    if (!absl::IsUnavailable(status) || attempt > 0) break;
    Dismiss(shim);
    KILN_ASSIGN_OR_RETURN(shim, StartIdleShim(options_.shim_path));
    status = absl::OkStatus();
  }
  Dismiss(shim);
  return status;
}

absl::Status ShimSupervisor::PlaceReplicaDir(const std::string& dir) {
  if (std::optional<std::string> slot = pool_.TakeSlot()) {
    std::string parent = std::filesystem::path(dir).parent_path();
    KILN_RETURN_IF_ERROR(MakeDir(parent));
    // Onto a missing or empty folder only: a folder in use (a retry) keeps its files.
    if (::rename(slot->c_str(), dir.c_str()) == 0) return absl::OkStatus();
    pool_.ReturnSlot(*std::move(slot));
  }
  KILN_RETURN_IF_ERROR(MakeDir(dir));
  // A replica_dir may be reused (a retry): what the previous run left must not be read as ours.
  ::unlink(JoinPath(dir, kExitFile).c_str());
  ::unlink(JoinPath(dir, kStopFile).c_str());
  return absl::OkStatus();
}

absl::StatusOr<ReplicaStatus> ShimSupervisor::Poll(const ReplicaHandle& handle) {
  absl::StatusOr<ReplicaStatus> exited = ReadExit(handle);
  if (!absl::IsNotFound(exited.status())) return exited;
  if (ShimAlive(handle)) return ReplicaStatus{.state = ReplicaStatus::State::kRunning};
  // The shim may have written exit.json and exited since the first look.
  exited = ReadExit(handle);
  if (!absl::IsNotFound(exited.status())) return exited;
  return ReplicaStatus{.state = ReplicaStatus::State::kLost};
}

absl::Status ShimSupervisor::Stop(const ReplicaHandle& handle, absl::Duration grace) {
  if (ReadExit(handle).ok()) return absl::OkStatus();  // already exited: leave it alone
  grace = std::clamp(grace, absl::ZeroDuration(), kMaxStopGrace);
  std::string stop_file = JoinPath(handle.replica_dir, kStopFile);
  std::string content = absl::StrCat(absl::ToInt64Milliseconds(grace), "\n");
  {
    MutexLock lock(&mu_);
    auto by_pid = cookie_by_pid_.find(handle.shim_pid);
    if (by_pid != cookie_by_pid_.end()) {
      const Watch& watch = watches_.at(by_pid->second);
      if (watch.handle.shim_start_ticks == handle.shim_start_ticks) {
        KILN_RETURN_IF_ERROR(WriteFileAtomically(stop_file, content, false));
        if (PidfdSendSignal(watch.pidfd, SIGTERM) != 0 && errno != ESRCH) {
          return Errno(errno, absl::StrCat("pidfd_send_signal ", handle.shim_pid));
        }
        return absl::OkStatus();
      }
    }
  }
  // Not watched (e.g. Stop before Adopt after a restart).
  absl::StatusOr<VerifiedShim> shim = OpenVerifiedShim(handle);
  if (absl::IsNotFound(shim.status())) return absl::OkStatus();  // exited or lost
  if (!shim.ok()) return shim.status();
  absl::Status status = WriteFileAtomically(stop_file, content, false);
  if (status.ok() && PidfdSendSignal(shim->pidfd, SIGTERM) != 0 && errno != ESRCH) {
    status = Errno(errno, absl::StrCat("pidfd_send_signal ", handle.shim_pid));
  }
  ::close(shim->pidfd);
  return status;
}

absl::StatusOr<std::optional<ReplicaHandle>> ShimSupervisor::Find(const std::string& replica_dir) {
  std::error_code error;
  std::string dir = std::filesystem::absolute(replica_dir, error).lexically_normal();
  if (error) return Errno(error.value(), absl::StrCat("replica_dir ", replica_dir));
  if (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::string spec_path = JoinPath(dir, kSpecFile);
  absl::StatusOr<std::string> spec = ReadFile(spec_path);
  if (absl::IsNotFound(spec.status())) return std::nullopt;  // never launched
  if (!spec.ok()) return spec.status();
  // An empty spec.json is a prepared slot's, not yet written: no shim was given this folder.
  if (spec->empty()) return std::nullopt;
  absl::StatusOr<ReplicaHandle> shim = ShimOfSpec(*spec, dir);
  if (!shim.ok()) return absl::DataLossError(absl::StrCat(spec_path, ": ", shim.status().message()));
  // Adopt and Poll check that it is still that process (start time, boot id).
  return *shim;
}

absl::Status ShimSupervisor::Adopt(const ReplicaHandle& handle) {
  {
    MutexLock lock(&mu_);
    auto by_pid = cookie_by_pid_.find(handle.shim_pid);
    if (by_pid != cookie_by_pid_.end() &&
        watches_.at(by_pid->second).handle.shim_start_ticks == handle.shim_start_ticks) {
      return absl::OkStatus();  // already watched
    }
  }
  absl::StatusOr<VerifiedShim> shim = OpenVerifiedShim(handle);
  MutexLock lock(&mu_);
  if (absl::IsNotFound(shim.status())) {
    NotifySoonLocked(handle);
    return absl::OkStatus();
  }
  if (!shim.ok()) return shim.status();
  // A zombie's pidfd is readable at once, so the watcher reaps and notifies it right away.
  return AddWatchLocked(handle, shim->pidfd, shim->child);
}

void ShimSupervisor::SetExitCallback(std::function<void(const ReplicaHandle&)> callback) {
  MutexLock lock(&mu_);
  callback_ = std::move(callback);
}

absl::Status ShimSupervisor::AddWatchLocked(const ReplicaHandle& handle, int pidfd, bool child) {
  uint64_t cookie = next_cookie_++;
  epoll_event event = {};
  event.events = EPOLLIN;
  event.data.u64 = cookie;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, pidfd, &event) != 0) {
    int error = errno;
    ::close(pidfd);
    return Errno(error, "epoll_ctl");
  }
  watches_[cookie] = Watch{handle, pidfd, child};
  cookie_by_pid_[handle.shim_pid] = cookie;
  return absl::OkStatus();
}

void ShimSupervisor::NotifySoonLocked(const ReplicaHandle& handle) {
  pending_.push_back(handle);
  Wake();
}

void ShimSupervisor::WatchLoop() {
  constexpr int kMaxEvents = 64;
  epoll_event events[kMaxEvents];
  for (;;) {
    // A requested refill waits for the launched replica's exit, or for a quiet moment: its
    // file creations slow whatever else creates files or syncs at the same time.
    bool pending;
    {
      MutexLock lock(&mu_);
      pending = refill_requested_;
    }
    int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, pending ? kRefillQuietMs : -1);
    if (n < 0 && errno != EINTR) return;  // EBADF/EINVAL: a bug; nothing left to watch with
    std::vector<ReplicaHandle> ended;
    std::function<void(const ReplicaHandle&)> callback;
    bool refill = false;
    {
      MutexLock lock(&mu_);
      for (int i = 0; i < n; ++i) {
        uint64_t cookie = events[i].data.u64;
        if (cookie == 0) {
          uint64_t count;
          ssize_t ignored = ::read(wake_fd_, &count, sizeof(count));
          (void)ignored;
          continue;
        }
        auto it = watches_.find(cookie);
        if (it == watches_.end()) continue;
        Watch& watch = it->second;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, watch.pidfd, nullptr);
        ::close(watch.pidfd);
        // Safe: an unreaped child's pid cannot have been recycled.
        if (watch.child) ::waitpid(static_cast<pid_t>(watch.handle.shim_pid), nullptr, WNOHANG);
        auto by_pid = cookie_by_pid_.find(watch.handle.shim_pid);
        if (by_pid != cookie_by_pid_.end() && by_pid->second == cookie) {
          cookie_by_pid_.erase(by_pid);
        }
        ended.push_back(std::move(watch.handle));
        watches_.erase(it);
      }
      if (shutting_down_) return;
      for (ReplicaHandle& handle : pending_) ended.push_back(std::move(handle));
      pending_.clear();
      if (!ended.empty()) callback = callback_;
      if (n == 0 || !ended.empty()) refill = std::exchange(refill_requested_, false);
    }
    if (callback) {
      for (const ReplicaHandle& handle : ended) callback(handle);
    }
    // After the exits: starting a shim and making a slot take ~1 ms and must not delay them.
    if (refill) pool_.Refill();
  }
}

}  // namespace kiln::runtime::internal
