#ifndef KILN_RUNTIME_REPLICA_LAYOUT_H_
#define KILN_RUNTIME_REPLICA_LAYOUT_H_

// Internal to kiln_runtime and kiln-shim: the files a replica folder holds. Dependency-free
// (kiln-shim links neither Abseil nor kiln libraries, to start fast).
//
//   <replica_dir>/spec.json    written by Launch: {"argv": [...], "env": [...], "working_dir"}
//   <replica_dir>/shim.pid     written by the shim: its pid
//   <replica_dir>/replica.pid  written by the shim: the replica's pid (= its process group id)
//   <replica_dir>/replica.log  the replica's stdout and stderr, interleaved, appended; also
//                              the shim's own diagnostics ("kiln-shim: ...")
//   <replica_dir>/stop         written by Stop: the grace period in milliseconds
//   <replica_dir>/exit.json    written atomically (temp, fsync, rename, fsync dir) by the shim
//                              once nothing of the replica runs any more:
//                              {"exit_code": 0, "signal": 9, "stopped_by_kiln": true,
//                               "end_time": "2026-01-01T00:00:00.123456789+00:00"}

namespace kiln::runtime::internal {

inline constexpr char kSpecFile[] = "spec.json";
inline constexpr char kShimPidFile[] = "shim.pid";
inline constexpr char kReplicaPidFile[] = "replica.pid";
inline constexpr char kLogFile[] = "replica.log";
inline constexpr char kStopFile[] = "stop";
inline constexpr char kExitFile[] = "exit.json";

// Exit status of a replica that could not be started (like a shell's "command not found").
inline constexpr int kCannotRunExitCode = 127;

}  // namespace kiln::runtime::internal

#endif  // KILN_RUNTIME_REPLICA_LAYOUT_H_
