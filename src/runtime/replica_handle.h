#ifndef KILN_RUNTIME_REPLICA_HANDLE_H_
#define KILN_RUNTIME_REPLICA_HANDLE_H_

// Internal to kiln_runtime: one replica as the local supervisor layer (shim_supervisor.h) sees
// it — what to run in which folder, the identity of the kiln-shim that supervises it, and how it
// ended. The job-level seam (runtime.h) hides all of this behind opaque job handles.

#include <cstdint>
#include <string>
#include <vector>

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

// Identity of a launched replica's supervisor: its folder and the shim's pid, start time and
// boot. Value type.
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

// A replica as its supervisor reports it:
//
//   Launch ──► kRunning ──(replica exits / is killed / Stop)──► kExited
//                  │
//                  └──(supervisor vanished without recording an exit)──► kLost
struct ReplicaStatus {
  enum class State { kRunning, kExited, kLost };
  State state = State::kRunning;
  int exit_code = 0;                           // when exited normally (0 when killed by a signal)
  int term_signal = 0;                         // when killed by a signal (0 otherwise)
  bool stopped_by_kiln = false;                // a Stop reached the replica before it exited (not its failure)
  absl::Time end_time = absl::InfinitePast();  // when exited
};

}  // namespace kiln::runtime

#endif  // KILN_RUNTIME_REPLICA_HANDLE_H_
