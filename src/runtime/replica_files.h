#ifndef KILN_RUNTIME_REPLICA_FILES_H_
#define KILN_RUNTIME_REPLICA_FILES_H_

// Internal to kiln_runtime: reading and writing the files of a replica folder (their layout:
// replica_layout.h). All functions are thread-safe (no shared state).

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "runtime/replica_handle.h"
#include "runtime/replica_layout.h"

namespace kiln::runtime::internal {

// "<dir>/<name>".
std::string JoinPath(absl::string_view dir, absl::string_view name);

// What exit.json records.
struct ExitRecord {
  int exit_code = 0;
  int signal = 0;
  bool stopped_by_kiln = false;
  absl::Time end_time = absl::InfinitePast();
};

// spec.json for `spec` run by the shim `shim` (its replica_dir is ignored, as is spec's);
// kiln-shim parses it (ParseShimSpec).
std::string SpecToJson(const ReplicaSpec& spec, const ReplicaHandle& shim);

// The handle of the shim a spec.json names, for `replica_dir`. NOT_FOUND if it names none,
// INVALID_ARGUMENT if it is malformed.
absl::StatusOr<ReplicaHandle> ShimOfSpec(absl::string_view spec_json, const std::string& replica_dir);

// Parses exit.json as kiln-shim writes it (FormatExitJson); INVALID_ARGUMENT if malformed.
absl::StatusOr<ExitRecord> ExitRecordFromJson(absl::string_view json);

// Reads a whole (small) file. NOT_FOUND when it does not exist.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Creates or truncates `path` and writes `content` (not atomic, no fsync).
absl::Status WriteFile(const std::string& path, absl::string_view content);

// Writes `path` atomically: "<path>.tmp", then rename. With `durable`, the temporary file is
// fsync'd before the rename and the folder after it, so the content survives a machine crash.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view content, bool durable);

// What /proc/<pid>/stat says about a process.
struct ProcStat {
  int64_t start_ticks = 0;  // field 22, clock ticks after boot
  int64_t parent_pid = 0;   // field 4
  bool zombie = false;      // state Z or X: exited, not yet reaped
};
// NOT_FOUND when there is no such process.
absl::StatusOr<ProcStat> ReadProcStat(pid_t pid);

// This boot's id (/proc/sys/kernel/random/boot_id, trimmed); "" if unreadable. Cached.
const std::string& BootId();

}  // namespace kiln::runtime::internal

#endif  // KILN_RUNTIME_REPLICA_FILES_H_
