#ifndef KILN_RUNTIME_FAKE_RUNTIME_H_
#define KILN_RUNTIME_FAKE_RUNTIME_H_

// FakeRuntime: a Runtime for other modules' unit tests. Nothing runs; the test decides what
// happens to each replica and when the exit callback fires.
//
//   FakeRuntime runtime;
//   Scheduler scheduler(runtime);                  // code under test calls Launch/Stop/...
//   ...
//   ReplicaHandle h = runtime.handles()[0];
//   runtime.Finish(h, {.state = ReplicaStatus::State::kExited, .exit_code = 3});
//   // → Poll(h) reports it and the exit callback ran synchronously on this thread.
//
// Threading: all methods are thread-safe; the exit callback runs on the thread calling
// Finish/FireExit, with no lock held. Replicas are keyed by replica_dir.
//
// Per replica: Launch / Adopt ──► kRunning ──SetStatus / Finish──► whatever the test says.
// Stop only records the request (stops()); the test decides whether and how it ends.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "runtime/runtime.h"

namespace kiln::runtime {

class FakeRuntime final : public Runtime {
 public:
  struct StopRequest {
    ReplicaHandle handle;
    absl::Duration grace;
  };

  // Records the spec; the handle has shim_pid 1000 + n and shim_start_ticks n (n counts
  // launches from 1). Fails with the status from FailNextLaunch, once.
  absl::StatusOr<ReplicaHandle> Launch(const ReplicaSpec& spec) override {
    MutexLock lock(&mu_);
    if (!next_launch_error_.ok()) return std::exchange(next_launch_error_, absl::OkStatus());
    launches_.push_back(spec);
    int64_t n = static_cast<int64_t>(launches_.size());
    ReplicaHandle handle{
        .replica_dir = spec.replica_dir, .shim_pid = 1000 + n, .shim_start_ticks = n, .boot_id = "fake-boot"};
    handles_.push_back(handle);
    statuses_[spec.replica_dir] = ReplicaStatus{};
    return handle;
  }

  // NOT_FOUND for a replica never launched or adopted.
  absl::StatusOr<ReplicaStatus> Poll(const ReplicaHandle& handle) override {
    MutexLock lock(&mu_);
    auto it = statuses_.find(handle.replica_dir);
    if (it == statuses_.end()) {
      return absl::NotFoundError(absl::StrCat("fake runtime: no replica ", handle.replica_dir));
    }
    return it->second;
  }

  absl::Status Stop(const ReplicaHandle& handle, absl::Duration grace) override {
    MutexLock lock(&mu_);
    stops_.push_back({handle, grace});
    return absl::OkStatus();
  }

  // Records the handle; a replica unknown so far starts as kRunning.
  absl::Status Adopt(const ReplicaHandle& handle) override {
    MutexLock lock(&mu_);
    adopted_.push_back(handle);
    statuses_.try_emplace(handle.replica_dir);
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<ReplicaHandle>> Find(const std::string& replica_dir) override {
    MutexLock lock(&mu_);
    for (const ReplicaHandle& h : handles_) {
      if (h.replica_dir == replica_dir) return h;
    }
    return std::nullopt;
  }

  void SetExitCallback(std::function<void(const ReplicaHandle&)> callback) override {
    MutexLock lock(&mu_);
    callback_ = std::move(callback);
  }

  // --- Test controls ---

  // What Poll reports from now on (no callback).
  void SetStatus(const ReplicaHandle& handle, const ReplicaStatus& status) {
    MutexLock lock(&mu_);
    statuses_[handle.replica_dir] = status;
  }
  // Runs the exit callback for `handle` on this thread (if one is set).
  void FireExit(const ReplicaHandle& handle) {
    std::function<void(const ReplicaHandle&)> callback;
    {
      MutexLock lock(&mu_);
      callback = callback_;
    }
    if (callback) callback(handle);
  }
  // SetStatus + FireExit: the replica ends as `status` says.
  void Finish(const ReplicaHandle& handle, const ReplicaStatus& status) {
    SetStatus(handle, status);
    FireExit(handle);
  }
  // The next Launch fails with `status` (and records nothing).
  void FailNextLaunch(absl::Status status) {
    MutexLock lock(&mu_);
    next_launch_error_ = std::move(status);
  }

  std::vector<ReplicaSpec> launches() const {
    MutexLock lock(&mu_);
    return launches_;
  }
  std::vector<ReplicaHandle> handles() const {  // in launch order
    MutexLock lock(&mu_);
    return handles_;
  }
  std::vector<StopRequest> stops() const {
    MutexLock lock(&mu_);
    return stops_;
  }
  std::vector<ReplicaHandle> adopted() const {
    MutexLock lock(&mu_);
    return adopted_;
  }

 private:
  mutable Mutex mu_;
  std::vector<ReplicaSpec> launches_ ABSL_GUARDED_BY(mu_);
  std::vector<ReplicaHandle> handles_ ABSL_GUARDED_BY(mu_);
  std::vector<StopRequest> stops_ ABSL_GUARDED_BY(mu_);
  std::vector<ReplicaHandle> adopted_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, ReplicaStatus> statuses_ ABSL_GUARDED_BY(mu_);  // by replica_dir
  std::function<void(const ReplicaHandle&)> callback_ ABSL_GUARDED_BY(mu_);
  absl::Status next_launch_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kiln::runtime

#endif  // KILN_RUNTIME_FAKE_RUNTIME_H_
