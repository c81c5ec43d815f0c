#include "registry/snapshot.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/unique_fd.h"

namespace kiln::registry {
namespace {

namespace fs = std::filesystem;

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status WriteAll(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot write", path);
    data += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Clones `from` into the new file `to` (FICLONE), else copies it; fsyncs and makes it read-only.
absl::StatusOr<bool> CloneOrCopy(const std::string& from, const std::string& to) {
  UniqueFd in(open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (in.get() < 0) return Errno("cannot open", from);
  UniqueFd out(open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (out.get() < 0) return Errno("cannot create", to);
  bool cloned = ioctl(out.get(), FICLONE, in.get()) == 0;
  if (!cloned) {
    std::vector<char> buffer(1 << 20);
    while (true) {
      ssize_t n = read(in.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("cannot read", from);
      if (n == 0) break;
      KILN_RETURN_IF_ERROR(WriteAll(out.get(), buffer.data(), static_cast<size_t>(n), to));
    }
  }
  if (fchmod(out.get(), 0444) != 0) return Errno("cannot make read-only", to);
  if (fdatasync(out.get()) != 0) return Errno("cannot sync", to);
  return cloned;
}

absl::Status SyncDir(const std::string& dir) {
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || fsync(fd.get()) != 0) return Errno("cannot sync", dir);
  return absl::OkStatus();
}

// The regular files under root (relative paths, sorted) and its folders; errors for other kinds.
absl::Status Walk(const fs::path& root, absl::string_view uri, std::vector<std::string>* files,
                  std::vector<std::string>* dirs) {
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec)
    return absl::FailedPreconditionError(absl::StrCat("cannot read model artifacts at ", uri, ": ", ec.message()));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    std::string rel = it->path().lexically_relative(root).string();
    fs::file_status st = it->symlink_status(ec);
    if (ec) break;
    if (fs::is_symlink(st)) {
      return absl::FailedPreconditionError(
          absl::StrCat("model artifacts at ", uri, " hold the symlink ", rel, "; kiln registers regular files only"));
    }
    if (fs::is_directory(st)) {
      dirs->push_back(rel);
    } else if (fs::is_regular_file(st)) {
      if (rel != kDigestFile) files->push_back(rel);
    } else {
      return absl::FailedPreconditionError(absl::StrCat("model artifacts at ", uri, " hold the special file ", rel,
                                                        "; kiln registers regular files only"));
    }
  }
  if (ec)
    return absl::FailedPreconditionError(absl::StrCat("cannot read model artifacts at ", uri, ": ", ec.message()));
  std::sort(files->begin(), files->end());
  std::sort(dirs->begin(), dirs->end());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> DigestTree(const std::string& root) {
  std::vector<std::string> files, dirs;
  KILN_RETURN_IF_ERROR(Walk(root, root, &files, &dirs));
  // Per file, in path order: its relative path with a NUL, its size (8 bytes, little-endian), its bytes.
  Sha256 hash;
  std::vector<char> buffer(1 << 20);
  for (const std::string& rel : files) {
    std::string path = (fs::path(root) / rel).string();
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    struct stat st;
    if (fd.get() < 0 || fstat(fd.get(), &st) != 0) return Errno("cannot open", path);
    hash.Update(rel.data(), rel.size() + 1);  // with its NUL
    hash.UpdateLittleEndian64(static_cast<uint64_t>(st.st_size));
    while (true) {
      ssize_t n = read(fd.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("cannot read", path);
      if (n == 0) break;
      hash.Update(buffer.data(), static_cast<size_t>(n));
    }
  }
  KILN_ASSIGN_OR_RETURN(std::string hex, hash.FinalHex());
  return absl::StrCat("sha256:", hex);
}

absl::StatusOr<SnapshotStats> SnapshotTree(const std::string& source, const std::string& dest,
                                           absl::string_view source_uri) {
  std::error_code ec;
  if (!fs::is_directory(source, ec)) {
    return absl::FailedPreconditionError(absl::StrCat("no model artifacts at ", source_uri, " (no such folder)"));
  }
  std::vector<std::string> files, dirs;
  KILN_RETURN_IF_ERROR(Walk(source, source_uri, &files, &dirs));
  if (files.empty()) return absl::FailedPreconditionError(absl::StrCat("no model artifacts at ", source_uri));

  if (!fs::create_directory(dest, ec) || ec) {
    return absl::InternalError(absl::StrCat("cannot create ", dest, ": ", ec ? ec.message() : "it exists"));
  }
  for (const std::string& rel : dirs) {
    fs::create_directory(fs::path(dest) / rel, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot create ", dest, "/", rel, ": ", ec.message()));
  }
  SnapshotStats stats;
  for (const std::string& rel : files) {
    KILN_ASSIGN_OR_RETURN(bool cloned, CloneOrCopy((fs::path(source) / rel).string(), (fs::path(dest) / rel).string()));
    stats.cloned += cloned;
    stats.files += 1;
    stats.bytes += static_cast<int64_t>(fs::file_size(fs::path(dest) / rel, ec));
  }
  // Digest what was stored, not what was read: the two agree unless the source changed mid-copy.
  KILN_ASSIGN_OR_RETURN(stats.digest, DigestTree(dest));
  std::string digest_path = (fs::path(dest) / kDigestFile).string();
  {
    UniqueFd out(open(digest_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
    if (out.get() < 0) return Errno("cannot create", digest_path);
    std::string line = absl::StrCat(stats.digest, "\n");
    KILN_RETURN_IF_ERROR(WriteAll(out.get(), line.data(), line.size(), digest_path));
    if (fdatasync(out.get()) != 0) return Errno("cannot sync", digest_path);
  }
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) KILN_RETURN_IF_ERROR(SyncDir((fs::path(dest) / *it).string()));
  KILN_RETURN_IF_ERROR(SyncDir(dest));
  return stats;
}

}  // namespace kiln::registry
