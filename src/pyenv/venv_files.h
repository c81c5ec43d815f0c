#ifndef KILN_PYENV_VENV_FILES_H_
#define KILN_PYENV_VENV_FILES_H_

// File-system and hashing helpers behind VenvCache (internal to kiln_pyenv; tested directly).
//
// Threading: FileLock objects are not shared between threads (each holder opens its own, and
// flock(2) then excludes other threads and processes alike); the free functions are
// thread-safe.

#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/sha256.h"
#include "common/unique_fd.h"

namespace kiln::pyenv::internal {

// Appends the 8-byte little-endian length of `bytes`, then the bytes: fields cannot run together.
void UpdateField(Sha256* hash, absl::string_view bytes);

// SHA-256 of a file's bytes (32 raw bytes). NOT_FOUND if it does not exist.
absl::StatusOr<std::string> Sha256OfFile(const std::string& path);

// An exclusive flock(2) on a lock file (created if missing), held until destruction. Robust
// against the file being unlinked and recreated by an evictor: after locking, the descriptor
// must still name the file at `path`, or it locks again.
class FileLock {
 public:
  // Waits (polling every 20 ms) until `deadline`; DEADLINE_EXCEEDED then.
  static absl::StatusOr<FileLock> Lock(const std::string& path, absl::Time deadline);
  // Does not wait: nullopt if someone else holds it.
  static absl::StatusOr<std::optional<FileLock>> TryLock(const std::string& path);

  FileLock(FileLock&& other) noexcept = default;
  FileLock& operator=(FileLock&& other) noexcept = default;
  ~FileLock() = default;  // closing the last descriptor releases the flock

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// The last `max_lines` lines of a file, at most `max_bytes` of them ("" if unreadable).
std::string ReadTail(const std::string& path, int max_lines, size_t max_bytes);

// pip's reasons in a log: "ERROR: ..." lines (deduplicated, at most 10), joined by "\n".
std::string ExtractPipErrors(absl::string_view log);

// Replaces `from` with `to` in text files directly in `dir` that contain it (shebangs of
// console scripts, activate scripts, pyvenv.cfg); binaries and symlinks are left alone.
absl::Status RewritePathInTextFiles(const std::string& dir, absl::string_view from, absl::string_view to);

// Removes a tree without following symlinks; missing is fine.
void RemoveTree(const std::string& path);

// Sets a path's atime and mtime to now (the venv's last use). Missing is ignored.
void TouchPath(const std::string& path);

}  // namespace kiln::pyenv::internal

#endif  // KILN_PYENV_VENV_FILES_H_
