#ifndef KILN_SCHEDULING_LEDGER_H_
#define KILN_SCHEDULING_LEDGER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/mutex.h"

namespace kiln::scheduling {

// What this kiln may hand out. CPU and memory are requests counted against the machine with
// overcommit (see Overcommit); accelerators are a hard inventory: type name (Vertex
// AcceleratorType, "NVIDIA_TESLA_T4") → device ids in preference order ({"0", "1"}).
struct Capacity {
  double cpus = 0;
  double memory_gib = 0;
  std::map<std::string, std::vector<std::string>> accelerators;
};

// Admission rule for CPU and memory: admit when reserved + request ≤ capacity × factor.
// A factor of 0 means unlimited. Accelerators are never overcommitted.
struct Overcommit {
  double cpu = 8.0;
  double memory = 4.0;
};

// What one replica of a job asks for (from its machineType and machineSpec).
struct ReplicaDemand {
  std::string task_name;  // "workerpool0-0"; unique within a job
  double cpus = 0;
  double memory_gib = 0;
  std::string accelerator_type;  // "" when accelerator_count is 0
  int accelerator_count = 0;
};

// What a job was given: task name → distinct device ids of its accelerator type. Only tasks
// with accelerator_count > 0 appear. Persist it (GrantToJson) to Restore after a restart.
struct Grant {
  std::map<std::string, std::vector<std::string>> device_ids_by_task;

  friend bool operator==(const Grant&, const Grant&) = default;
};

// The resource ledger of one kiln: which job holds which CPU, memory and devices.
//
// Threading: thread-safe; every public method takes one internal mutex, so calls are
// linearizable. No method blocks on anything else or calls back into the caller.
//
// Admission is all-or-nothing per job (gang admission): either every replica's demand is
// reserved at once or nothing is. The ledger does not queue; the caller retries a
// RESOURCE_EXHAUSTED job later (see README.md for head-of-line behaviour).
class Ledger {
 public:
  Ledger(Capacity capacity, Overcommit overcommit);

  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // This machine: CPUs usable by this process (sched_getaffinity, else
  // std::thread::hardware_concurrency, else 1) and memory (/proc/meminfo MemTotal, else
  // sysconf pages × page size, else 1 GiB). Both are > 0. No accelerators.
  static Capacity DetectMachine();

  // Reserves every demand of `job` at once.
  //   OK + Grant: admitted; device ids are distinct across replicas and across jobs, taken
  //     in inventory order.
  //   OK + existing grant: `job` already holds a reservation for the same demands
  //     (idempotent); FAILED_PRECONDITION if it holds one for different demands.
  //   INVALID_ARGUMENT: malformed demands (negative or non-finite amounts, duplicate task
  //     names, accelerator_count > 0 without a type, empty job name).
  //   FAILED_PRECONDITION "job ... can never be satisfied: ...": the job's total exceeds
  //     capacity × factor or the accelerator inventory, even on an idle kiln.
  //   RESOURCE_EXHAUSTED "waiting for ...": would fit on an idle kiln but not now; the
  //     message names each short resource and the jobs holding it, e.g.
  //     "waiting for 2 NVIDIA_TESLA_T4 (0 of 2 free; held by projects/p/locations/l/customJobs/7)".
  // Nothing is reserved unless OK is returned.
  absl::StatusOr<Grant> TryReserve(const std::string& job, const std::vector<ReplicaDemand>& demands);

  // Re-establishes `job`'s reservation after a kiln restart from a grant recorded earlier,
  // keeping its device ids. CPU and memory are counted without the admission check (the
  // replicas are already running). OK if `job` already holds exactly this reservation.
  // INVALID_ARGUMENT for malformed demands; FAILED_PRECONDITION if the grant does not match
  // the demands (task missing/unknown, wrong id count, repeated id), names a device not in
  // the inventory, or a device is held by another job, or `job` holds a different
  // reservation. Nothing is reserved unless OK is returned.
  absl::Status Restore(const std::string& job, const std::vector<ReplicaDemand>& demands, const Grant& grant);

  // Frees everything `job` holds. Idempotent; unknown jobs are ignored.
  void Release(const std::string& job);

  // One line for logs: used/schedulable CPU and memory, used/total per accelerator type and
  // the number of jobs holding reservations.
  std::string Describe() const;

 private:
  struct Reservation {
    std::vector<ReplicaDemand> demands;
    Grant grant;
    double cpus = 0;
    double memory_gib = 0;
  };

  // Applies `r` to the totals and device holders. Caller checked that it fits.
  void CommitLocked(const std::string& job, Reservation r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // "a, b and 2 more": the jobs holding `resource` ("cpu", "memory" or an accelerator type).
  std::string HoldersLocked(absl::string_view resource) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const Capacity capacity_;
  const Overcommit overcommit_;

  mutable Mutex mu_;
  std::map<std::string, Reservation> jobs_ ABSL_GUARDED_BY(mu_);
  // type → device id → holding job.
  std::map<std::string, std::map<std::string, std::string>> device_holder_ ABSL_GUARDED_BY(mu_);
  double used_cpus_ ABSL_GUARDED_BY(mu_) = 0;
  double used_memory_gib_ ABSL_GUARDED_BY(mu_) = 0;
};

// Grant ↔ JSON for kiln's store: {"deviceIdsByTask": {"workerpool0-0": ["0", "1"]}}.
// GrantFromJson returns INVALID_ARGUMENT for malformed JSON or a wrong shape.
std::string GrantToJson(const Grant& grant);
absl::StatusOr<Grant> GrantFromJson(absl::string_view json);

// The CUDA_VISIBLE_DEVICES value for `task` ("0,1"), "" when it holds no devices.
std::string CudaVisibleDevices(const Grant& grant, absl::string_view task);

}  // namespace kiln::scheduling

#endif  // KILN_SCHEDULING_LEDGER_H_
