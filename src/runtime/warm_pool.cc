#include "runtime/warm_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "runtime/replica_files.h"

namespace kiln::runtime::internal {
namespace {

constexpr int kDismissWaitMs = 2000;

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

absl::Status Errno(int error, absl::string_view what) { return absl::ErrnoToStatus(error, what); }

// Distinguishes the pools of several LocalRuntimes in one process (tests).
std::atomic<uint64_t> next_instance{0};

// Slot folders are "<pid>-<instance>-<n>": true when <pid> names no live process.
bool LeftByAGoneProcess(const std::string& name) {
  std::vector<std::string> parts = absl::StrSplit(name, '-');
  int64_t pid = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &pid) || pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

absl::StatusOr<IdleShim> StartIdleShim(const std::string& shim_path) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return Errno(errno, "socketpair");
  }
  // The shim starts in its own session with default signal dispositions and SIGTERM blocked
  // (it reads SIGTERM from a signalfd; blocking from the start means an early Stop is queued
  // rather than killing a shim that has not set up yet).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all;
  sigfillset(&all);
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &term);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_adddup2(&files, pair[1], STDIN_FILENO);  // dup2 clears O_CLOEXEC
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
  std::string path = shim_path;
  char* argv[] = {path.data(), nullptr};
  char* envp[] = {nullptr};
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, path.c_str(), &files, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  ::close(pair[1]);
  if (rc != 0) {
    ::close(pair[0]);
    return Errno(rc, absl::StrCat("posix_spawn ", shim_path));
  }

  // The shim is our unreaped child, so its pid cannot be recycled under us here.
  IdleShim shim;
  shim.control_fd = pair[0];
  shim.identity.shim_pid = pid;
  shim.identity.boot_id = BootId();
  absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
  shim.pidfd = stat.ok() ? PidfdOpen(pid) : -1;
  if (!stat.ok() || shim.pidfd < 0) {
    absl::Status status = !stat.ok() ? stat.status() : Errno(errno, absl::StrCat("pidfd_open ", pid));
    Dismiss(shim);
    return status;
  }
  shim.identity.shim_start_ticks = stat->start_ticks;
  return shim;
}

absl::Status HandOff(IdleShim& shim, const std::string& replica_dir) {
  std::string line = absl::StrCat(replica_dir, "\n");
  if (line.size() > kMaxHandOffBytes) {
    return absl::InvalidArgumentError(absl::StrCat("replica_dir too long: ", replica_dir));
  }
  // One small write on a fresh stream socket is never split; MSG_NOSIGNAL: a gone shim is
  // EPIPE, not SIGPIPE.
  ssize_t n;
  do {
    n = ::send(shim.control_fd, line.data(), line.size(), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(line.size())) {
    return absl::UnavailableError(
        absl::StrCat("kiln-shim ", shim.identity.shim_pid, " is gone: ", n < 0 ? std::strerror(errno) : "short write"));
  }
  ::close(shim.control_fd);
  shim.control_fd = -1;
  return absl::OkStatus();
}

void Dismiss(IdleShim& shim) {
  if (shim.control_fd >= 0) ::close(shim.control_fd);
  shim.control_fd = -1;
  pid_t pid = static_cast<pid_t>(shim.identity.shim_pid);
  if (pid <= 0) {
    if (shim.pidfd >= 0) ::close(shim.pidfd);
    shim.pidfd = -1;
    return;
  }
  if (shim.pidfd >= 0) {
    pollfd fd = {shim.pidfd, POLLIN, 0};
    int rc;
    do {
      rc = ::poll(&fd, 1, kDismissWaitMs);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) ::kill(pid, SIGKILL);  // still our unreaped child: the pid is its
    ::close(shim.pidfd);
    shim.pidfd = -1;
  } else {
    ::kill(pid, SIGKILL);
  }
  ::waitpid(pid, nullptr, 0);
  shim.identity.shim_pid = 0;
}

WarmPool::WarmPool(Options options)
    : options_(std::move(options)),
      slot_prefix_(options_.slot_root.empty()
                       ? std::string()
                       : JoinPath(options_.slot_root, absl::StrCat(::getpid(), "-", next_instance++, "-"))) {
  if (options_.slot_root.empty()) return;
  std::error_code error;
  std::filesystem::create_directories(options_.slot_root, error);
  for (const auto& entry : std::filesystem::directory_iterator(options_.slot_root, error)) {
    if (LeftByAGoneProcess(entry.path().filename().string())) {
      std::filesystem::remove_all(entry.path(), error);
    }
  }
}

WarmPool::~WarmPool() {
  MutexLock lock(&mu_);
  for (IdleShim& shim : shims_) Dismiss(shim);
  std::error_code error;
  for (const std::string& slot : slots_) std::filesystem::remove_all(slot, error);
}

absl::StatusOr<IdleShim> WarmPool::TakeShim() {
  {
    MutexLock lock(&mu_);
    if (!shims_.empty()) {
      IdleShim shim = shims_.back();
      shims_.pop_back();
      return shim;
    }
  }
  return StartIdleShim(options_.shim_path);
}

std::optional<std::string> WarmPool::TakeSlot() {
  MutexLock lock(&mu_);
  if (slots_.empty()) return std::nullopt;
  std::string slot = std::move(slots_.back());
  slots_.pop_back();
  return slot;
}

void WarmPool::ReturnSlot(std::string slot) {
  MutexLock lock(&mu_);
  slots_.push_back(std::move(slot));
}

void WarmPool::Refill() {
  for (;;) {
    bool need_shim, need_slot;
    {
      MutexLock lock(&mu_);
      need_shim = static_cast<int>(shims_.size()) < options_.size;
      need_slot = !slot_prefix_.empty() && static_cast<int>(slots_.size()) < options_.size;
    }
    if (!need_shim && !need_slot) return;
    std::optional<IdleShim> shim;
    std::optional<std::string> slot;
    if (need_shim) {
      absl::StatusOr<IdleShim> started = StartIdleShim(options_.shim_path);
      if (!started.ok()) return;
      shim = *started;
    }
    if (need_slot) {
      absl::StatusOr<std::string> made = MakeSlot();
      if (made.ok()) slot = *std::move(made);
    }
    MutexLock lock(&mu_);
    if (shim) shims_.push_back(*shim);
    if (slot) slots_.push_back(*std::move(slot));
    if (need_slot && !slot) return;
  }
}

absl::StatusOr<std::string> WarmPool::MakeSlot() {
  std::string slot;
  {
    MutexLock lock(&mu_);
    slot = absl::StrCat(slot_prefix_, next_slot_++);
  }
  if (::mkdir(slot.c_str(), 0755) != 0) return Errno(errno, absl::StrCat("mkdir ", slot));
  for (const char* name : {kSpecFile, kReplicaPidFile, kLogFile, kExitTempFile}) {
    absl::Status status = WriteFile(JoinPath(slot, name), "");
    if (!status.ok()) {
      std::error_code error;
      std::filesystem::remove_all(slot, error);
      return status;
    }
  }
  return slot;
}

}  // namespace kiln::runtime::internal
