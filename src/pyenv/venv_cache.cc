#include "pyenv/venv_cache.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "pyenv/run_process.h"
#include "pyenv/venv_files.h"

namespace kiln::pyenv {
namespace {

namespace fs = std::filesystem;
using internal::FileLock;

// Bump when the build recipe or layout changes: every key changes with it.
constexpr absl::string_view kFormatVersion = "kiln-venv-v1";
constexpr size_t kMaxPackages = 100;
constexpr size_t kKeyHexChars = 32;  // 128 bits of the SHA-256: short paths for shebangs
constexpr char kLocksDir[] = ".locks";

bool IsKey(absl::string_view name) {
  if (name.size() != kKeyHexChars) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'); });
}

bool HasPackageExtension(absl::string_view path) {
  std::string lower = absl::AsciiStrToLower(path);
  for (absl::string_view ext : {".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz", ".tar"}) {
    if (absl::EndsWith(lower, ext)) return true;
  }
  return false;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

absl::Status MakeDirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", path, ": ", ec.message()));
  return absl::OkStatus();
}

absl::StatusOr<std::string> MakeTempDir(const std::string& root, absl::string_view prefix) {
  std::string templ = absl::StrCat(root, "/", prefix, "XXXXXX");
  if (::mkdtemp(templ.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", templ, ": ", std::strerror(errno)));
  }
  return templ;
}

// The environment pip and venv run with: nothing inherited that could name an index, a
// config file or a user site.
std::vector<std::string> BuildEnv(const std::string& home, const std::string& tmp) {
  return {"PATH=/usr/bin:/bin",
          absl::StrCat("HOME=", home),
          absl::StrCat("TMPDIR=", tmp),
          "PIP_NO_INDEX=1",
          "PIP_DISABLE_PIP_VERSION_CHECK=1",
          "PIP_NO_INPUT=1",
          "PIP_NO_CACHE_DIR=1",
          "PIP_CONFIG_FILE=/dev/null",
          "PYTHONDONTWRITEBYTECODE=1",
          "PYTHONNOUSERSITE=1",
          "LANG=C.UTF-8"};
}

std::string LogTail(const std::string& log_path) {
  return absl::StrCat("\n--- last lines of install.log ---\n", internal::ReadTail(log_path, 30, 4000));
}

// Removes a directory on scope exit.
class TreeGuard {
 public:
  explicit TreeGuard(std::string path) : path_(std::move(path)) {}
  ~TreeGuard() { internal::RemoveTree(path_); }
  TreeGuard(const TreeGuard&) = delete;
  TreeGuard& operator=(const TreeGuard&) = delete;

 private:
  std::string path_;
};

}  // namespace

VenvCache::VenvCache(Options options) : options_(std::move(options)) {
  // Best effort: leftovers of evictions, and builds abandoned by a crashed kiln.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.root, ec)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, ".trash-")) {
      internal::RemoveTree(entry.path().string());
    } else if (absl::StartsWith(name, ".build-")) {
      struct stat st;
      if (::stat(entry.path().c_str(), &st) != 0) continue;
      absl::Time modified = absl::TimeFromTimespec(st.st_mtim);
      if (absl::Now() - modified > 2 * options_.install_timeout + absl::Hours(1)) {
        internal::RemoveTree(entry.path().string());
      }
    }
  }
}

absl::StatusOr<std::string> VenvCache::DigestFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::NotFoundError(absl::StrCat("package file ", path, " does not exist"));
  }
  FileDigest stamp;
  stamp.dev = st.st_dev;
  stamp.ino = st.st_ino;
  stamp.size = static_cast<uint64_t>(st.st_size);
  stamp.mtime_ns = absl::ToUnixNanos(absl::TimeFromTimespec(st.st_mtim));
  stamp.ctime_ns = absl::ToUnixNanos(absl::TimeFromTimespec(st.st_ctim));
  {
    MutexLock lock(&mu_);
    auto it = digests_.find(path);
    if (it != digests_.end() && it->second.dev == stamp.dev && it->second.ino == stamp.ino &&
        it->second.size == stamp.size && it->second.mtime_ns == stamp.mtime_ns &&
        it->second.ctime_ns == stamp.ctime_ns) {
      return it->second.sha256;
    }
  }
  absl::StatusOr<std::string> digest = internal::Sha256OfFile(path);
  if (absl::IsNotFound(digest.status())) {
    return absl::NotFoundError(absl::StrCat("package file ", path, " does not exist"));
  }
  if (!digest.ok()) return digest.status();
  stamp.sha256 = *digest;
  MutexLock lock(&mu_);
  digests_[path] = std::move(stamp);
  return *digest;
}

absl::StatusOr<std::string> VenvCache::ComputeKey(const std::string& base_python,
                                                  const std::vector<std::string>& packages) {
  Sha256 hash;
  internal::UpdateField(&hash, kFormatVersion);
  internal::UpdateField(&hash, base_python);
  std::error_code ec;
  // The resolved interpreter too: /usr/bin/python3 moving to a new minor version breaks venvs.
  internal::UpdateField(&hash, fs::canonical(base_python, ec).string());
  internal::UpdateField(&hash, std::to_string(packages.size()));
  for (const std::string& package : packages) {
    KILN_ASSIGN_OR_RETURN(std::string digest, DigestFile(package));
    internal::UpdateField(&hash, fs::path(package).filename().string());  // pip reads wheel tags from it
    internal::UpdateField(&hash, digest);
  }
  KILN_ASSIGN_OR_RETURN(std::string key, hash.FinalHex());
  return key.substr(0, kKeyHexChars);
}

absl::StatusOr<std::string> VenvCache::Prepare(const std::string& base_python,
                                               const std::vector<std::string>& packages) {
  if (packages.size() > kMaxPackages) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kMaxPackages, " package files are supported, got ", packages.size()));
  }
  std::vector<std::string> absolute;
  for (const std::string& package : packages) {
    if (!HasPackageExtension(package)) {
      return absl::InvalidArgumentError(
          absl::StrCat("package file ", package, " is neither an sdist (.tar.gz, .zip) nor a wheel (.whl)"));
    }
    std::error_code ec;
    absolute.push_back(fs::absolute(package, ec).lexically_normal().string());
  }
  if (::access(base_python.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("base python ", base_python, " is not an executable: ", std::strerror(errno)));
  }
  KILN_ASSIGN_OR_RETURN(std::string key, ComputeKey(base_python, absolute));

  const std::string& root = options_.root;
  KILN_RETURN_IF_ERROR(MakeDirs(absl::StrCat(root, "/", kLocksDir)));
  const std::string final_dir = absl::StrCat(root, "/", key);
  const std::string python = absl::StrCat(final_dir, "/bin/python");
  {
    // Held while checking, building and touching, so an evictor or a second builder of the
    // same key (thread or process) waits or skips.
    KILN_ASSIGN_OR_RETURN(FileLock lock, FileLock::Lock(absl::StrCat(root, "/", kLocksDir, "/", key, ".lock"),
                                                        absl::Now() + options_.install_timeout + absl::Minutes(1)));
    if (!PathExists(python)) {
      KILN_RETURN_IF_ERROR(Build(key, base_python, absolute));
    }
    internal::TouchPath(final_dir);
  }
  Evict(key);
  return python;
}

absl::Status VenvCache::Build(const std::string& key, const std::string& base_python,
                              const std::vector<std::string>& packages) {
  const std::string& root = options_.root;
  KILN_ASSIGN_OR_RETURN(std::string build_dir, MakeTempDir(root, absl::StrCat(".build-", key, "-")));
  TreeGuard cleanup(build_dir);
  const std::string venv = absl::StrCat(build_dir, "/venv");
  const std::string home = absl::StrCat(build_dir, "/home");
  const std::string tmp = absl::StrCat(build_dir, "/tmp");
  const std::string log = absl::StrCat(build_dir, "/install.log");
  KILN_RETURN_IF_ERROR(MakeDirs(home));
  KILN_RETURN_IF_ERROR(MakeDirs(tmp));
  const std::vector<std::string> env = BuildEnv(home, tmp);
  const absl::Time deadline = absl::Now() + options_.install_timeout;
  auto timed_out = [&](absl::string_view step) {
    return absl::DeadlineExceededError(absl::StrCat(step, " did not finish within ",
                                                    absl::FormatDuration(options_.install_timeout),
                                                    " (install_timeout); the installer was killed", LogTail(log)));
  };

  absl::StatusOr<int> exit = RunProcess({base_python, "-m", "venv", "--system-site-packages", venv}, env, build_dir,
                                        log, deadline - absl::Now());
  if (absl::IsDeadlineExceeded(exit.status())) return timed_out("python -m venv");
  if (!exit.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot run ", base_python, ": ", exit.status().message()));
  }
  if (*exit != 0) {
    std::string tail = internal::ReadTail(log, 30, 4000);
    if (absl::StrContains(tail, "ensurepip") || absl::StrContains(tail, "No module named venv")) {
      return absl::FailedPreconditionError(absl::StrCat(base_python,
                                                        " -m venv is unavailable: install Debian's python3-venv "
                                                        "(apt-get install python3-venv)",
                                                        LogTail(log)));
    }
    return absl::FailedPreconditionError(absl::StrCat(base_python, " -m venv failed (exit ", *exit, ")", LogTail(log)));
  }

  if (!packages.empty()) {
    std::vector<std::string> argv = {
        absl::StrCat(venv, "/bin/python"), "-m",        "pip", "install", "--no-index", "--no-build-isolation",
        "--disable-pip-version-check",     "--no-input"};
    argv.insert(argv.end(), packages.begin(), packages.end());
    exit = RunProcess(argv, env, build_dir, log, deadline - absl::Now());
    if (absl::IsDeadlineExceeded(exit.status())) return timed_out("pip install");
    if (!exit.ok()) return exit.status();
    if (*exit != 0) {
      std::string content = internal::ReadTail(log, 100000, 1 << 20);
      std::string reasons = internal::ExtractPipErrors(content);
      return absl::FailedPreconditionError(absl::StrCat("pip could not install the packages offline (exit ", *exit,
                                                        "): ", reasons.empty() ? "see the log below" : reasons,
                                                        LogTail(log)));
    }
  }

  // Console scripts and activate scripts name the build path; give them the final one.
  const std::string final_dir = absl::StrCat(root, "/", key);
  KILN_RETURN_IF_ERROR(internal::RewritePathInTextFiles(absl::StrCat(venv, "/bin"), venv, final_dir));
  KILN_RETURN_IF_ERROR(internal::RewritePathInTextFiles(venv, venv, final_dir));
  const std::string venv_log = absl::StrCat(venv, "/install.log");
  if (::rename(log.c_str(), venv_log.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("rename ", log, ": ", std::strerror(errno)));
  }
  if (::rename(venv.c_str(), final_dir.c_str()) != 0) {
    // Someone built it without our lock (should not happen): theirs is as good as ours.
    if ((errno == EEXIST || errno == ENOTEMPTY) && PathExists(final_dir + "/bin/python")) {
      return absl::OkStatus();
    }
    return absl::InternalError(absl::StrCat("rename ", venv, " to ", final_dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

bool VenvCache::InUse(const std::string& key) const {
  auto it = in_use_.find(key);
  return it != in_use_.end() && it->second > 0;
}

void VenvCache::Evict(const std::string& keep_key) {
  const std::string& root = options_.root;
  struct Entry {
    absl::Time last_used;
    std::string key;
  };
  std::vector<Entry> entries;
  std::error_code ec;
  for (const auto& dir_entry : fs::directory_iterator(root, ec)) {
    std::string name = dir_entry.path().filename().string();
    if (!IsKey(name)) continue;
    struct stat st;
    if (::stat(dir_entry.path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    entries.push_back({absl::TimeFromTimespec(st.st_mtim), std::move(name)});
  }
  if (entries.size() <= static_cast<size_t>(std::max(options_.max_entries, 0))) return;
  size_t excess = entries.size() - static_cast<size_t>(std::max(options_.max_entries, 0));
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.last_used < b.last_used || (a.last_used == b.last_used && a.key < b.key);
  });
  const absl::Time now = absl::Now();
  for (const Entry& entry : entries) {
    if (excess == 0) break;
    if (entry.key == keep_key || now - entry.last_used < options_.eviction_grace) continue;
    const std::string lock_path = absl::StrCat(root, "/", kLocksDir, "/", entry.key, ".lock");
    absl::StatusOr<std::optional<FileLock>> lock = FileLock::TryLock(lock_path);
    if (!lock.ok() || !lock->has_value()) continue;  // being built, touched or evicted
    const std::string dir = absl::StrCat(root, "/", entry.key);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) {
      --excess;  // someone else evicted it
      continue;
    }
    if (absl::TimeFromTimespec(st.st_mtim) != entry.last_used) continue;  // used meanwhile
    std::string trash;
    {
      MutexLock mu_lock(&mu_);  // Acquire cannot slip in between the check and rename
      if (InUse(entry.key)) continue;
      absl::StatusOr<std::string> trash_dir = MakeTempDir(root, absl::StrCat(".trash-", entry.key, "-"));
      if (!trash_dir.ok()) continue;
      trash = *trash_dir;
      if (::rename(dir.c_str(), (trash + "/venv").c_str()) != 0) {
        internal::RemoveTree(trash);
        continue;
      }
    }
    ::unlink(lock_path.c_str());  // while held: FileLock re-checks the inode after locking
    lock->reset();
    internal::RemoveTree(trash);
    --excess;
  }
}

void VenvCache::Acquire(const std::string& python) {
  fs::path dir = fs::path(python).parent_path().parent_path();
  std::string key = dir.filename().string();
  if (!IsKey(key)) return;
  {
    MutexLock lock(&mu_);
    ++in_use_[key];
  }
  internal::TouchPath(dir.string());
}

void VenvCache::Release(const std::string& python) {
  fs::path dir = fs::path(python).parent_path().parent_path();
  std::string key = dir.filename().string();
  {
    MutexLock lock(&mu_);
    auto it = in_use_.find(key);
    if (it == in_use_.end()) return;
    if (--it->second <= 0) in_use_.erase(it);
  }
  internal::TouchPath(dir.string());
}

std::vector<std::string> VenvCache::ListForTest() const {
  std::vector<std::string> pythons;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.root, ec)) {
    std::string name = entry.path().filename().string();
    if (IsKey(name)) pythons.push_back(absl::StrCat(options_.root, "/", name, "/bin/python"));
  }
  std::sort(pythons.begin(), pythons.end());
  return pythons;
}

}  // namespace kiln::pyenv
