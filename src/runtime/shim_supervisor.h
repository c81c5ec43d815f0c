#ifndef KILN_RUNTIME_SHIM_SUPERVISOR_H_
#define KILN_RUNTIME_SHIM_SUPERVISOR_H_

// Internal to kiln_runtime: the replica layer under ShimSupervisor. Each replica is a process
// tree on this machine supervised by its own kiln-shim (shim.h), in its own session, so it
// outlives kiln. ShimSupervisor (local_runtime.h) builds jobs out of these replicas.
//
//   auto supervisor = ShimSupervisor::Create({.shim_path = "/usr/lib/kiln/kiln-shim",
//                                             .slot_root = home + "/run/slots"});
//   (*supervisor)->SetExitCallback([&](const ReplicaHandle& h) { OnReplicaExit(h); });
//   KILN_ASSIGN_OR_RETURN(ReplicaHandle h, (*supervisor)->Launch(spec));
//   ... kiln restarts ...
//   (*supervisor)->Adopt(*(*supervisor)->Find(spec.replica_dir));
//
// Launching: a shim is started before it is needed and waits, idle, for a folder; the folder
// is prepared ahead too (warm_pool.h). Launch only renames the folder into place, writes
// spec.json naming the shim, and hands the folder over, so the path to the replica's exec has
// no process start and no file creation on it (both cost far more on some file systems and
// VMs than the rest of a launch). Destroying the runtime dismisses the idle shims.
//
// Threading: all methods are thread-safe. One watcher thread (started by Create, joined by
// the destructor) waits with epoll on a pidfd per watched shim plus an eventfd for wake-ups;
// when a shim exits it reaps it (if it is this process's child), then calls the exit callback
// on the watcher thread with no lock held. A Launch asks for a refill of the warm pool; the
// watcher does it after it has delivered a round of exits, or after 5 ms without events, so
// that its file creations never overlap a launch.
// Launch, Poll, Stop and Adopt never wait for a replica; they take `mu_` only briefly.
//
// How a watched shim moves through the watcher (per handle):
//
//   Launch / Adopt(alive) ──► watched (pidfd in epoll) ──pidfd readable──► reaped ──► callback
//   Adopt(gone)           ──► pending_ ─────────────── eventfd wake-up ──────────────► callback
//
// Identity: a handle names a shim by pid + start time (/proc/<pid>/stat field 22) + boot id,
// so a recycled pid is never mistaken for the shim. Poll: exit.json → kExited; else the shim
// alive → kRunning; else kLost. Destroying a ShimSupervisor never stops replicas.
//
// The integrator must not reap kiln's children wholesale (waitpid(-1, ...)), or shims would be
// reaped behind the watcher's back (their exits are still seen; Launch may fail to read the
// new shim's start time).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "runtime/replica_handle.h"
#include "runtime/warm_pool.h"

namespace kiln::runtime::internal {

class ShimSupervisor {
 public:
  struct Options {
    std::string shim_path;  // the kiln-shim executable (absolute path)
    // Where prepared replica folders wait (warm_pool.h); must be on the file system of the
    // replica folders, or slots are never used. "" = no slots.
    std::string slot_root = {};
    // Idle shims (and slots) kept ready; 0 = start each shim at launch.
    int warm = 1;
  };

  // Starts the watcher thread. INVALID_ARGUMENT without shim_path, FAILED_PRECONDITION if it
  // is not executable, an errno-based status if epoll/eventfd cannot be created.
  static absl::StatusOr<std::unique_ptr<ShimSupervisor>> Create(Options options);

  // Stops and joins the watcher thread. Replicas keep running. Must not be called from the
  // exit callback.
  ~ShimSupervisor();

  ShimSupervisor(const ShimSupervisor&) = delete;
  ShimSupervisor& operator=(const ShimSupervisor&) = delete;

  // Takes an idle shim (starting one if none is ready); makes replica_dir by renaming a
  // prepared slot into place (else mkdir, and removes a previous exit.json/stop); writes
  // spec.json naming the shim; hands the folder to the shim. Asks the watcher to refill the
  // pool. INVALID_ARGUMENT for an empty argv or replica_dir.
  absl::StatusOr<ReplicaHandle> Launch(const ReplicaSpec& spec);
  absl::StatusOr<ReplicaStatus> Poll(const ReplicaHandle& handle);
  // Writes <replica_dir>/stop (grace in ms) and SIGTERMs the shim through a pidfd.
  absl::Status Stop(const ReplicaHandle& handle, absl::Duration grace);
  absl::Status Adopt(const ReplicaHandle& handle);
  // The shim spec.json names (Launch writes it before the hand-off); nullopt without one.
  // DATA_LOSS for a spec.json that names no shim or is malformed.
  absl::StatusOr<std::optional<ReplicaHandle>> Find(const std::string& replica_dir);
  void SetExitCallback(std::function<void(const ReplicaHandle&)> callback);

 private:
  struct Watch {
    ReplicaHandle handle;
    int pidfd = -1;
    bool child = false;  // the shim is this process's child: the watcher reaps it
  };

  ShimSupervisor(Options options, int epoll_fd, int wake_fd);

  void WatchLoop();
  // Takes ownership of `pidfd` and adds it to epoll.
  absl::Status AddWatchLocked(const ReplicaHandle& handle, int pidfd, bool child) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues an exit notification for a shim that is already gone.
  void NotifySoonLocked(const ReplicaHandle& handle) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Wake();
  // Makes `dir` from a slot if one is ready, else with mkdir.
  absl::Status PlaceReplicaDir(const std::string& dir);
  // Launch once `dir` is absolute and normal.
  absl::StatusOr<ReplicaHandle> LaunchIn(const ReplicaSpec& spec, const std::string& dir);

  const Options options_;
  const int epoll_fd_;
  const int wake_fd_;  // eventfd; epoll cookie 0

  Mutex mu_;
  absl::flat_hash_map<uint64_t, Watch> watches_ ABSL_GUARDED_BY(mu_);          // by epoll cookie
  absl::flat_hash_map<int64_t, uint64_t> cookie_by_pid_ ABSL_GUARDED_BY(mu_);  // shim pid → cookie
  uint64_t next_cookie_ ABSL_GUARDED_BY(mu_) = 1;
  std::vector<ReplicaHandle> pending_ ABSL_GUARDED_BY(mu_);
  std::function<void(const ReplicaHandle&)> callback_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  bool refill_requested_ ABSL_GUARDED_BY(mu_) = false;

  WarmPool pool_;  // destroyed after the watcher is joined

  std::thread watcher_;  // runs WatchLoop; last member, started last
};

}  // namespace kiln::runtime::internal

#endif  // KILN_RUNTIME_SHIM_SUPERVISOR_H_
