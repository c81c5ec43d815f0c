#ifndef KILN_RUNTIME_JOB_MANIFEST_H_
#define KILN_RUNTIME_JOB_MANIFEST_H_

// Internal to kiln_runtime: LocalRuntime's durable record of one job, kept in the job's folder
// so that a restarted kiln can find the job by its key, re-adopt it, and finish a launch a crash
// interrupted with the places and commands chosen before the crash.
//
//   <jobs_root>/<key>/job.json       written once, before any replica starts:
//       {"key": "7", "name": "projects/p/locations/l/customJobs/7", "annotation": "...",
//        "stop_grace_ms": 10000,
//        "replicas": [{"task": "workerpool0-0",
//                      "place": {"host": "127.0.0.1", "ports": [20000], "dir": "/.../workerpool0-0"},
//                      "command": {"argv": [...], "env": [...], "working_dir": ""}}, ...]}
//   <jobs_root>/<key>/launch-error   written (atomically) when the launch fails, before the
//                                    replicas already started are stopped: the error's message
//   <jobs_root>/<key>/<task>/        each replica's folder (replica_layout.h)
//
// Thread-safe (no shared state).

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "runtime/runtime.h"

namespace kiln::runtime::internal {

inline constexpr char kJobManifestFile[] = "job.json";
inline constexpr char kLaunchErrorFile[] = "launch-error";

struct ManifestReplica {
  std::string task;
  ReplicaPlace place;
  ReplicaCommand command;
};

struct JobManifest {
  std::string key;
  std::string name;
  std::string annotation;
  absl::Duration stop_grace = absl::Seconds(10);
  std::vector<ManifestReplica> replicas;
};

std::string ManifestToJson(const JobManifest& manifest);
// INVALID_ARGUMENT naming what is wrong for text ManifestToJson did not produce.
absl::StatusOr<JobManifest> ManifestFromJson(absl::string_view json);

// Reads <job_dir>/job.json. NOT_FOUND when there is none (or it is empty: a prepared folder that
// was never written); DATA_LOSS naming the file when it does not parse.
absl::StatusOr<JobManifest> ReadManifest(const std::string& job_dir);

// A job folder an earlier kiln (before job manifests) made: one folder per replica named
// workerpool<pool>-<index>, each with the spec.json its shim was given. The manifest that
// describes it (tasks in pool, index order; commands from spec.json; places without ports,
// which that kiln did not record; name and annotation empty). NOT_FOUND when the folder holds
// no such replica.
absl::StatusOr<JobManifest> LegacyManifest(const std::string& job_dir, const std::string& key);

// The launch error recorded in <job_dir>/launch-error, or OK when there is none.
absl::Status ReadLaunchError(const std::string& job_dir);
// Records `error` (its message) in <job_dir>/launch-error, atomically.
absl::Status WriteLaunchError(const std::string& job_dir, const absl::Status& error);

}  // namespace kiln::runtime::internal

#endif  // KILN_RUNTIME_JOB_MANIFEST_H_
