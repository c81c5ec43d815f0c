#ifndef KILN_RUNTIME_WARM_POOL_H_
#define KILN_RUNTIME_WARM_POOL_H_

// Internal to kiln_runtime: what LocalRuntime prepares ahead of launches, so that a launch
// neither starts a process nor creates files on its way to the replica's exec.
//
//   - Idle shims: kiln-shim started in its own session (default signal dispositions, SIGTERM
//     blocked, stdout/stderr /dev/null) with one end of a socket pair as its stdin. HandOff
//     sends it a replica_dir; Dismiss closes the socket, and the shim exits having done
//     nothing (shim.h). kiln dying closes the socket too, so an idle shim never outlives kiln
//     for long.
//   - Slots: folders holding the empty files of a replica folder (replica_layout.h), made in
//     `slot_root`, to be renamed into place as a replica_dir. Creating a file costs 0.1-0.3 ms
//     on some file systems (more when the disk is busy), opening an existing one ~10 µs.
//
//   WarmPool pool({.shim_path = ..., .slot_root = home + "/run/slots", .size = 1});
//   pool.Refill();                                   // off the launch path
//   KILN_ASSIGN_OR_RETURN(IdleShim shim, pool.TakeShim());
//   std::optional<std::string> slot = pool.TakeSlot();
//
// Threading: thread-safe. Refill runs on one thread at a time (LocalRuntime's watcher).

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "runtime/replica_handle.h"

namespace kiln::runtime::internal {

// A started kiln-shim that has no replica yet. Move-only by convention: exactly one owner
// hands it off or dismisses it.
struct IdleShim {
  ReplicaHandle identity;  // pid, start ticks and boot id; replica_dir empty
  int pidfd = -1;
  int control_fd = -1;  // kiln's end of the socket pair (O_CLOEXEC)
};

// Starts kiln-shim in a new session. An errno-based status if it cannot be started.
absl::StatusOr<IdleShim> StartIdleShim(const std::string& shim_path);

// Sends "<replica_dir>\n" and closes the control socket. UNAVAILABLE if the shim is gone (it
// must then be dismissed). The caller must have written <replica_dir>/spec.json naming it.
absl::Status HandOff(IdleShim& shim, const std::string& replica_dir);

// Closes the socket, waits (≤ 2 s, then SIGKILL) for the shim to exit, reaps it and closes
// the pidfd.
void Dismiss(IdleShim& shim);

class WarmPool {
 public:
  struct Options {
    std::string shim_path;
    std::string slot_root;  // "" = no slots
    int size = 1;           // idle shims and slots kept ready; 0 = none
  };

  // Makes slot_root and removes slots left there by processes that no longer exist.
  explicit WarmPool(Options options);
  // Dismisses the idle shims and removes the unused slots.
  ~WarmPool();

  WarmPool(const WarmPool&) = delete;
  WarmPool& operator=(const WarmPool&) = delete;

  // An idle shim: a ready one, else one started now.
  absl::StatusOr<IdleShim> TakeShim();
  // A ready slot's path; nullopt if none is ready.
  std::optional<std::string> TakeSlot();
  // Gives back a slot that could not be renamed into place (it is still a slot).
  void ReturnSlot(std::string slot);

  // Starts shims and makes slots until `size` of each are ready. Failures are dropped: a
  // launch then starts what it needs itself and reports the error.
  void Refill();

 private:
  absl::StatusOr<std::string> MakeSlot();

  const Options options_;
  const std::string slot_prefix_;  // "<slot_root>/<pid>-<instance>-"

  Mutex mu_;
  std::vector<IdleShim> shims_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> slots_ ABSL_GUARDED_BY(mu_);
  uint64_t next_slot_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kiln::runtime::internal

#endif  // KILN_RUNTIME_WARM_POOL_H_
