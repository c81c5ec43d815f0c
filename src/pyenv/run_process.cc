#include "pyenv/run_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace kiln::pyenv {
namespace {

absl::Status ErrnoStatus(int err, absl::string_view what) {
  std::string message = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::InternalError(message);
  }
}

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Owns the posix_spawn attribute objects for one call.
class SpawnSetup {
 public:
  SpawnSetup() {
    ::posix_spawn_file_actions_init(&actions_);
    ::posix_spawnattr_init(&attr_);
  }
  ~SpawnSetup() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  posix_spawn_file_actions_t* actions() { return &actions_; }
  posix_spawnattr_t* attr() { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

// Waits until `pid` (our unreaped child) has exited or `deadline` passes, without reaping it.
// Returns true if it exited.
absl::StatusOr<bool> WaitForExit(pid_t pid, absl::Time deadline) {
  UniqueFd pidfd(PidfdOpen(pid));
  if (pidfd.valid()) {
    absl::Status error;
    bool exited = false;
    while (true) {
      absl::Duration remaining = deadline - absl::Now();
      if (remaining <= absl::ZeroDuration()) break;
      int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(remaining, absl::Milliseconds(1)));
      struct pollfd pfd = {pidfd.get(), POLLIN, 0};
      int ready = ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(ms, INT_MAX)));
      if (ready > 0) {
        exited = true;
        break;
      }
      if (ready < 0 && errno != EINTR) {
        error = ErrnoStatus(errno, "poll on pidfd");
        break;
      }
    }
    if (!error.ok()) return error;
    return exited;
  }
  // No pidfd (kernel < 5.3): poll waitid without reaping, with short sleeps.
  while (true) {
    siginfo_t info = {};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) < 0 && errno != EINTR) {
      return ErrnoStatus(errno, "waitid");
    }
    if (info.si_pid == pid) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

}  // namespace

absl::StatusOr<int> RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                               const std::string& working_dir, const std::string& log_path, absl::Duration timeout) {
  if (argv.empty() || argv[0].empty()) return absl::InvalidArgumentError("RunProcess: empty argv");
  if (!working_dir.empty()) {
    struct stat st;
    if (::stat(working_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::NotFoundError(absl::StrCat("working directory ", working_dir, " does not exist"));
    }
  }
  const std::string out_path = log_path.empty() ? "/dev/null" : log_path;
  UniqueFd out_fd(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!out_fd.valid()) return ErrnoStatus(errno, absl::StrCat("cannot open log ", out_path));

  SpawnSetup setup;
  ::posix_spawn_file_actions_addopen(setup.actions(), 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(setup.actions(), out_fd.get(), 1);
  ::posix_spawn_file_actions_adddup2(setup.actions(), out_fd.get(), 2);
  // Descriptors other threads opened without O_CLOEXEC must not leak into the child.
  ::posix_spawn_file_actions_addclosefrom_np(setup.actions(), 3);
  if (!working_dir.empty()) {
    ::posix_spawn_file_actions_addchdir_np(setup.actions(), working_dir.c_str());
  }
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  sigset_t default_signals;
  sigfillset(&default_signals);
  sigdelset(&default_signals, SIGKILL);
  sigdelset(&default_signals, SIGSTOP);
  ::posix_spawnattr_setflags(setup.attr(), POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  ::posix_spawnattr_setpgroup(setup.attr(), 0);
  ::posix_spawnattr_setsigmask(setup.attr(), &empty_mask);
  ::posix_spawnattr_setsigdefault(setup.attr(), &default_signals);

  std::vector<char*> argv_ptrs;
  for (const std::string& arg : argv) argv_ptrs.push_back(const_cast<char*>(arg.c_str()));
  argv_ptrs.push_back(nullptr);
  std::vector<char*> env_ptrs;
  for (const std::string& var : env) env_ptrs.push_back(const_cast<char*>(var.c_str()));
  env_ptrs.push_back(nullptr);

  pid_t pid = -1;
  const absl::Time deadline = absl::Now() + timeout;
  int rc = ::posix_spawn(&pid, argv[0].c_str(), setup.actions(), setup.attr(), argv_ptrs.data(), env_ptrs.data());
  out_fd.reset();  // the child has its copies
  if (rc != 0) return ErrnoStatus(rc, absl::StrCat("cannot run ", argv[0]));

  absl::StatusOr<bool> exited = WaitForExit(pid, deadline);
  // The leader is not reaped yet, so its process group id cannot have been reused: kill the
  // whole group (stragglers after a normal exit; everything on timeout or error).
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoStatus(errno, absl::StrCat("waitpid ", pid));
  }
  if (!exited.ok()) return exited.status();
  if (!*exited) {
    return absl::DeadlineExceededError(absl::StrCat(argv[0], " did not finish within ", absl::FormatDuration(timeout),
                                                    "; its process group was killed"));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return absl::InternalError(absl::StrCat("unexpected wait status ", status, " for ", argv[0]));
}

}  // namespace kiln::pyenv
