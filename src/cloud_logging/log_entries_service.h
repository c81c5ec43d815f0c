#ifndef KILN_CLOUD_LOGGING_LOG_ENTRIES_SERVICE_H_
#define KILN_CLOUD_LOGGING_LOG_ENTRIES_SERVICE_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/logging/v2/logging.pb.h"
#include "runtime/runtime.h"
#include "store/store.h"

namespace kiln::cloud_logging {

// Cloud Logging v2's entries:list over the output of CustomJob replicas, so that
// `gcloud ai custom-jobs stream-logs` and `gcloud logging read` work against kiln. Each line a
// replica wrote (runtime/replica_log.h) is one LogEntry, as Vertex AI writes them:
//
//   logName      projects/{project}/logs/{task}           e.g. .../logs/workerpool0-0
//   resource     {type: "ml_job", labels: {project_id, job_id, task_name}}
//   severity     INFO for stdout, ERROR for stderr
//   textPayload  the line, without its newline
//   timestamp    when kiln-shim read it (receiveTimestamp: the same)
//   insertId     "{job_id}.{task}.{offset:016}": unique, and in write order within a task
//
// Request rules: resourceNames must be non-empty and each "projects/{project}"; filter is the
// Logging query language's AIP-160 subset (filter/filter.h) over resource.type,
// resource.labels.*, logName, severity (ordered: severity>=WARNING), timestamp, receiveTimestamp, insertId,
// textPayload and labels.*; orderBy "timestamp asc" (default) or "timestamp desc"; pageSize
// 0 → 50, at most 1000. Entries are ordered by (timestamp, insertId) and pages resume after the
// last entry returned, so entries written while paging are not skipped. A filter pinning
// resource.labels.job_id or task_name reads only those replicas, a lower bound on timestamp (or
// the token's position) skips older pieces unread, and each replica is read only until it has
// given pageSize + 1 matches (its lines come in key order), so memory is bounded by
// replicas × pageSize entries. Thread-safe.
class LogEntriesService {
 public:
  // `runtime` may be null (this kiln runs no jobs): no entries then.
  LogEntriesService(store::Store* store, runtime::Runtime* runtime) : store_(store), runtime_(runtime) {}

  // `may_read(project)` is asked for every project of resourceNames before anything is read
  // (the server's token check); its error is returned as is.
  using ProjectCheck = std::function<absl::Status(absl::string_view project)>;
  absl::StatusOr<google::logging::v2::ListLogEntriesResponse> ListLogEntries(
      const google::logging::v2::ListLogEntriesRequest& request, const ProjectCheck& may_read) const;

 private:
  store::Store* store_;
  runtime::Runtime* runtime_;
};

}  // namespace kiln::cloud_logging

#endif  // KILN_CLOUD_LOGGING_LOG_ENTRIES_SERVICE_H_
