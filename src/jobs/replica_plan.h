#ifndef KILN_JOBS_REPLICA_PLAN_H_
#define KILN_JOBS_REPLICA_PLAN_H_

// From an accepted CustomJob to the exact processes to launch: one ReplicaPlan per replica
// with its argv, complete environment and folders. Pure: starts nothing, creates nothing.
// Every variable set here is documented in docs/environment.md.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "jobs/image_map.h"
#include "storage/object_store.h"

namespace kiln::jobs {

struct ReplicaSite {
  std::string host;
  int port = 0;
  std::string dir;
};

struct JobContext {
  std::string job_name;  // projects/p/locations/l/customJobs/123
  std::string job_id;    // "123"
  std::string trial_id;  // "" unless a hyperparameter tuning trial
  // Where each replica runs, in replica order (the runtime's placement): its peers reach it at
  // host:port (CLUSTER_SPEC, TF_CONFIG, MASTER_ADDR/MASTER_PORT), and `dir` is its own folder
  // (HOME, and the working directory unless the image says otherwise).
  std::vector<ReplicaSite> sites;
  // Optional: CUDA_VISIBLE_DEVICES value ("0,1") per replica, in replica order; either empty
  // or one entry per replica ("" = do not set it for that replica).
  std::vector<std::string> accelerator_ids_per_replica;
};

struct ReplicaPlan {
  int pool = 0;  // workerpool<pool>-<index>
  int index = 0;
  std::string task_name;          // "workerpool0-0"
  std::vector<std::string> argv;  // argv[0] is a program name or path, looked up in PATH
  std::vector<std::string> env;   // complete "KEY=VALUE" list; nothing is inherited
  std::string working_dir;        // the image map entry's, else replica_dir
  std::string replica_dir;        // JobContext::sites[i].dir
  double cpus = 0;                // from the machine type
  double memory_gib = 0;
  std::string accelerator_type;  // AcceleratorType name, "" for none
  int accelerator_count = 0;
  std::string image_uri;  // containerSpec.imageUri or pythonPackageSpec.executorImageUri
  // pythonPackageSpec only: argv is {python, "-m", module, args...} with python_argv_index
  // = 0 naming the image's interpreter. A launcher that installs package_paths into a venv
  // replaces argv[0] with the venv's python. Empty / -1 for containers.
  std::vector<std::string> package_paths;  // local paths of packageUris, in order
  int python_argv_index = -1;
};

// The task names of `job`'s replicas ("workerpool<pool>-<index>"), in replica order (pools 0..3,
// empty pools skipped, index 0..replicaCount-1). Empty for a job without worker pools.
std::vector<std::string> ReplicaTasks(const google::cloud::aiplatform::v1::CustomJob& job);

// Expands `job` into its replicas, in order: pool 0..3, skipping empty ({}) pools, replica
// index 0..replicaCount-1 within a pool. Call ValidateCustomJobSpec first; this re-checks
// only what it needs and returns INVALID_ARGUMENT "jobSpec....: ..." for unmappable images or
// URIs, and INVALID_ARGUMENT "JobContext...." when ctx.sites does not hold one distinct address
// per replica or accelerator_ids_per_replica has the wrong length.
//
// Environment of each replica, in this order (later entries of the same name replace
// earlier ones in place):
//   PATH, HOME, LANG, PYTHONUNBUFFERED; CLOUD_ML_JOB_ID, CLOUD_ML_TRIAL_ID (trials);
//   AIP_MODEL_DIR, AIP_CHECKPOINT_DIR, AIP_TENSORBOARD_LOG_DIR (when baseOutputDirectory is
//   set); CLUSTER_SPEC; TF_CONFIG, MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK (more than one
//   replica; RANK only in pools 0 and 1); CUDA_VISIBLE_DEVICES (when given); then the
//   pool's env entries in order, each `$(VAR)`-expanded against everything before it.
// command/entrypoint and args are `$(VAR)`-expanded against the final environment.
absl::StatusOr<std::vector<ReplicaPlan>> PlanReplicas(const google::cloud::aiplatform::v1::CustomJob& job,
                                                      const JobContext& ctx, const ImageMap& images,
                                                      const storage::ObjectStore& storage);

// The folder AIP_MODEL_DIR & co. live in, as a local path ending in '/': the local path of
// jobSpec.baseOutputDirectory.outputUriPrefix, plus "<trial_id>/" for a trial unless the
// prefix's last segment already is the trial id. "" when baseOutputDirectory is unset.
absl::StatusOr<std::string> LocalOutputDirectory(const google::cloud::aiplatform::v1::CustomJobSpec& spec,
                                                 absl::string_view trial_id, const storage::ObjectStore& storage);

}  // namespace kiln::jobs

#endif  // KILN_JOBS_REPLICA_PLAN_H_
