#include "control/local_planner.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "jobs/replica_plan.h"

namespace kiln::control {

absl::StatusOr<std::vector<int>> FreeLoopbackPorts(int count) {
  std::vector<int> fds;
  std::vector<int> ports;
  absl::Status status;
  for (int i = 0; i < count && status.ok(); ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      status = absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
      break;
    }
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      status = absl::UnavailableError(absl::StrCat("cannot find a free port: ", std::strerror(errno)));
      break;
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) ::close(fd);
  if (!status.ok()) return status;
  return ports;
}

LocalPlanner::LocalPlanner(std::string jobs_root, const jobs::ImageMap* images, const storage::ObjectStore* storage)
    : jobs_root_(std::move(jobs_root)), images_(images), storage_(storage) {}

absl::StatusOr<std::vector<ReplicaPlanner::Replica>> LocalPlanner::Plan(
    const google::cloud::aiplatform::v1::CustomJob& job) {
  int count = 0;
  for (const auto& pool : job.job_spec().worker_pool_specs()) {
    if (pool.ByteSizeLong() != 0) count += static_cast<int>(pool.replica_count());
  }
  jobs::JobContext context;
  context.job_name = job.name();
  context.job_id = job.name().substr(job.name().rfind('/') + 1);
  context.replica_root = absl::StrCat(jobs_root_, "/", context.job_id);
  absl::StatusOr<std::vector<int>> ports = FreeLoopbackPorts(count);
  if (!ports.ok()) return ports.status();
  context.ports = *std::move(ports);

  absl::StatusOr<std::vector<jobs::ReplicaPlan>> plans = jobs::PlanReplicas(job, context, *images_, *storage_);
  if (!plans.ok()) return plans.status();
  // The AIP_* folders exist before the code starts, as they do under Cloud Storage FUSE.
  if (job.job_spec().has_base_output_directory()) {
    absl::StatusOr<std::string> base = jobs::LocalOutputDirectory(job.job_spec(), "", *storage_);
    if (!base.ok()) return base.status();
    for (const char* sub : {"model", "checkpoints", "logs"}) {
      std::error_code error;
      std::filesystem::create_directories(std::filesystem::path(*base) / sub, error);
      if (error) {
        return absl::FailedPreconditionError(
            absl::StrCat("cannot create the output folder ", *base, sub, ": ", error.message()));
      }
    }
  }
  std::vector<Replica> replicas;
  for (jobs::ReplicaPlan& plan : *plans) {
    Replica r;
    r.task_name = plan.task_name;
    r.pool = plan.pool;
    r.spec.replica_dir = plan.replica_dir;
    r.spec.argv = std::move(plan.argv);
    r.spec.env = std::move(plan.env);
    r.spec.working_dir = plan.working_dir;
    replicas.push_back(std::move(r));
  }
  return replicas;
}

}  // namespace kiln::control
