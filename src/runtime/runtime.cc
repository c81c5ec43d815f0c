#include "runtime/runtime.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace kiln::runtime {

bool IsValidLaunchName(absl::string_view name) {
  if (name.empty() || name.size() > 200 || name == "." || name == "..") return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

absl::Status ValidateJobLaunch(const JobLaunch& launch) {
  if (!IsValidLaunchName(launch.key)) {
    return absl::InvalidArgumentError(
        absl::StrCat("job launch: key \"", launch.key, "\" must be a file name ([A-Za-z0-9._-], not . or ..)"));
  }
  if (launch.replicas.empty()) return absl::InvalidArgumentError("job launch: no replicas");
  if (launch.build == nullptr) return absl::InvalidArgumentError("job launch: no command builder");
  std::set<std::string> tasks;
  for (const ReplicaRequest& r : launch.replicas) {
    if (!IsValidLaunchName(r.task)) {
      return absl::InvalidArgumentError(absl::StrCat("job launch: task \"", r.task, "\" must be a file name"));
    }
    if (!tasks.insert(r.task).second) {
      return absl::InvalidArgumentError(absl::StrCat("job launch: task ", r.task, " appears twice"));
    }
    if (r.ports < 0)
      return absl::InvalidArgumentError(absl::StrCat("job launch: task ", r.task, " asks for < 0 ports"));
  }
  return absl::OkStatus();
}

bool JobStatus::final() const {
  for (const ReplicaState& r : replicas) {
    if (!r.final()) return false;
  }
  return true;
}

bool JobStatus::running() const {
  if (replicas.empty() || !launch_error.ok()) return false;
  for (const ReplicaState& r : replicas) {
    if (r.phase != ReplicaState::Phase::kRunning) return false;
  }
  return true;
}

const ReplicaState* JobStatus::Find(absl::string_view task) const {
  for (const ReplicaState& r : replicas) {
    if (r.task == task) return &r;
  }
  return nullptr;
}

}  // namespace kiln::runtime
