#ifndef KILN_PYENV_RUN_PROCESS_H_
#define KILN_PYENV_RUN_PROCESS_H_

// RunProcess: run one program to completion, argv-based (posix_spawn, never a shell), with a
// bounded wait. Used by VenvCache to run `python -m venv` and `pip install`.
//
// Threading: RunProcess is thread-safe and blocks the calling thread until the program exits
// or the timeout passes. It waits only for the pid it spawned (never waitpid(-1)).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kiln::pyenv {

// Runs argv[0] (an absolute or relative path; PATH is not searched) with exactly `env`
// ("NAME=value" strings; nothing is inherited), in `working_dir` (empty: kiln's cwd), stdin
// from /dev/null, stdout and stderr both appended to `log_path` (created 0644 if missing;
// empty: discarded). The child is the leader of its own process group and inherits no
// descriptor but 0-2 (plus everything kiln opened without O_CLOEXEC is closed too).
//
// Returns the exit status (0-255), or 128 + N if the program was killed by signal N. When
// the program exits, the rest of its process group is SIGKILLed before it is reaped, so no
// stray grandchild outlives the call.
// Errors: INVALID_ARGUMENT for an empty argv; NOT_FOUND if argv[0] does not exist;
// PERMISSION_DENIED if it is not executable; DEADLINE_EXCEEDED after `timeout` (the whole
// process group is SIGKILLed and reaped first); INTERNAL for other system-call failures.
absl::StatusOr<int> RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                               const std::string& working_dir, const std::string& log_path, absl::Duration timeout);

}  // namespace kiln::pyenv

#endif  // KILN_PYENV_RUN_PROCESS_H_
