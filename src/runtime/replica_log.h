#ifndef KILN_RUNTIME_REPLICA_LOG_H_
#define KILN_RUNTIME_REPLICA_LOG_H_

// Internal to kiln_runtime (LocalRuntime's LogReader): reading a replica's output as kiln-shim
// records it: replica.log (the bytes, stdout and stderr interleaved) and replica.log.index
// (which piece came from which stream, and when; layout in replica_layout.h). Thread-safe (no
// shared state).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "runtime/runtime.h"

namespace kiln::runtime {

// "<replica_dir>/replica.log".
std::string LogPath(absl::string_view replica_dir);

// The last `max_lines` lines of replica.log (joined by "\n", no trailing newline), read from
// at most its last `max_bytes`: for error messages, cheap however large the log. "" when the
// folder has no log.
std::string ReadLogTail(absl::string_view replica_dir, int max_lines, int64_t max_bytes = 64 * 1024);

// Blocks until replica.log in `replica_dir` is longer than `offset`, the replica has finished
// (exit.json exists), or `timeout` passes, whichever comes first; returns at once if the first
// two already hold. Woken by inotify, so followers see bytes as they are written; without
// inotify it sleeps for `timeout` (callers re-check what they wait for either way).
void WaitForLogChange(absl::string_view replica_dir, int64_t offset, absl::Duration timeout);

// Calls `visit` with the lines the shim has recorded so far in `replica_dir`, in the order it
// appended them (or reversed), until `visit` returns false. Memory stays at one piece however
// long the log, so callers that need only some lines stop early. Lines of one replica come in
// nondecreasing time (unless the wall clock was set back). Errors: as ReadLogLines.
absl::Status VisitLogLines(absl::string_view replica_dir, const LogReadOptions& options,
                           const std::function<bool(LogLine)>& visit);

// The lines the shim has recorded so far in `replica_dir`, in the order it appended them, from
// pieces read at or after `since` (earlier pieces are skipped without reading their bytes).
// Bytes not yet in the index (being appended) are left for a later call, so a line is never
// returned twice with different times. A folder whose log has no index (written by a shim of an
// earlier kiln) reads as stdout lines timed at the log's last modification. NOT_FOUND when the
// folder has no replica.log; DATA_LOSS when an index line is malformed or points past the log.
absl::StatusOr<std::vector<LogLine>> ReadLogLines(absl::string_view replica_dir,
                                                  absl::Time since = absl::InfinitePast());

// A LogReader over the log in `replica_dir` (LocalRuntime::OpenLog).
std::unique_ptr<LogReader> NewReplicaLogReader(std::string replica_dir);

}  // namespace kiln::runtime

#endif  // KILN_RUNTIME_REPLICA_LOG_H_
