#include "pyenv/venv_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kiln::pyenv::internal {
namespace {

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(errno));
  if (errno == ENOENT) return absl::NotFoundError(message);
  return absl::InternalError(message);
}

bool ReadWholeFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *out = std::move(buffer).str();
  return !in.bad();
}

}  // namespace

void UpdateField(Sha256* hash, absl::string_view bytes) {
  hash->UpdateLittleEndian64(bytes.size());
  hash->Update(bytes);
}

absl::StatusOr<std::string> Sha256OfFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError("cannot open", path);
  Sha256 hash;
  std::vector<char> buffer(1 << 20);
  while (true) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("cannot read", path);
    if (n == 0) break;
    hash.Update(absl::string_view(buffer.data(), static_cast<size_t>(n)));
  }
  return hash.Final();
}

absl::StatusOr<FileLock> FileLock::Lock(const std::string& path, absl::Time deadline) {
  while (true) {
    absl::StatusOr<std::optional<FileLock>> lock = TryLock(path);
    if (!lock.ok()) return lock.status();
    if (lock->has_value()) return std::move(**lock);
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("timed out waiting for lock ", path, " (another build of this venv)"));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

absl::StatusOr<std::optional<FileLock>> FileLock::TryLock(const std::string& path) {
  while (true) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd.valid()) return ErrnoError("cannot open lock file", path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK || errno == EINTR) return std::optional<FileLock>();
      return ErrnoError("flock", path);
    }
    // An evictor may have unlinked the file after we opened it: then our lock guards nothing.
    struct stat held, current;
    if (::fstat(fd.get(), &held) == 0 && ::stat(path.c_str(), &current) == 0 && held.st_dev == current.st_dev &&
        held.st_ino == current.st_ino) {
      return std::optional<FileLock>(FileLock(std::move(fd)));
    }
  }
}

std::string ReadTail(const std::string& path, int max_lines, size_t max_bytes) {
  std::string content;
  if (!ReadWholeFile(path, &content)) return "";
  while (!content.empty() && content.back() == '\n') content.pop_back();
  std::vector<absl::string_view> lines = absl::StrSplit(content, '\n');
  size_t first = lines.size() > static_cast<size_t>(max_lines) ? lines.size() - max_lines : 0;
  std::string tail = absl::StrJoin(lines.begin() + first, lines.end(), "\n");
  if (tail.size() > max_bytes) tail = tail.substr(tail.size() - max_bytes);
  return tail;
}

std::string ExtractPipErrors(absl::string_view log) {
  std::vector<std::string> errors;
  absl::flat_hash_set<std::string> seen;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!absl::StartsWith(line, "ERROR:")) continue;
    if (!seen.insert(std::string(line)).second) continue;
    errors.emplace_back(line);
    if (errors.size() == 10) break;
  }
  return absl::StrJoin(errors, "\n");
}

absl::Status RewritePathInTextFiles(const std::string& dir, absl::string_view from, absl::string_view to) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::error_code entry_ec;
    if (!entry.is_regular_file(entry_ec) || entry.is_symlink(entry_ec)) continue;
    const std::string path = entry.path().string();
    std::string content;
    if (!ReadWholeFile(path, &content)) continue;
    if (content.find('\0') != std::string::npos) continue;  // a binary
    if (!absl::StrContains(content, from)) continue;
    std::string rewritten = absl::StrReplaceAll(content, {{from, to}});
    std::ofstream out(path, std::ios::binary | std::ios::trunc);  // keeps the file's mode
    out << rewritten;
    out.close();
    if (!out) return absl::InternalError(absl::StrCat("cannot rewrite ", path));
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot list ", dir, ": ", ec.message()));
  return absl::OkStatus();
}

void RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);  // never follows symlinks (venv/bin/python is one)
}

void TouchPath(const std::string& path) { ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0); }

}  // namespace kiln::pyenv::internal
