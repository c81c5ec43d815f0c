#ifndef KILN_RUNTIME_SHIM_H_
#define KILN_RUNTIME_SHIM_H_

// kiln-shim: the per-replica supervisor (like containerd-shim or conmon). LocalRuntime starts
// `kiln-shim` in its own session ahead of need, with a control socket as its stdin; when a
// replica is launched, kiln writes <replica_dir>/spec.json (naming this shim) and sends
// "<replica_dir>\n" on the socket. The shim then starts the replica, waits for it, records how
// it ended in exit.json and exits. It outlives kiln: kiln may die and restart, re-adopting the
// shim by pid + start time. Files: replica_layout.h.
//
// Deliberately dependency-free (libc, libstdc++ and header-only nlohmann_json, linked
// statically; no Abseil, no kiln libraries), so that starting one costs little.
//
// Single-threaded. The shim's states:
//
//   standby ──(end of file on the socket: dismissed, or kiln died)──► exit 0, nothing done
//      │
//   hand-off ──► running ──(SIGTERM: stop requested)──► stopping ──(grace elapsed)──► killing
//                   │                                       │                            │
//                   └──────────── replica exited ───────────┴────────────────────────────┘
//                                        │
//                                        ▼
//        SIGKILL what is left of the replica's process group, reap it (bounded),
//        write exit.json atomically, exit 0.
//
// standby: close every inherited descriptor except 0-2; ignore SIGHUP/SIGPIPE; block
// SIGTERM/SIGINT/SIGCHLD and read them from a signalfd; become a child subreaper (orphaned
// descendants are reparented to the shim and reaped by it).
// hand-off: stdin from /dev/null (closing the socket), stdout+stderr appended to replica.log;
// read spec.json and refuse it unless it names this shim; fork the replica into its own
// process group. The replica gets a clean signal state, chdir(working_dir), and execve with
// exactly the spec's environment; if that fails it writes "kiln-shim: cannot run '<argv0>':
// <reason>" to the log and exits 127. While it starts, the shim writes replica.pid and opens
// exit.json.tmp, so that nothing is created between the replica's exit and exit.json. Every
// file is opened by name with O_CREAT: kiln may have prepared them (replica_layout.h), which
// makes opening them cheap.
//
// A SIGTERM is a stop request: the grace (ms) is read from the `stop` file (missing → 10 s
// and the stop is not counted as kiln's); SIGTERM goes to the replica's process group, then
// SIGKILL after the grace. A later SIGTERM may shorten the grace.

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::runtime {

// Runs the shim, control socket on stdin. Returns the shim's exit status: 0 once exit.json is
// written or when dismissed before a hand-off, non-zero if it could not set up or record.
int RunShim();

// spec.json as the shim reads it.
struct ShimSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string working_dir;
  int64_t shim_pid = 0;  // "shim": {"pid": ...}, the shim kiln handed this replica to; 0 if absent
};
// False (with `error` set) for malformed JSON.
bool ParseShimSpec(const std::string& json, ShimSpec* spec, std::string* error);

// exit.json's content (replica_layout.h). `end_unix_nanos` is the wall-clock end time.
std::string FormatExitJson(int exit_code, int signal, bool stopped_by_kiln, int64_t end_unix_nanos);

}  // namespace kiln::runtime

#endif  // KILN_RUNTIME_SHIM_H_
