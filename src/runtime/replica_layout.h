#ifndef KILN_RUNTIME_REPLICA_LAYOUT_H_
#define KILN_RUNTIME_REPLICA_LAYOUT_H_

// Internal to kiln_runtime and kiln-shim: the files a replica folder holds. Dependency-free
// (kiln-shim links neither Abseil nor kiln libraries, to start fast).
//
//   <replica_dir>/spec.json    written by Launch before the hand-off: {"argv": [...],
//                              "env": [...], "working_dir": "...", "shim": {"pid", "start_ticks",
//                              "boot_id"}}; "shim" names the supervisor, so a restarted kiln
//                              can find it (LocalRuntime::Find)
//   <replica_dir>/replica.pid  written by the shim: the replica's pid (= its process group id);
//                              empty until then
//   <replica_dir>/replica.log  the replica's stdout and stderr, interleaved, appended; also
//                              the shim's own diagnostics ("kiln-shim: ...")
//   <replica_dir>/replica.log.index
//                              one line per piece of replica.log the shim appended, written
//                              after the piece: "<offset> <length> <unix_nanos> <o|e>\n" (the
//                              byte range, when the shim read it, and from stdout or stderr).
//                              A piece holds whole lines of one stream, except when a partial
//                              line waited kLogFlushMs or filled kLogPieceBytes. Bytes with no
//                              line here yet are being written (replica_log.h reads it).
//                              Created just before the first piece is appended, so a log
//                              with bytes and no index was written by an older shim.
//   <replica_dir>/stop         written by Stop: the grace period in milliseconds
//   <replica_dir>/exit.json    written atomically (exit.json.tmp, rename; no fsync) by the
//                              shim once nothing of the replica runs any more:
//                              {"exit_code": 0, "signal": 9, "stopped_by_kiln": true,
//                               "end_time": "2026-01-01T00:00:00.123456789+00:00"}
//
// A prepared slot (LocalRuntime's warm pool) is a folder holding empty spec.json, replica.pid,
// replica.log and exit.json.tmp, renamed into place as the replica_dir: creating files costs
// far more than opening existing ones on some file systems, so that is done ahead of need.

#include <cstddef>

namespace kiln::runtime::internal {

inline constexpr char kSpecFile[] = "spec.json";
inline constexpr char kReplicaPidFile[] = "replica.pid";
inline constexpr char kLogFile[] = "replica.log";
inline constexpr char kLogIndexFile[] = "replica.log.index";
inline constexpr char kStopFile[] = "stop";
inline constexpr char kExitFile[] = "exit.json";
inline constexpr char kExitTempFile[] = "exit.json.tmp";

// How long the shim holds a partial line (no newline yet) before appending it anyway, and the
// most it holds: progress bars that rewrite one line with '\r' still show up.
inline constexpr int kLogFlushMs = 100;
inline constexpr size_t kLogPieceBytes = 64 * 1024;

// The longest hand-off line kiln sends: a replica_dir (PATH_MAX) and a newline.
inline constexpr size_t kMaxHandOffBytes = 4096 + 1;

// Exit status of a replica that could not be started (like a shell's "command not found").
inline constexpr int kCannotRunExitCode = 127;

}  // namespace kiln::runtime::internal

#endif  // KILN_RUNTIME_REPLICA_LAYOUT_H_
