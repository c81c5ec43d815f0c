#ifndef KILN_CLIENT_JOB_FOLLOW_H_
#define KILN_CLIENT_JOB_FOLLOW_H_

// Following a CustomJob until it is final, through kiln's REST extensions
// (docs/extensions.md): GET /kiln/v1/{job}:wait and /kiln/v1/{job}/replicas.

#include <optional>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/api_client.h"
#include "nlohmann/json.hpp"

namespace kiln::client {

// The answer read as a CustomJob (proto_io.h ReadAnswer). Its `state` as a
// JobState name ("JOB_STATE_RUNNING", from a name or an integer; a number
// this client's protos do not name as that number); "" when absent,
// unspecified or when the answer is not a CustomJob.
std::string JobStateName(const nlohmann::json& job);

// Whether the job's state is final: SUCCEEDED, FAILED, CANCELLED, PAUSED,
// EXPIRED or PARTIALLY_SUCCEEDED (what the Vertex SDK stops waiting on).
bool IsFinalJob(const nlohmann::json& job);

// OK for a SUCCEEDED job; else the job's `error` (google.rpc.Status: code and
// message) as a Status, or UNKNOWN "... ended in state S" without one;
// INTERNAL when the answer is not a CustomJob.
absl::Status JobOutcome(const nlohmann::json& job);

// GET /kiln/v1/{name}/replicas. nullopt when the server does not have the
// route (NOT_FOUND or UNIMPLEMENTED: an older kiln); other errors as is.
absl::StatusOr<std::optional<nlohmann::json>> FetchKilnStatus(ApiClient& client, absl::string_view name);

// "[RUNNING] elapsed 12s · workerpool0-0 RUNNING · workerpool1-0 PLANNED"
// from the job and its replica status (when known); a queueReason replaces
// the replica list ("[QUEUED] elapsed 3s · waiting for ...").
std::string ProgressLine(const nlohmann::json& job, const std::optional<nlohmann::json>& kiln_status,
                         absl::Duration elapsed);

struct FollowOptions {
  absl::Duration timeout = absl::ZeroDuration();  // Zero: no limit.
  int wait_seconds = 30;                          // timeoutSeconds of each :wait call (1..60).
  // Least time between two calls when the server answers a non-final job
  // at once (an older server without the :wait route is polled this often).
  absl::Duration min_interval = absl::Seconds(1);
  bool tty = false;  // Refresh one progress line with '\r'; else print a
                     // new line whenever it changes (not for elapsed alone).
};

// Calls GET /kiln/v1/{name}:wait?timeoutSeconds=N until the job is final
// (IsFinalJob), printing ProgressLine to `err` after each answer, and returns
// the final job. A server without the :wait route (NOT_FOUND/UNIMPLEMENTED
// while GET /v1/{name} works) is polled with GET /v1/{name} instead.
// DEADLINE_EXCEEDED naming the last state when `timeout` passes; INTERNAL
// for an answer that is not a CustomJob; API errors as is.
absl::StatusOr<nlohmann::json> FollowJob(ApiClient& client, absl::string_view name, const FollowOptions& options,
                                         std::ostream& err);

}  // namespace kiln::client

#endif  // KILN_CLIENT_JOB_FOLLOW_H_
