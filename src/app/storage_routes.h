#ifndef KILN_APP_STORAGE_ROUTES_H_
#define KILN_APP_STORAGE_ROUTES_H_

// kiln's object storage over REST (docs/extensions.md, "Storage"): the bytes behind gs:// URIs,
// which live in local folders (storage::ObjectStore), uploaded, read, listed and deleted by
// clients that are not on kiln's machine.
//
//   PUT    /kiln/v1/storage/{bucket}/{object=**}   body = the bytes → {"name","size","sha256"}
//   GET    /kiln/v1/storage/{bucket}/{object=**}   → the bytes (application/octet-stream)
//   DELETE /kiln/v1/storage/{bucket}/{object=**}   → {}
//   GET    /kiln/v1/storage/{bucket}?prefix=P&delimiter=/
//          → {"objects": [{"name","size","updateTime"}], "prefixes": [...], "truncated": bool}
//
// Every path goes through ObjectStore::ToLocalPath, so escapes ("..", symlinks out of the
// bucket) are refused with INVALID_ARGUMENT naming the URI. The bucket kStorageRegistryBucket is
// read-only here (PERMISSION_DENIED for PUT and DELETE). Errors are absl::Status, which the Api
// renders as Google's error JSON.
//
// Thread-safe: the handlers share nothing but the (immutable) ObjectStore. Writes are atomic
// (a temporary file in the target folder, then rename), so readers never see half an object.

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/api.h"
#include "storage/object_store.h"

namespace kiln::app {

// The bucket where the model registry keeps immutable model versions.
inline constexpr absl::string_view kStorageRegistryBucket = "kiln-registry";

// At most this many entries (objects plus prefixes, the first ones in name order) per list.
inline constexpr size_t kStorageMaxListEntries = 10000;

// Objects larger than this are not served by GET (the response is held in memory).
inline constexpr size_t kStorageMaxDownloadBytes = size_t{2} << 30;

// Adds the storage routes to `api`. `store` must outlive `api`'s use of the routes.
absl::Status RegisterStorageRoutes(server::Api& api, const storage::ObjectStore* store);

}  // namespace kiln::app

#endif  // KILN_APP_STORAGE_ROUTES_H_
