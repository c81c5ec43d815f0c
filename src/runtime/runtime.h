#ifndef KILN_RUNTIME_RUNTIME_H_
#define KILN_RUNTIME_RUNTIME_H_

// The runtime seam: where a CustomJob's replicas run. The unit is the whole job (every replica of
// every worker pool), because a cluster places a gang at once, possibly long after submission.
//
//   1. kiln plans the job (resources, what each replica runs) and calls LaunchJob with a
//      JobLaunch: the replicas it wants, how many ports each needs, and a CommandBuilder.
//   2. The runtime places the job when it can (LocalRuntime at once; a cluster when the
//      allocation starts), picks each replica's host and ports, asks the builder for every
//      replica's argv and environment (CLUSTER_SPEC, TF_CONFIG, MASTER_ADDR... are built from
//      those real addresses), and starts all replicas — or none: when one cannot start, those
//      already started are stopped and the job reports the launch error naming that replica.
//   3. kiln stores the returned handle (an opaque string only this runtime understands) and
//      learns about changes through Subscribe; Status never blocks.
//   4. After a restart kiln calls Adopt(handle); a job it launched but never recorded (kiln died
//      inside LaunchJob or before its commit) is found by its key with FindJob.
//
// A job as the runtime reports it (JobStatus), per replica (ReplicaState::Phase):
//
//   kPending ──(placed and started)──► kRunning ──(exits / killed / Stop)──► kExited
//      │                                  │
//      │                                  └──(supervisor vanished; processes killed)──► kLost
//      └──(the launch failed: this replica never started)──► kNotStarted
//
// kExited, kLost and kNotStarted are final; a job is final when every replica is. Nothing of a
// final job runs any more (a lost replica's processes were found and killed first), so whatever
// was reserved for it may be handed to the next job.
//
// Implementations: LocalRuntime (local_runtime.h: processes on this machine, each under a
// kiln-shim supervisor) and FakeRuntime (fake_runtime.h, for other modules' tests).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/callbacks.h"

namespace kiln::runtime {

// Where one replica was placed. The builder sees these before anything starts.
struct ReplicaPlace {
  std::string host = {};        // how its peers reach it ("127.0.0.1" locally)
  std::vector<int> ports = {};  // ReplicaRequest::ports distinct ports on `host`, free for it
  std::string dir = {};         // its own folder (home, logs), absolute, on the host
};

// What one replica runs, built once its place is known.
// (Every member has a default initializer so designated initializers may omit any of them.)
struct ReplicaCommand {
  // argv[0] is looked up in the PATH taken from `env` when it has no '/' (no PATH in `env`:
  // "/usr/local/bin:/usr/bin:/bin"). Never interpreted by a shell. Must not be empty.
  std::vector<std::string> argv = {};
  // The complete environment, "KEY=VALUE"; nothing is inherited from kiln.
  std::vector<std::string> env = {};
  // "" = the replica's folder (ReplicaPlace::dir).
  std::string working_dir = {};
};

// Builds every replica's command from every replica's place (both in JobLaunch::replicas
// order). A non-OK status fails the launch before anything starts. Called at most once per
// LaunchJob, on the calling thread or (a cluster runtime) a runtime thread; must not call back
// into the runtime.
using CommandBuilder =
    std::function<absl::StatusOr<std::vector<ReplicaCommand>>(const std::vector<ReplicaPlace>& places)>;

struct ReplicaRequest {
  std::string task = {};  // unique in the job: "workerpool0-0"; a file name (no '/', not "." or "..")
  int ports = 1;          // ports to reserve for it, ≥ 0
};

struct JobLaunch {
  // Identifies the job to the runtime, unique and stable (kiln uses the job's numeric id): a
  // second LaunchJob with a key already launched is ALREADY_EXISTS, and FindJob looks it up.
  // A file name: [A-Za-z0-9._-], not "." or "..".
  std::string key = {};
  // The caller's name for the job, passed back in notifications (Subscribe).
  std::string name = {};
  std::vector<ReplicaRequest> replicas = {};  // ≥ 1
  // Opaque to the runtime: kept with the job and returned by FindJob (kiln keeps its resource
  // reservation there, so one found after a crash is re-reserved exactly as it was).
  std::string annotation = {};
  // How long replicas already started get between SIGTERM and SIGKILL when the launch fails.
  absl::Duration stop_grace = absl::Seconds(10);
  CommandBuilder build = nullptr;
};

struct ReplicaState {
  enum class Phase { kPending, kRunning, kExited, kLost, kNotStarted };
  std::string task;
  Phase phase = Phase::kPending;
  int exit_code = 0;                           // kExited normally (0 when killed by a signal)
  int term_signal = 0;                         // kExited by a signal (0 otherwise)
  bool stopped_by_kiln = false;                // a Stop reached the replica before it ended (not its failure)
  absl::Time end_time = absl::InfinitePast();  // kExited
  ReplicaPlace place;                          // once placed

  bool final() const { return phase == Phase::kExited || phase == Phase::kLost || phase == Phase::kNotStarted; }
};

struct JobStatus {
  std::vector<ReplicaState> replicas;  // in JobLaunch::replicas order
  // Why the job is not placed yet (a cluster's reason: "Resources", "Priority"); "" otherwise.
  std::string pending_reason;
  // Non-OK once the launch failed: the message names the replica and the cause ("Replica
  // workerpool0-1 could not be started: ..."). Replicas that had started are being stopped.
  absl::Status launch_error;

  bool final() const;
  bool running() const;  // every replica kRunning
  const ReplicaState* Find(absl::string_view task) const;
};

// A job found by its key (FindJob).
struct FoundJob {
  std::string handle;
  std::string annotation;
};

enum class LogStream { kStdout, kStderr };

// One line of a replica's output (or a partial line the supervisor appended without its
// newline: one that waited too long or was too long).
struct LogLine {
  int64_t offset = 0;  // of its first byte in the raw log: unique and increasing per replica
  absl::Time time;     // when the supervisor read it from the replica
  LogStream stream = LogStream::kStdout;
  std::string text;  // without the newline

  bool operator==(const LogLine&) const = default;
};

// Which lines LogReader::VisitLines reads, and in which order.
struct LogReadOptions {
  // Lines read outside [since, until] are skipped without reading their bytes.
  absl::Time since = absl::InfinitePast();
  absl::Time until = absl::InfiniteFuture();
  bool newest_first = false;  // last line first
};

// One replica's output as its supervisor recorded it, readable until the job is removed.
// Thread-compatible: one reader per object.
class LogReader {
 public:
  virtual ~LogReader() = default;
  // Bytes of the raw log (stdout and stderr interleaved) from `offset`, at most `max_bytes`;
  // fewer (maybe none) at its current end.
  virtual absl::StatusOr<std::string> Read(int64_t offset, int64_t max_bytes) = 0;
  // The raw log's current length (0 when nothing was written).
  virtual int64_t Size() = 0;
  // The last `max_lines` lines, joined by "\n"; "" when there is no log. Cheap however long.
  virtual std::string Tail(int max_lines) = 0;
  // The recorded lines, in the order written (or reversed), until `visit` returns false.
  // Lines still being written wait for a later call, so a line never comes twice with
  // different times. Memory stays bounded however long the log. DATA_LOSS when the log's
  // index is malformed.
  virtual absl::Status VisitLines(const LogReadOptions& options, const std::function<bool(LogLine)>& visit) = 0;
  // Blocks until the log is longer than `offset`, the replica has ended, or `timeout` passes,
  // whichever comes first (callers re-check what they wait for either way).
  virtual void WaitForChange(int64_t offset, absl::Duration timeout) = 0;
};

// The seam's rules for a JobLaunch, which every Runtime checks first: INVALID_ARGUMENT naming
// the rule broken (a bad key or task name, a task twice, no replicas, no builder, ports < 0).
absl::Status ValidateJobLaunch(const JobLaunch& launch);
// A valid JobLaunch key or task name (usable as a file name): [A-Za-z0-9._-]+, not "." or "..",
// at most 200 bytes.
bool IsValidLaunchName(absl::string_view name);

// Thread-safe: every method may be called from any thread.
class Runtime {
 public:
  virtual ~Runtime() = default;

  // Places and starts every replica of `launch`, or none (see the file comment); returns the
  // job's handle. LocalRuntime places at once; a cluster runtime may return first and place
  // later (Status: kPending with a reason).
  // INVALID_ARGUMENT: a malformed launch (no replicas, a bad key or task name, no builder).
  // ALREADY_EXISTS: the key was launched before (FindJob returns it).
  // Another error means nothing started and nothing was kept. Once anything may have started,
  // the handle is returned and failures are reported by Status (launch_error).
  virtual absl::StatusOr<std::string> LaunchJob(const JobLaunch& launch) = 0;

  // The job launched under `key` (by this process or an earlier kiln), nullopt if none. Its
  // handle still needs Adopt to be watched.
  virtual absl::StatusOr<std::optional<FoundJob>> FindJob(absl::string_view key) = 0;

  // Watches a job launched by an earlier kiln process, so changes are notified again; finishes
  // what that process left half-done (starts the replicas a crash inside LaunchJob left
  // unstarted, with the places and commands it had chosen; goes on stopping after a failed
  // launch). Adopting a watched job is a no-op. INVALID_ARGUMENT for a handle this runtime did
  // not make; NOT_FOUND when the job's records are gone.
  virtual absl::Status Adopt(absl::string_view handle) = 0;

  // The job's current state; never waits for a replica. NOT_FOUND when its records are gone.
  virtual absl::StatusOr<JobStatus> Status(absl::string_view handle) = 0;

  // Stops every process of every replica: SIGTERM, then SIGKILL after `grace`; a job not yet
  // placed is withdrawn. Returns at once; idempotent (a later Stop may shorten the grace);
  // replicas that already ended are left alone. Stops are recorded (stopped_by_kiln).
  virtual absl::Status Stop(absl::string_view handle, absl::Duration grace) = 0;

  // The output of replica `task`. NOT_FOUND for a task the job does not have.
  virtual absl::StatusOr<std::unique_ptr<LogReader>> OpenLog(absl::string_view handle, absl::string_view task) = 0;

  // Forgets a final job and deletes what the runtime kept of it (logs included); OK when it is
  // gone already. FAILED_PRECONDITION while any replica may still run.
  virtual absl::Status Remove(absl::string_view handle) = 0;

  // `on_change(name)` runs (on a runtime thread, never under a runtime lock) whenever a watched
  // job changes: a replica started, ended or was lost; the launch failed. Status from inside
  // the callback already shows the change. Until the Subscription is cancelled.
  [[nodiscard]] virtual Subscription Subscribe(std::function<void(const std::string& name)> on_change) = 0;
};

}  // namespace kiln::runtime

#endif  // KILN_RUNTIME_RUNTIME_H_
