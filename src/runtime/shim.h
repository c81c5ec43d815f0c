#ifndef KILN_RUNTIME_SHIM_H_
#define KILN_RUNTIME_SHIM_H_

// kiln-shim: the per-replica supervisor (like containerd-shim or conmon). LocalRuntime starts
// `kiln-shim <replica_dir>` in its own session; the shim starts the replica, waits for it,
// records how it ended in exit.json and exits. It outlives kiln: kiln may die and restart,
// re-adopting the shim by pid + start time. Files: replica_layout.h.
//
// Deliberately dependency-free (libc, libstdc++ and header-only nlohmann_json; no Abseil, no
// kiln libraries): the shim starts once per replica, so its start-up time is launch overhead.
//
// Single-threaded. The shim's states:
//
//   setup ──► running ──(SIGTERM: stop requested)──► stopping ──(grace elapsed)──► killing
//                │                                       │                            │
//                └──────────── replica exited ───────────┴────────────────────────────┘
//                                     │
//                                     ▼
//        SIGKILL what is left of the replica's process group, reap it (bounded),
//        write exit.json atomically, exit 0.
//
// setup: close every inherited descriptor except 0-2; stdin from /dev/null, stdout+stderr
// appended to replica.log; ignore SIGHUP/SIGPIPE; block SIGTERM/SIGINT/SIGCHLD and read them
// from a signalfd; become a child subreaper (orphaned descendants are reparented to the shim
// and reaped by it); write shim.pid; read spec.json; fork the replica into its own process
// group (its pid is the group id, written to replica.pid). The replica gets a clean signal
// state, chdir(working_dir), and execve with exactly the spec's environment; if that fails
// it writes "kiln-shim: cannot run '<argv0>': <reason>" to the log and exits 127.
//
// A SIGTERM is a stop request: the grace (ms) is read from the `stop` file (missing → 10 s
// and the stop is not counted as kiln's); SIGTERM goes to the replica's process group, then
// SIGKILL after the grace. A later SIGTERM may shorten the grace.

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::runtime {

// Runs the shim for `replica_dir` (absolute). Returns the shim's exit status: 0 once exit.json
// is written, non-zero if it could not be.
int RunShim(const std::string& replica_dir);

// spec.json as the shim reads it.
struct ShimSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string working_dir;
};
// False (with `error` set) for malformed JSON.
bool ParseShimSpec(const std::string& json, ShimSpec* spec, std::string* error);

// exit.json's content (replica_layout.h). `end_unix_nanos` is the wall-clock end time.
std::string FormatExitJson(int exit_code, int signal, bool stopped_by_kiln,
                           int64_t end_unix_nanos);

}  // namespace kiln::runtime

#endif  // KILN_RUNTIME_SHIM_H_
