#include "runtime/shim.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"
#include "runtime/replica_layout.h"
#include "runtime/shim_output.h"

namespace kiln::runtime {
namespace {

constexpr int64_t kDefaultGraceMs = 10 * 1000;  // SIGTERM without a stop file
constexpr int64_t kMaxGraceMs = int64_t{366} * 24 * 3600 * 1000;
constexpr int64_t kReapBoundMs = 5 * 1000;  // waiting for a SIGKILLed group
constexpr char kDefaultPath[] = "/usr/local/bin:/usr/bin:/bin";

using internal::JoinPath;
using internal::MonotonicMillis;
using internal::NowNanos;
using internal::WriteAll;

bool ParseInt64(const std::string& text, int64_t* out) {
  size_t begin = text.find_first_not_of(" \t\n");
  size_t end = text.find_last_not_of(" \t\n");
  if (begin == std::string::npos) return false;
  const char* last = text.data() + end + 1;
  auto [ptr, ec] = std::from_chars(text.data() + begin, last, *out);
  return ec == std::errc() && ptr == last;
}

bool ReadWholeFile(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[4096];
  out->clear();
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return n == 0;
    }
    out->append(buffer, static_cast<size_t>(n));
  }
}

// "<path>.tmp", then rename (no fsync). False with errno set on failure.
bool WriteAtomically(const std::string& path, const std::string& content) {
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = WriteAll(fd, content);
  int error = errno;
  ::close(fd);
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    if (ok) error = errno;
    errno = error;
    return false;
  }
  return true;
}

// Writes "kiln-shim: <message>\n" to stderr: in the replica before its exec, the stderr pipe.
void Say(const std::string& message) {
  std::string line = "kiln-shim: " + message + "\n";
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

void CloseInheritedDescriptors() {
  if (::close_range(3, ~0U, 0) == 0) return;
  // Kernels before 5.9: list /proc/self/fd first, then close (closing while listing would
  // disturb the listing).
  std::vector<int> fds;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    int own = ::dirfd(dir);
    while (dirent* entry = ::readdir(dir)) {
      int64_t fd = 0;
      if (ParseInt64(entry->d_name, &fd) && fd > 2 && fd != own) fds.push_back(static_cast<int>(fd));
    }
    ::closedir(dir);
  }
  for (int fd : fds) ::close(fd);
}

// Opens `path` and makes it descriptor `target`.
bool OpenAs(const char* path, int flags, int target) {
  int fd = ::open(path, flags, 0644);
  if (fd < 0) return false;
  if (fd == target) return true;
  bool ok = ::dup2(fd, target) >= 0;
  ::close(fd);
  return ok;
}

// The value of NAME in a "KEY=VALUE" list (first occurrence, as getenv would).
const std::string* FindEnv(const std::vector<std::string>& env, const std::string& name) {
  for (const std::string& entry : env) {
    if (entry.size() > name.size() && entry[name.size()] == '=' && entry.compare(0, name.size(), name) == 0) {
      return &entry;
    }
  }
  return nullptr;
}

// Where execve should look for argv0, in order.
std::vector<std::string> ExecCandidates(const std::string& argv0, const std::vector<std::string>& env) {
  if (argv0.find('/') != std::string::npos) return {argv0};
  const std::string* entry = FindEnv(env, "PATH");
  std::string path = entry != nullptr ? entry->substr(5) : kDefaultPath;
  std::vector<std::string> candidates;
  size_t begin = 0;
  for (;;) {
    size_t end = path.find(':', begin);
    std::string dir = path.substr(begin, end == std::string::npos ? end : end - begin);
    candidates.push_back(JoinPath(dir.empty() ? "." : dir, argv0.c_str()));
    if (end == std::string::npos) return candidates;
    begin = end + 1;
  }
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

struct ExitRecord {
  int exit_code = 0;
  int signal = 0;
  bool stopped_by_kiln = false;
  int64_t end_unix_nanos = 0;
};

ExitRecord CannotRun() { return {internal::kCannotRunExitCode, 0, false, NowNanos(CLOCK_REALTIME)}; }

class Shim {
 public:
  int Run() {
    if (!Prepare()) return 1;
    if (!ReadHandOff()) return 0;                  // dismissed, or kiln went away: nothing was started
    if (!OpenStdio()) return Finish(CannotRun());  // the job learns of it, not "lost"
    std::string text;
    ShimSpec spec;
    std::string error;
    if (!ReadWholeFile(JoinPath(dir_, internal::kSpecFile), &text)) {
      output_.Note("cannot read the replica spec: " + std::string(std::strerror(errno)));
      return Finish(CannotRun());
    }
    if (!ParseShimSpec(text, &spec, &error)) {
      output_.Note("cannot read the replica spec: " + error);
      return Finish(CannotRun());
    }
    if (spec.shim_pid != ::getpid()) {
      // kiln finds a replica's supervisor through spec.json: never run under another's name.
      output_.Note("spec.json names shim " + std::to_string(spec.shim_pid) + ", not this one (" +
                   std::to_string(::getpid()) + ")");
      return Finish(CannotRun());
    }
    if (spec.argv.empty()) {
      output_.Note("cannot run an empty argv");
      return Finish(CannotRun());
    }
    if (!StartReplica(std::move(spec))) return Finish(CannotRun());
    // While the replica starts: record its pid and make the exit record's file ready, so that
    // nothing is created on the way from its exit to exit.json.
    WriteInPlace(internal::kReplicaPidFile, std::to_string(replica_pid_) + "\n");
    exit_temp_ = JoinPath(dir_, internal::kExitTempFile);
    exit_fd_ = ::open(exit_temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    WaitForReplica();
    KillAndReapGroup();
    output_.Drain();  // exit.json comes after the last of the log
    return Finish(record_);
  }

 private:
  // The standby part, done before kiln has a replica for this shim: no inherited descriptors
  // but the control socket (0); signals; subreaper.
  bool Prepare() {
    CloseInheritedDescriptors();
    ::signal(SIGHUP, SIG_IGN);  // kiln's session may go away
    ::signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGTERM, SIGINT, SIGCHLD}) sigaddset(&set, sig);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0 ||
        (signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
      return false;
    }
    // Descendants orphaned inside the replica are reparented to us, so we can reap them.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    return true;
  }

  // Reads "<absolute replica_dir>\n" from the control socket (fd 0). False at end of file
  // before a whole line: kiln dismissed this shim or died.
  bool ReadHandOff() {
    std::string line;
    char buffer[512];
    while (line.find('\n') == std::string::npos && line.size() <= internal::kMaxHandOffBytes) {
      ssize_t n = ::read(STDIN_FILENO, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      line.append(buffer, static_cast<size_t>(n));
    }
    size_t end = line.find('\n');
    if (end == std::string::npos || end == 0 || line[0] != '/') return false;
    dir_ = line.substr(0, end);
    return true;
  }

  // stdin from /dev/null (which also closes the control socket); the shim's own stdout and
  // stderr appended to replica.log (for anything written past ShimOutput); the replica's
  // output captured (shim_output.h).
  bool OpenStdio() {
    return OpenAs("/dev/null", O_RDONLY, STDIN_FILENO) && output_.Open(dir_) &&
           ::dup2(output_.log_fd(), STDOUT_FILENO) >= 0 && ::dup2(STDOUT_FILENO, STDERR_FILENO) >= 0;
  }

  // Replaces the content of `name` in place: cheap when the file exists already (a prepared
  // slot), and readers treat an empty file as "not yet".
  void WriteInPlace(const char* name, const std::string& content) {
    std::string path = JoinPath(dir_, name);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || !WriteAll(fd, content)) {
      output_.Note("cannot write " + path + ": " + std::strerror(errno));
    }
    if (fd >= 0) ::close(fd);
  }

  // Forks the replica into its own process group. False (reason logged) if it cannot.
  bool StartReplica(ShimSpec spec) {
    std::vector<std::string> candidates = ExecCandidates(spec.argv[0], spec.env);
    std::vector<char*> argv = CStrings(spec.argv);
    std::vector<char*> envp = CStrings(spec.env);
    const std::string& cwd = spec.working_dir.empty() ? dir_ : spec.working_dir;
    const std::string cannot_run = "cannot run '" + spec.argv[0] + "': ";

    pid_t pid = ::fork();
    if (pid < 0) {
      output_.Note(cannot_run + "fork: " + std::strerror(errno));
      return false;
    }
    if (pid == 0) {
      // The replica, before exec. The shim is single-threaded, so allocating here is safe.
      ::setpgid(0, 0);
      // dup2 clears O_CLOEXEC on 1 and 2; every other descriptor of the shim closes at exec.
      if (::dup2(output_.ChildStdout(), STDOUT_FILENO) < 0 || ::dup2(output_.ChildStderr(), STDERR_FILENO) < 0) {
        ::_exit(internal::kCannotRunExitCode);
      }
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::signal(SIGHUP, SIG_DFL);
      ::signal(SIGPIPE, SIG_DFL);
      if (::chdir(cwd.c_str()) != 0) {
        Say(cannot_run + "chdir " + cwd + ": " + std::strerror(errno));
        ::_exit(internal::kCannotRunExitCode);
      }
      int error = ENOENT;
      bool denied = false;
      for (const std::string& candidate : candidates) {
        ::execve(candidate.c_str(), argv.data(), envp.data());
        error = errno;
        if (error == EACCES) {
          denied = true;
        } else if (error != ENOENT && error != ENOTDIR) {
          break;  // the file exists but cannot be run: report that
        }
      }
      if (denied && (error == ENOENT || error == ENOTDIR)) error = EACCES;
      Say(cannot_run + std::strerror(error));
      ::_exit(internal::kCannotRunExitCode);
    }
    ::setpgid(pid, pid);  // also done by the child; whichever runs first wins the race
    output_.CloseChildEnds();
    replica_pid_ = pid;
    return true;
  }

  // running / stopping / killing until the replica's main process is reaped, copying its
  // output meanwhile.
  void WaitForReplica() {
    while (!replica_done_) {
      int timeout_ms = output_.TimeoutMs();
      if (stopping_ && !killed_) {
        int64_t left = deadline_ms_ - MonotonicMillis();
        if (left <= 0) {
          ::kill(-replica_pid_, SIGKILL);
          killed_ = true;
          continue;
        }
        int until_kill = static_cast<int>(std::min<int64_t>(left, INT_MAX));
        timeout_ms = timeout_ms < 0 ? until_kill : std::min(timeout_ms, until_kill);
      }
      pollfd fds[1 + internal::ShimOutput::kPollFdCount];
      fds[0] = {signal_fd_, POLLIN, 0};
      output_.FillPollFds(fds + 1);
      if (::poll(fds, 1 + internal::ShimOutput::kPollFdCount, timeout_ms) < 0 && errno != EINTR) {
        output_.Note("poll: " + std::string(std::strerror(errno)));
        return;  // KillAndReapGroup cleans up
      }
      output_.OnReadable(fds + 1);
      DrainSignals(/*accept_stop=*/true);
      ReapChildren();
    }
  }

  void DrainSignals(bool accept_stop) {
    signalfd_siginfo info;
    while (::read(signal_fd_, &info, sizeof(info)) == sizeof(info)) {
      if (accept_stop && (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT)) OnStopRequest();
    }
  }

  void OnStopRequest() {
    int64_t grace_ms = kDefaultGraceMs;
    bool by_kiln = false;
    std::string text;
    int64_t ms = 0;
    if (ReadWholeFile(JoinPath(dir_, internal::kStopFile), &text) && ParseInt64(text, &ms)) {
      grace_ms = std::clamp<int64_t>(ms, 0, kMaxGraceMs);
      by_kiln = true;
    }
    int64_t deadline_ms = MonotonicMillis() + grace_ms;
    record_.stopped_by_kiln = record_.stopped_by_kiln || by_kiln;
    if (stopping_) {
      deadline_ms_ = std::min(deadline_ms_, deadline_ms);
      return;
    }
    stopping_ = true;
    deadline_ms_ = deadline_ms;
    ::kill(-replica_pid_, SIGTERM);
  }

  // Reaps every exited child (the replica and orphans reparented to us).
  void ReapChildren() {
    for (;;) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) return;
      if (pid != replica_pid_) continue;
      replica_done_ = true;
      record_.end_unix_nanos = NowNanos(CLOCK_REALTIME);
      if (WIFSIGNALED(status)) {
        record_.signal = WTERMSIG(status);
      } else {
        record_.exit_code = WEXITSTATUS(status);
      }
    }
  }

  // The replica is done when its main process is: SIGKILL what is left of its group and wait
  // (bounded) until the group is empty, so that exit.json means "nothing of it runs".
  void KillAndReapGroup() {
    if (replica_pid_ <= 0) return;
    ::kill(-replica_pid_, SIGKILL);
    int64_t give_up_ms = MonotonicMillis() + kReapBoundMs;
    for (;;) {
      ReapChildren();
      if (::kill(-replica_pid_, 0) != 0 && errno == ESRCH) return;
      int64_t left = give_up_ms - MonotonicMillis();
      if (left <= 0) {
        output_.Note("some processes of the replica's group did not go away");
        return;
      }
      pollfd fd = {signal_fd_, POLLIN, 0};
      ::poll(&fd, 1, static_cast<int>(left));
      DrainSignals(/*accept_stop=*/false);
    }
  }

  int Finish(const ExitRecord& record) {
    std::string path = JoinPath(dir_, internal::kExitFile);
    std::string json = FormatExitJson(record.exit_code, record.signal, record.stopped_by_kiln, record.end_unix_nanos);
    // Atomic (rename) but not fsync'd: a kiln that dies reads it after restarting, and kiln
    // commits the outcome durably as soon as it sees it. Only a machine crash in that window
    // loses it, and the replica is then reported lost (the boot id changed), never misreported.
    bool written = false;
    if (exit_fd_ >= 0) {
      written = WriteAll(exit_fd_, json) && ::close(exit_fd_) == 0 && ::rename(exit_temp_.c_str(), path.c_str()) == 0;
      exit_fd_ = -1;
    }
    if (!written && !WriteAtomically(path, json)) {
      output_.Note("cannot write " + path + ": " + std::strerror(errno));
      return 1;
    }
    return 0;
  }

  std::string dir_;  // set by ReadHandOff
  internal::ShimOutput output_;
  int signal_fd_ = -1;
  int exit_fd_ = -1;  // exit.json.tmp, opened while the replica runs
  std::string exit_temp_;
  pid_t replica_pid_ = 0;  // also its process group id
  bool replica_done_ = false;
  bool stopping_ = false;
  bool killed_ = false;
  int64_t deadline_ms_ = 0;  // CLOCK_MONOTONIC time of the SIGKILL while stopping_
  ExitRecord record_;
};

}  // namespace

int RunShim() { return Shim().Run(); }

bool ParseShimSpec(const std::string& text, ShimSpec* spec, std::string* error) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) {
    *error = "not a JSON object";
    return false;
  }
  for (auto [field, out] : {std::pair{"argv", &spec->argv}, std::pair{"env", &spec->env}}) {
    auto it = json.find(field);
    if (it == json.end() || !it->is_array()) {
      *error = std::string("\"") + field + "\" must be an array of strings";
      return false;
    }
    out->clear();
    for (const nlohmann::json& item : *it) {
      if (!item.is_string()) {
        *error = std::string("\"") + field + "\" must be an array of strings";
        return false;
      }
      out->push_back(item.get<std::string>());
    }
  }
  auto dir = json.find("working_dir");
  if (dir != json.end() && !dir->is_string()) {
    *error = "\"working_dir\" must be a string";
    return false;
  }
  spec->working_dir = dir != json.end() ? dir->get<std::string>() : std::string();
  spec->shim_pid = 0;
  auto shim = json.find("shim");
  if (shim != json.end()) {
    auto pid = shim->is_object() ? shim->find("pid") : shim->end();
    if (!shim->is_object() || pid == shim->end() || !pid->is_number_integer()) {
      *error = "\"shim\" must be an object with an integer \"pid\"";
      return false;
    }
    spec->shim_pid = pid->get<int64_t>();
  }
  return true;
}

std::string FormatExitJson(int exit_code, int signal, bool stopped_by_kiln, int64_t end_unix_nanos) {
  // By hand rather than gmtime_r/strftime, which read the time zone database (a file).
  using std::chrono::days;
  using std::chrono::floor;
  using std::chrono::nanoseconds;
  using std::chrono::sys_days;
  std::chrono::sys_time<nanoseconds> end{nanoseconds(end_unix_nanos)};
  sys_days day = floor<days>(end);
  std::chrono::year_month_day date(day);
  std::chrono::hh_mm_ss<nanoseconds> time(end - day);
  char end_time[64];
  std::snprintf(end_time, sizeof(end_time), "%04d-%02u-%02uT%02d:%02d:%02d.%09lld+00:00", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()), static_cast<long long>(time.subseconds().count()));
  nlohmann::json json = {
      {"exit_code", exit_code}, {"signal", signal}, {"stopped_by_kiln", stopped_by_kiln}, {"end_time", end_time}};
  return json.dump() + "\n";
}

}  // namespace kiln::runtime
