#ifndef KILN_CLIENT_STORAGE_CLIENT_H_
#define KILN_CLIENT_STORAGE_CLIENT_H_

// A client for kiln's object storage routes (/kiln/v1/storage/..., docs/extensions.md "Storage"):
// upload, download, list and delete the objects behind gs:// URIs on a kiln server.
//
//   KILN_ASSIGN_OR_RETURN(StorageClient storage, StorageClient::Create(config.endpoint, config.token));
//   KILN_ASSIGN_OR_RETURN(GcsUri uri, ParseGcsUri("gs://my-bucket/pkgs/trainer-0.1.tar.gz"));
//   KILN_RETURN_IF_ERROR(storage.Upload(uri, bytes).status());
//
// Errors are absl::Status as ApiClient gives them (Google error JSON → code and message;
// UNAVAILABLE when the server cannot be reached). Not thread-safe (one connection).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace kiln::client {

// gs://BUCKET[/OBJECT]: `object` is "" for the bucket itself and may end in '/' (a folder).
struct GcsUri {
  std::string bucket;
  std::string object;

  std::string ToString() const;  // "gs://bucket" or "gs://bucket/object"
};

// True when `text` starts with "gs://".
bool IsGcsUri(absl::string_view text);

// INVALID_ARGUMENT (naming `uri`) unless it is gs://BUCKET[/OBJECT] with a non-empty bucket
// and no empty, "." or ".." object segments (a trailing '/' is allowed).
absl::StatusOr<GcsUri> ParseGcsUri(absl::string_view uri);

struct StorageObject {
  std::string name;  // gs://bucket/object
  int64_t size = 0;
  std::string update_time;  // RFC 3339
};

struct StorageListing {
  std::vector<StorageObject> objects;  // in name order
  std::vector<std::string> prefixes;   // "gs://bucket/folder/" (delimited listings only)
  bool truncated = false;              // the server's 10,000-entry cap was hit
};

class StorageClient {
 public:
  struct Options {
    absl::Duration connect_timeout = absl::Seconds(5);
    absl::Duration read_timeout = absl::Minutes(5);
    absl::Duration write_timeout = absl::Minutes(5);
  };

  // `endpoint`: http://HOST:PORT (ParseEndpoint); `token`, when not empty, is sent as a bearer
  // token.
  static absl::StatusOr<StorageClient> Create(absl::string_view endpoint, absl::string_view token,
                                              const Options& options);
  static absl::StatusOr<StorageClient> Create(absl::string_view endpoint, absl::string_view token) {
    return Create(endpoint, token, Options());
  }
  StorageClient(StorageClient&&) noexcept;
  StorageClient& operator=(StorageClient&&) noexcept;
  ~StorageClient();

  // PUT: stores `bytes` as the object `uri` (which must name an object, not end in '/').
  // Returns the server's answer {"name", "size", "sha256"}. The server caps request bodies
  // (32 MiB by default): larger objects fail with its INVALID_ARGUMENT.
  absl::StatusOr<nlohmann::json> Upload(const GcsUri& uri, absl::string_view bytes);

  // GET: the object's bytes. NOT_FOUND when missing; INVALID_ARGUMENT for a folder.
  absl::StatusOr<std::string> Download(const GcsUri& uri);

  // Lists `bucket` under `prefix` (a string prefix of object names): with `recursive` false,
  // objects directly under the prefix's folder plus sub-folder prefixes; else every object.
  // NOT_FOUND when the bucket does not exist.
  absl::StatusOr<StorageListing> List(absl::string_view bucket, absl::string_view prefix, bool recursive);

  // DELETE: removes the object. NOT_FOUND when missing.
  absl::Status Delete(const GcsUri& uri);

  const std::string& endpoint() const;

 private:
  struct Impl;
  explicit StorageClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::client

#endif  // KILN_CLIENT_STORAGE_CLIENT_H_
