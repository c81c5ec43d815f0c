#ifndef KILN_PYENV_VENV_CACHE_H_
#define KILN_PYENV_VENV_CACHE_H_

// VenvCache: Python virtual environments with a pythonPackageSpec's packages installed
// offline, cached on disk by content.
//
//   VenvCache cache({.root = kiln_home + "/venvs"});
//   KILN_ASSIGN_OR_RETURN(std::string python, cache.Prepare("/usr/bin/python3", files));
//   cache.Acquire(python);   // before launching `python -m trainer.task ...`
//   ...                      // replica exits
//   cache.Release(python);
//
// Threading: all methods are thread-safe. Prepare blocks while it builds (or waits for
// another thread or process building the same venv, serialized by flock on a per-key lock
// file); different keys build in parallel. `mu_` guards only the in-memory use counts and
// the file-digest memo and is never held while a subprocess runs.
//
// On-disk layout under Options::root:
//   <key>/            a complete venv (bin/python, install.log); it appears by rename(2)
//   .locks/<key>.lock flock'ed by whoever builds, touches or evicts <key>
//   .build-<key>-XXXXXX/{venv,home,tmp}  a build in progress (removed afterwards)
//   .trash-<key>-XXXXXX/                 an evicted venv being deleted
// Least-recently-used order is the mtime of <key>/ (set by Prepare, Acquire and Release), so
// it survives restarts. A venv is never evicted while Acquire'd in this process, nor within
// Options::eviction_grace of its last use (so a path Prepare just returned survives until the
// caller Acquires it). Acquire counts are in memory only: after a kiln restart, Acquire the
// venvs of replicas that are still running again.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"

namespace kiln::pyenv {

class VenvCache {
 public:
  struct Options {
    std::string root;  // e.g. $KILN_HOME/venvs; created if missing
    // Bound on cached venvs: after each build, least recently used ones beyond it are
    // deleted (never one in use or used within eviction_grace, so the bound is soft).
    int max_entries = 20;
    absl::Duration install_timeout = absl::Minutes(15);  // for venv creation + pip install
    absl::Duration eviction_grace = absl::Minutes(10);
  };

  explicit VenvCache(Options options);

  VenvCache(const VenvCache&) = delete;
  VenvCache& operator=(const VenvCache&) = delete;

  // Returns the path of a venv's python (`<root>/<key>/bin/python`) with `packages` (local
  // sdists .tar.gz/.zip or wheels .whl, ≤ 100, in order) installed, built on `base_python`
  // with --system-site-packages (so Debian's numpy, torch, ... stay visible).
  //
  // The key is a SHA-256 over a format version, base_python as given and as resolved, and
  // each package's file name and bytes, in order. Identical inputs reuse the venv (no
  // rebuild); a changed file yields a new venv. A build runs
  //   <base_python> -m venv --system-site-packages <tmp>/venv
  //   <tmp>/venv/bin/python -m pip install --no-index --no-build-isolation
  //       --disable-pip-version-check --no-input <absolute package paths...>
  // (argv-based, minimal environment with no index or config file), logs both to
  // <venv>/install.log, rewrites the temporary path in bin/ scripts, then renames the venv
  // into place.
  //
  // Errors: INVALID_ARGUMENT for > 100 packages or a name that is not an sdist or wheel;
  // NOT_FOUND naming a missing package file; FAILED_PRECONDITION if base_python is missing,
  // if its venv module is unavailable (install Debian's python3-venv), or if pip cannot
  // install offline (pip's reason, e.g. "No matching distribution found for foo", plus the
  // tail of its log); DEADLINE_EXCEEDED after install_timeout (the installer's process group
  // is killed); INTERNAL for file-system failures.
  absl::StatusOr<std::string> Prepare(const std::string& base_python, const std::vector<std::string>& packages);

  // Marks the venv of a python path returned by Prepare as in use by one more job (eviction
  // skips it) / one fewer. Both refresh its last-used time. Unknown paths are ignored, and
  // Release never drops a count below zero.
  void Acquire(const std::string& python);
  void Release(const std::string& python);

  // The venvs currently on disk (their python paths), for tests and diagnostics.
  std::vector<std::string> ListForTest() const;

 private:
  struct FileDigest {
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0, ctime_ns = 0;
    std::string sha256;  // raw bytes
  };

  absl::StatusOr<std::string> ComputeKey(const std::string& base_python, const std::vector<std::string>& packages);
  absl::StatusOr<std::string> DigestFile(const std::string& path);
  absl::Status Build(const std::string& key, const std::string& base_python, const std::vector<std::string>& packages);
  void Evict(const std::string& keep_key);
  bool InUse(const std::string& key) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable Mutex mu_;
  absl::flat_hash_map<std::string, int> in_use_ ABSL_GUARDED_BY(mu_);          // key → count
  absl::flat_hash_map<std::string, FileDigest> digests_ ABSL_GUARDED_BY(mu_);  // by path
};

}  // namespace kiln::pyenv

#endif  // KILN_PYENV_VENV_CACHE_H_
