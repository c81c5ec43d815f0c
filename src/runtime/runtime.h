#ifndef KILN_RUNTIME_RUNTIME_H_
#define KILN_RUNTIME_RUNTIME_H_

// The runtime seam: where a CustomJob's replicas (one process tree each) run.
//
// A worker pool expands into replicas; kiln asks a Runtime to Launch each one, stores the
// returned ReplicaHandle in its database, learns about exits through the exit callback (or
// Poll), and after a restart calls Adopt with the stored handles. Implementations:
// LocalRuntime (local_runtime.h, processes on this machine under a kiln-shim supervisor) and
// FakeRuntime (fake_runtime.h, for other modules' unit tests).
//
// Life of a replica as the Runtime reports it (ReplicaStatus::State):
//
//   Launch ──► kRunning ──(replica exits / is killed / Stop)──► kExited
//                  │
//                  └──(supervisor vanished without recording an exit)──► kLost
//
// kExited and kLost are final.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kiln::runtime {

// What to run for one replica.
// (Every member has a default initializer so designated initializers may omit any of them
// under -Wextra.)
struct ReplicaSpec {
  // Folder owned by this replica (e.g. $KILN_HOME/jobs/123/workerpool0-0); created by Launch
  // if missing. A relative path is made absolute against kiln's working directory.
  std::string replica_dir = {};
  // argv[0] is looked up in the PATH taken from `env` when it has no '/' (no PATH in `env`:
  // "/usr/local/bin:/usr/bin:/bin"). Never interpreted by a shell. Must not be empty.
  std::vector<std::string> argv = {};
  // The complete environment, "KEY=VALUE"; nothing is inherited from kiln.
  std::vector<std::string> env = {};
  // "" = replica_dir.
  std::string working_dir = {};
};

// Serializable identity of a launched replica. kiln stores Serialize() in its database so it
// can re-adopt the replica after a restart. Value type.
struct ReplicaHandle {
  std::string replica_dir = {};  // absolute
  int64_t shim_pid = 0;          // the supervisor's pid
  int64_t shim_start_ticks = 0;  // its start time (/proc/<pid>/stat field 22), defeats pid reuse
  std::string boot_id = {};      // /proc/sys/kernel/random/boot_id at launch; "" = unknown

  // A compact JSON object. Parse(Serialize()) == *this.
  std::string Serialize() const;
  // INVALID_ARGUMENT "replica handle: ..." for text Serialize did not produce.
  static absl::StatusOr<ReplicaHandle> Parse(absl::string_view text);

  friend bool operator==(const ReplicaHandle&, const ReplicaHandle&) = default;
};

struct ReplicaStatus {
  enum class State { kRunning, kExited, kLost };
  State state = State::kRunning;
  int exit_code = 0;                           // when exited normally (0 when killed by a signal)
  int term_signal = 0;                         // when killed by a signal (0 otherwise)
  bool stopped_by_kiln = false;                // a Stop reached the replica before it exited (not its failure)
  absl::Time end_time = absl::InfinitePast();  // when exited
};

// Thread-safe: every method may be called from any thread.
class Runtime {
 public:
  virtual ~Runtime() = default;

  // Starts one replica and returns at once. The replica keeps running if kiln dies.
  virtual absl::StatusOr<ReplicaHandle> Launch(const ReplicaSpec& spec) = 0;

  // Current state; never blocks. kLost when the supervisor is gone without recording an exit.
  virtual absl::StatusOr<ReplicaStatus> Poll(const ReplicaHandle& handle) = 0;

  // Asks the replica to stop: SIGTERM to its whole process group, then SIGKILL after `grace`.
  // Returns at once; idempotent (a later Stop may shorten the grace); a replica that already
  // exited (or is lost) is left alone and OK is returned. The stop is recorded
  // (ReplicaStatus::stopped_by_kiln).
  virtual absl::Status Stop(const ReplicaHandle& handle, absl::Duration grace) = 0;

  // Re-attaches to a replica launched by an earlier kiln process (after a restart): afterwards
  // its exit is notified through the exit callback again. If it has already exited or is lost,
  // the callback fires soon (asynchronously). Adopting a watched replica is a no-op.
  virtual absl::Status Adopt(const ReplicaHandle& handle) = 0;

  // The replica whose supervisor was started for `replica_dir`, if any: how kiln avoids
  // starting a replica twice when it died between Launch and recording the handle. nullopt
  // when nothing was ever started there. The result still needs Adopt to be watched.
  virtual absl::StatusOr<std::optional<ReplicaHandle>> Find(const std::string& replica_dir) = 0;
  // Called (from a runtime thread, never under a runtime lock) once whenever a launched or
  // adopted replica exits or is lost, so callers need not poll. Poll(handle) from inside the
  // callback already reports kExited or kLost. Set it before the first Launch/Adopt;
  // notifications that arrive while no callback is set are dropped.
  virtual void SetExitCallback(std::function<void(const ReplicaHandle&)> callback) = 0;
};

}  // namespace kiln::runtime

#endif  // KILN_RUNTIME_RUNTIME_H_
