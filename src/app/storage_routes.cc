#include "app/storage_routes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/unique_fd.h"
#include "nlohmann/json.hpp"

namespace kiln::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Uploads in progress: hidden from listings.
constexpr absl::string_view kTempPrefix = ".kiln-upload-";

std::string QueryValue(const server::HttpRequest& request, absl::string_view key) {
  for (const auto& [k, v] : request.query) {
    if (k == key) return v;
  }
  return "";
}

absl::Status CheckBucket(absl::string_view bucket) {
  if (storage::IsValidBucketName(bucket)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("'", bucket,
                   "' is not a valid bucket name: use 3-63 characters of a-z, 0-9, '.', '_' and '-', "
                   "starting and ending with a letter or digit"));
}

absl::Status CheckWritable(absl::string_view bucket) {
  if (bucket != kStorageRegistryBucket) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("gs://", bucket,
                   " is managed by the model registry and is read-only; upload models with "
                   "models.upload (`kiln models upload`) instead"));
}

absl::Status ErrnoError(absl::string_view what, absl::string_view uri, int error) {
  return absl::InternalError(absl::StrCat("cannot ", what, " ", uri, ": ", std::strerror(error)));
}

// What is at `path` (following symlinks): nullopt when nothing.
std::optional<struct stat> Stat(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return st;
}

absl::Status FolderError(absl::string_view bucket, absl::string_view object) {
  return absl::InvalidArgumentError(
      absl::StrCat("gs://", bucket, "/", object, " is a folder, not an object; list it with GET /kiln/v1/storage/",
                   bucket, "?prefix=", object, "/ (`kiln storage ls gs://", bucket, "/", object, "/`)"));
}

// Writes `bytes` to `path` atomically: a temporary file beside it, synced, then renamed over it.
absl::Status WriteAtomically(const std::string& path, absl::string_view bytes, absl::string_view uri) {
  fs::path target(path);
  std::string temp = (target.parent_path() / absl::StrCat(kTempPrefix, "XXXXXX")).string();
  UniqueFd fd(::mkstemp(temp.data()));
  if (!fd.valid()) return ErrnoError("create a temporary file for", uri, errno);
  auto fail = [&](absl::string_view what) {
    int error = errno;
    fd.reset();
    ::unlink(temp.c_str());
    return ErrnoError(what, uri, error);
  };
  if (::fchmod(fd.get(), 0644) != 0) return fail("set the mode of");
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail("sync");
  if (fd.Close() != 0) return fail("write");
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int error = errno;
    ::unlink(temp.c_str());
    return ErrnoError("write", uri, error);
  }
  return absl::OkStatus();
}

absl::StatusOr<server::HttpResponse> Put(const storage::ObjectStore& store, const std::string& bucket,
                                         const std::string& object, const server::HttpRequest& request) {
  KILN_RETURN_IF_ERROR(CheckBucket(bucket));
  KILN_RETURN_IF_ERROR(CheckWritable(bucket));
  const std::string uri = absl::StrCat("gs://", bucket, "/", object);
  KILN_ASSIGN_OR_RETURN(std::string path, store.ToLocalPath(uri, "object"));
  if (std::optional<struct stat> st = Stat(path); st.has_value() && S_ISDIR(st->st_mode)) {
    return FolderError(bucket, object);
  }
  // Parent folders: each one that exists must be a folder.
  fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) {
    if (fs::exists(parent) || ec == std::errc::not_a_directory || ec == std::errc::file_exists) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot write ", uri, ": a parent of it is an object, not a folder (", ec.message(), ")"));
    }
    return absl::InternalError(absl::StrCat("cannot create the folder for ", uri, ": ", ec.message()));
  }
  // The folders now exist: resolve again so a symlink planted meanwhile cannot lead outside.
  KILN_ASSIGN_OR_RETURN(path, store.ToLocalPath(uri, "object"));
  KILN_ASSIGN_OR_RETURN(std::string sha256, Sha256Hex(request.body));
  KILN_RETURN_IF_ERROR(WriteAtomically(path, request.body, uri));
  server::HttpResponse response;
  response.body = json{{"name", uri}, {"size", static_cast<int64_t>(request.body.size())}, {"sha256", sha256}}.dump(2);
  return response;
}

absl::StatusOr<server::HttpResponse> Get(const storage::ObjectStore& store, const std::string& bucket,
                                         const std::string& object) {
  KILN_RETURN_IF_ERROR(CheckBucket(bucket));
  const std::string uri = absl::StrCat("gs://", bucket, "/", object);
  KILN_ASSIGN_OR_RETURN(std::string path, store.ToLocalPath(uri, "object"));
  std::optional<struct stat> st = Stat(path);
  if (!st.has_value()) return absl::NotFoundError(absl::StrCat("No such object: ", uri));
  if (S_ISDIR(st->st_mode)) return FolderError(bucket, object);
  if (!S_ISREG(st->st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(uri, " is not a regular file on the kiln machine"));
  }
  if (static_cast<uint64_t>(st->st_size) > kStorageMaxDownloadBytes) {
    return absl::FailedPreconditionError(
        absl::StrCat(uri, " is ", st->st_size, " bytes; this route serves objects up to ", kStorageMaxDownloadBytes,
                     " bytes. Read it on the kiln machine at ", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoError("read", uri, errno);
  server::HttpResponse response;
  response.content_type = "application/octet-stream";
  response.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::InternalError(absl::StrCat("cannot read ", uri));
  return response;
}

absl::StatusOr<server::HttpResponse> Delete(const storage::ObjectStore& store, const std::string& bucket,
                                            const std::string& object) {
  KILN_RETURN_IF_ERROR(CheckBucket(bucket));
  KILN_RETURN_IF_ERROR(CheckWritable(bucket));
  const std::string uri = absl::StrCat("gs://", bucket, "/", object);
  KILN_ASSIGN_OR_RETURN(std::string path, store.ToLocalPath(uri, "object"));
  KILN_ASSIGN_OR_RETURN(std::string bucket_root, store.ToLocalPath(absl::StrCat("gs://", bucket), "bucket"));
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return absl::NotFoundError(absl::StrCat("No such object: ", uri));
  if (S_ISDIR(st.st_mode)) return FolderError(bucket, object);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("No such object: ", uri));
    return ErrnoError("delete", uri, errno);
  }
  // Folders exist only to hold objects (as in Cloud Storage): drop the ones this emptied.
  for (fs::path dir = fs::path(path).parent_path(); dir.string().size() > bucket_root.size(); dir = dir.parent_path()) {
    if (::rmdir(dir.c_str()) != 0) break;
  }
  server::HttpResponse response;
  response.body = "{}";
  return response;
}

struct Listing {
  // Name → entry (an object or a prefix), keeping the first kStorageMaxListEntries names.
  std::map<std::string, json> entries;
  bool truncated = false;

  void Add(std::string name, json entry) {
    if (entries.size() >= kStorageMaxListEntries) {
      truncated = true;
      if (name >= entries.rbegin()->first) return;
      entries.erase(std::prev(entries.end()));
    }
    entries.emplace(std::move(name), std::move(entry));
  }
};

json ObjectEntry(const std::string& uri, const struct stat& st) {
  return {{"name", uri},
          {"size", static_cast<int64_t>(st.st_size)},
          {"updateTime",
           absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", absl::TimeFromTimespec(st.st_mtim), absl::UTCTimeZone())}};
}

// Adds what is at `local` (named `object` in the bucket): an object, or, for a folder, a prefix
// (with a delimiter) or every object under it (without). Symlinks are followed only when they
// stay in the bucket.
void AddEntry(const storage::ObjectStore& store, const std::string& bucket, const std::string& object,
              const fs::path& local, bool delimited, Listing& listing) {
  const std::string uri = absl::StrCat("gs://", bucket, "/", object);
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(local, ec)) && !store.ToLocalPath(uri, "object").ok()) return;
  struct stat st;
  if (::stat(local.c_str(), &st) != 0) return;
  if (S_ISREG(st.st_mode)) {
    listing.Add(uri, ObjectEntry(uri, st));
    return;
  }
  if (!S_ISDIR(st.st_mode)) return;
  if (delimited) {
    std::string prefix = absl::StrCat(uri, "/");
    listing.Add(prefix, json(prefix));
    return;
  }
  if (fs::is_symlink(fs::symlink_status(local, ec))) return;  // no loops: real folders only
  for (fs::directory_iterator it(local, fs::directory_options::skip_permission_denied, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (absl::StartsWith(name, kTempPrefix)) continue;
    AddEntry(store, bucket, absl::StrCat(object, "/", name), it->path(), false, listing);
  }
}

absl::StatusOr<server::HttpResponse> List(const storage::ObjectStore& store, const std::string& bucket,
                                          const server::HttpRequest& request) {
  KILN_RETURN_IF_ERROR(CheckBucket(bucket));
  const std::string prefix = QueryValue(request, "prefix");
  const std::string delimiter = QueryValue(request, "delimiter");
  if (!delimiter.empty() && delimiter != "/") {
    return FieldError("delimiter", absl::StrCat("must be \"/\" or empty, got \"", delimiter, "\""));
  }
  const std::string bucket_uri = absl::StrCat("gs://", bucket);
  if (!prefix.empty()) {
    KILN_RETURN_IF_ERROR(store.ToLocalPath(absl::StrCat(bucket_uri, "/", prefix), "prefix").status());
  }
  KILN_ASSIGN_OR_RETURN(std::string bucket_root, store.ToLocalPath(bucket_uri, "bucket"));
  if (std::optional<struct stat> st = Stat(bucket_root); !st.has_value() || !S_ISDIR(st->st_mode)) {
    return absl::NotFoundError(absl::StrCat("The bucket ", bucket_uri, " does not exist (it has no objects yet)"));
  }
  // The folder holding the prefix's last segment, and that segment's start.
  const size_t slash = prefix.rfind('/');
  const std::string folder = slash == std::string::npos ? "" : prefix.substr(0, slash);
  const std::string start = slash == std::string::npos ? prefix : prefix.substr(slash + 1);
  std::string local = bucket_root;
  if (!folder.empty()) {
    KILN_ASSIGN_OR_RETURN(local, store.ToLocalPath(absl::StrCat(bucket_uri, "/", folder), "prefix"));
  }

  Listing listing;
  std::error_code ec;
  if (fs::is_directory(local, ec)) {
    for (fs::directory_iterator it(local, fs::directory_options::skip_permission_denied, ec), end; !ec && it != end;
         it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (!absl::StartsWith(name, start) || absl::StartsWith(name, kTempPrefix)) continue;
      std::string object = folder.empty() ? name : absl::StrCat(folder, "/", name);
      AddEntry(store, bucket, object, it->path(), !delimiter.empty(), listing);
    }
  }
  json objects = json::array();
  json prefixes = json::array();
  for (auto& [name, entry] : listing.entries) {
    (entry.is_string() ? prefixes : objects).push_back(std::move(entry));
  }
  server::HttpResponse response;
  response.body =
      json{{"objects", std::move(objects)}, {"prefixes", std::move(prefixes)}, {"truncated", listing.truncated}}.dump(
          2);
  return response;
}

}  // namespace

absl::Status RegisterStorageRoutes(server::Api& api, const storage::ObjectStore* store) {
  constexpr absl::string_view kObject = "/kiln/v1/storage/{bucket}/{object=**}";
  // Bindings: [0] bucket, [1] object.
  KILN_RETURN_IF_ERROR(api.RegisterRaw(
      "PUT", kObject, [store](const server::HttpRequest& request, const auto& bindings, const server::CallContext&) {
        return Put(*store, bindings.at(0).second, bindings.at(1).second, request);
      }));
  KILN_RETURN_IF_ERROR(api.RegisterRaw(
      "GET", kObject, [store](const server::HttpRequest&, const auto& bindings, const server::CallContext&) {
        return Get(*store, bindings.at(0).second, bindings.at(1).second);
      }));
  KILN_RETURN_IF_ERROR(api.RegisterRaw(
      "DELETE", kObject, [store](const server::HttpRequest&, const auto& bindings, const server::CallContext&) {
        return Delete(*store, bindings.at(0).second, bindings.at(1).second);
      }));
  return api.RegisterRaw("GET", "/kiln/v1/storage/{bucket}",
                         [store](const server::HttpRequest& request, const auto& bindings, const server::CallContext&) {
                           return List(*store, bindings.at(0).second, request);
                         });
}

}  // namespace kiln::app
