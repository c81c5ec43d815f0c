#include "scheduling/ledger.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace kiln::scheduling {
namespace {

// Slack for sums of fractional requests (0.1 + 0.2 must fit in 0.3).
constexpr double kEpsilon = 1e-6;
// How many holders a reason names before "and N more".
constexpr size_t kMaxHoldersNamed = 3;

std::string Fixed1(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

std::string Factor(double f) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%gx", f);
  return buf;
}

bool SameDemands(const std::vector<ReplicaDemand>& a, const std::vector<ReplicaDemand>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const int count = a[i].accelerator_count;
    if (a[i].task_name != b[i].task_name || a[i].cpus != b[i].cpus || a[i].memory_gib != b[i].memory_gib ||
        count != b[i].accelerator_count || (count > 0 && a[i].accelerator_type != b[i].accelerator_type)) {
      return false;
    }
  }
  return true;
}

absl::Status ValidateDemands(const std::string& job, const std::vector<ReplicaDemand>& demands) {
  if (job.empty()) return absl::InvalidArgumentError("job name is empty");
  if (demands.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("job ", job, " has no replicas"));
  }
  std::set<std::string> tasks;
  for (const ReplicaDemand& d : demands) {
    if (d.task_name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("job ", job, ": a replica has no task name"));
    }
    if (!tasks.insert(d.task_name).second) {
      return absl::InvalidArgumentError(absl::StrCat("job ", job, ": task ", d.task_name, " appears twice"));
    }
    if (!std::isfinite(d.cpus) || d.cpus < 0 || !std::isfinite(d.memory_gib) || d.memory_gib < 0 ||
        d.accelerator_count < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("job ", job, ": task ", d.task_name, " asks for a negative or non-finite amount"));
    }
    if (d.accelerator_count > 0 && d.accelerator_type.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("job ", job, ": task ", d.task_name, " asks for accelerators without a type"));
    }
  }
  return absl::OkStatus();
}

struct Totals {
  double cpus = 0;
  double memory_gib = 0;
  std::map<std::string, int> accelerators;  // type → count
};

Totals Sum(const std::vector<ReplicaDemand>& demands) {
  Totals t;
  for (const ReplicaDemand& d : demands) {
    t.cpus += d.cpus;
    t.memory_gib += d.memory_gib;
    if (d.accelerator_count > 0) t.accelerators[d.accelerator_type] += d.accelerator_count;
  }
  return t;
}

// capacity × factor, or +inf for factor 0 (unlimited).
double Schedulable(double capacity, double factor) { return factor == 0 ? INFINITY : capacity * factor; }

}  // namespace

Ledger::Ledger(Capacity capacity, Overcommit overcommit) : capacity_(std::move(capacity)), overcommit_(overcommit) {}

absl::StatusOr<Grant> Ledger::TryReserve(const std::string& job, const std::vector<ReplicaDemand>& demands) {
  KILN_RETURN_IF_ERROR(ValidateDemands(job, demands));
  const Totals want = Sum(demands);
  const double cpu_limit = Schedulable(capacity_.cpus, overcommit_.cpu);
  const double memory_limit = Schedulable(capacity_.memory_gib, overcommit_.memory);

  // Never: the job does not fit even on an idle kiln. Capacity is const, so no lock needed.
  std::vector<std::string> never;
  if (want.cpus > cpu_limit + kEpsilon) {
    never.push_back(absl::StrCat("needs ", Fixed1(want.cpus), " vCPU but at most ", Fixed1(cpu_limit),
                                 " are schedulable (", Fixed1(capacity_.cpus), " CPUs with overcommit ",
                                 Factor(overcommit_.cpu), ")"));
  }
  if (want.memory_gib > memory_limit + kEpsilon) {
    never.push_back(absl::StrCat("needs ", Fixed1(want.memory_gib), " GiB memory but at most ", Fixed1(memory_limit),
                                 " GiB are schedulable (", Fixed1(capacity_.memory_gib), " GiB with overcommit ",
                                 Factor(overcommit_.memory), ")"));
  }
  for (const auto& [type, count] : want.accelerators) {
    auto it = capacity_.accelerators.find(type);
    const size_t have = it == capacity_.accelerators.end() ? 0 : it->second.size();
    if (static_cast<size_t>(count) > have) {
      never.push_back(absl::StrCat("needs ", count, " ", type, " but this kiln has ", have));
    }
  }
  if (!never.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job, " can never be satisfied: ", absl::StrJoin(never, "; ")));
  }

  MutexLock lock(&mu_);
  if (auto it = jobs_.find(job); it != jobs_.end()) {
    if (SameDemands(it->second.demands, demands)) return it->second.grant;
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job, " already holds a reservation for different demands; release it first"));
  }

  // Not now: short resources, each with its holders.
  std::vector<std::string> waiting;
  if (used_cpus_ + want.cpus > cpu_limit + kEpsilon) {
    waiting.push_back(absl::StrCat("waiting for ", Fixed1(want.cpus), " vCPU (",
                                   Fixed1(std::max(0.0, cpu_limit - used_cpus_)), " of ", Fixed1(cpu_limit),
                                   " schedulable free with overcommit ", Factor(overcommit_.cpu), "; held by ",
                                   HoldersLocked("cpu"), ")"));
  }
  if (used_memory_gib_ + want.memory_gib > memory_limit + kEpsilon) {
    waiting.push_back(absl::StrCat("waiting for ", Fixed1(want.memory_gib), " GiB memory (",
                                   Fixed1(std::max(0.0, memory_limit - used_memory_gib_)), " of ", Fixed1(memory_limit),
                                   " GiB schedulable free with overcommit ", Factor(overcommit_.memory), "; held by ",
                                   HoldersLocked("memory"), ")"));
  }
  std::map<std::string, std::vector<std::string>> free_ids;  // type → free ids, in order
  for (const auto& [type, count] : want.accelerators) {
    const std::vector<std::string>& inventory = capacity_.accelerators.at(type);
    const auto holders = device_holder_.find(type);
    std::vector<std::string>& free = free_ids[type];
    for (const std::string& id : inventory) {
      if (holders == device_holder_.end() || !holders->second.contains(id)) free.push_back(id);
    }
    if (free.size() < static_cast<size_t>(count)) {
      waiting.push_back(absl::StrCat("waiting for ", count, " ", type, " (", free.size(), " of ", inventory.size(),
                                     " free; held by ", HoldersLocked(type), ")"));
    }
  }
  if (!waiting.empty()) return absl::ResourceExhaustedError(absl::StrJoin(waiting, "; "));

  Reservation r;
  r.demands = demands;
  r.cpus = want.cpus;
  r.memory_gib = want.memory_gib;
  std::map<std::string, size_t> next;  // type → index of the next free id to hand out
  for (const ReplicaDemand& d : demands) {
    if (d.accelerator_count <= 0) continue;
    const std::vector<std::string>& free = free_ids[d.accelerator_type];
    size_t& n = next[d.accelerator_type];
    std::vector<std::string>& ids = r.grant.device_ids_by_task[d.task_name];
    for (int i = 0; i < d.accelerator_count; ++i) ids.push_back(free[n++]);
  }
  Grant grant = r.grant;
  CommitLocked(job, std::move(r));
  return grant;
}

absl::Status Ledger::Restore(const std::string& job, const std::vector<ReplicaDemand>& demands, const Grant& grant) {
  KILN_RETURN_IF_ERROR(ValidateDemands(job, demands));
  const Totals want = Sum(demands);
  const auto refuse = [&job](absl::string_view why) {
    return absl::FailedPreconditionError(absl::StrCat("cannot restore the reservation of job ", job, ": ", why));
  };

  MutexLock lock(&mu_);
  if (auto it = jobs_.find(job); it != jobs_.end()) {
    if (SameDemands(it->second.demands, demands) && it->second.grant == grant) {
      return absl::OkStatus();
    }
    return refuse("it already holds a different reservation");
  }

  std::map<std::string, const ReplicaDemand*> by_task;
  for (const ReplicaDemand& d : demands) by_task[d.task_name] = &d;
  for (const auto& [task, ids] : grant.device_ids_by_task) {
    auto it = by_task.find(task);
    if (it == by_task.end()) return refuse(absl::StrCat("the grant names unknown task ", task));
    if (it->second->accelerator_count == 0 && !ids.empty()) {
      return refuse(absl::StrCat("task ", task, " asks for no accelerators but holds devices"));
    }
  }

  Reservation r;
  r.demands = demands;
  r.cpus = want.cpus;
  r.memory_gib = want.memory_gib;
  std::map<std::string, std::set<std::string>> seen;  // type → ids of this grant
  for (const ReplicaDemand& d : demands) {
    if (d.accelerator_count <= 0) continue;
    auto g = grant.device_ids_by_task.find(d.task_name);
    const size_t got = g == grant.device_ids_by_task.end() ? 0 : g->second.size();
    if (got != static_cast<size_t>(d.accelerator_count)) {
      return refuse(absl::StrCat("task ", d.task_name, " asks for ", d.accelerator_count, " ", d.accelerator_type,
                                 " but the grant holds ", got));
    }
    auto inventory = capacity_.accelerators.find(d.accelerator_type);
    for (const std::string& id : g->second) {
      if (inventory == capacity_.accelerators.end() ||
          std::find(inventory->second.begin(), inventory->second.end(), id) == inventory->second.end()) {
        return refuse(absl::StrCat(d.accelerator_type, " device ", id, " of task ", d.task_name,
                                   " is not in this kiln's inventory"));
      }
      if (!seen[d.accelerator_type].insert(id).second) {
        return refuse(absl::StrCat(d.accelerator_type, " device ", id, " is granted twice"));
      }
      auto holders = device_holder_.find(d.accelerator_type);
      if (holders != device_holder_.end()) {
        if (auto h = holders->second.find(id); h != holders->second.end()) {
          return refuse(
              absl::StrCat(d.accelerator_type, " device ", id, " of task ", d.task_name, " is held by ", h->second));
        }
      }
    }
    r.grant.device_ids_by_task[d.task_name] = g->second;
  }
  CommitLocked(job, std::move(r));
  return absl::OkStatus();
}

void Ledger::Release(const std::string& job) {
  MutexLock lock(&mu_);
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return;
  for (const ReplicaDemand& d : it->second.demands) {
    if (d.accelerator_count <= 0) continue;
    auto g = it->second.grant.device_ids_by_task.find(d.task_name);
    if (g == it->second.grant.device_ids_by_task.end()) continue;
    for (const std::string& id : g->second) device_holder_[d.accelerator_type].erase(id);
  }
  used_cpus_ = std::max(0.0, used_cpus_ - it->second.cpus);
  used_memory_gib_ = std::max(0.0, used_memory_gib_ - it->second.memory_gib);
  jobs_.erase(it);
  if (jobs_.empty()) used_cpus_ = used_memory_gib_ = 0;  // drop rounding residue
}

std::string Ledger::Describe() const {
  MutexLock lock(&mu_);
  const auto part = [](absl::string_view name, double used, double capacity, double factor, absl::string_view unit) {
    const double limit = Schedulable(capacity, factor);
    return absl::StrCat(name, " used ", Fixed1(used), " free ",
                        factor == 0 ? std::string("unlimited") : Fixed1(std::max(0.0, limit - used)), " of ",
                        factor == 0 ? std::string("unlimited") : Fixed1(limit), " ", unit, " (", Fixed1(capacity),
                        " x ", factor == 0 ? std::string("unlimited") : Factor(factor), ")");
  };
  std::string out = absl::StrCat(part("cpu", used_cpus_, capacity_.cpus, overcommit_.cpu, "vCPU"), "; ",
                                 part("memory", used_memory_gib_, capacity_.memory_gib, overcommit_.memory, "GiB"));
  for (const auto& [type, ids] : capacity_.accelerators) {
    auto holders = device_holder_.find(type);
    const size_t used = holders == device_holder_.end() ? 0 : holders->second.size();
    absl::StrAppend(&out, "; ", type, " used ", used, " free ", ids.size() - used, " of ", ids.size());
  }
  absl::StrAppend(&out, "; jobs ", jobs_.size());
  return out;
}

void Ledger::CommitLocked(const std::string& job, Reservation r) {
  for (const ReplicaDemand& d : r.demands) {
    auto g = r.grant.device_ids_by_task.find(d.task_name);
    if (d.accelerator_count <= 0 || g == r.grant.device_ids_by_task.end()) continue;
    for (const std::string& id : g->second) device_holder_[d.accelerator_type][id] = job;
  }
  used_cpus_ += r.cpus;
  used_memory_gib_ += r.memory_gib;
  jobs_.emplace(job, std::move(r));
}

std::string Ledger::HoldersLocked(absl::string_view resource) const {
  std::vector<std::string> names;  // jobs_ is ordered, so names are sorted
  for (const auto& [job, r] : jobs_) {
    bool holds = false;
    if (resource == "cpu") {
      holds = r.cpus > 0;
    } else if (resource == "memory") {
      holds = r.memory_gib > 0;
    } else {
      for (const ReplicaDemand& d : r.demands) {
        holds = holds || (d.accelerator_count > 0 && d.accelerator_type == resource);
      }
    }
    if (holds) names.push_back(job);
  }
  if (names.empty()) return "no job";
  if (names.size() <= kMaxHoldersNamed) return absl::StrJoin(names, ", ");
  const size_t more = names.size() - kMaxHoldersNamed;
  names.resize(kMaxHoldersNamed);
  return absl::StrCat(absl::StrJoin(names, ", "), " and ", more, " more");
}

}  // namespace kiln::scheduling
