#ifndef KILN_STORAGE_OBJECT_STORE_H_
#define KILN_STORAGE_OBJECT_STORE_H_

// Object URIs (gs://, file://) to local filesystem paths, the way Cloud Storage FUSE hands a
// Vertex replica /gcs/<bucket>/<object> paths.
//
//   ObjectStore store("/home/me/.kiln/storage", {{"datasets", "/srv/datasets"}});
//   store.ToLocalPath("gs://b/models/", "baseOutputDirectory.outputUriPrefix")
//       → "/home/me/.kiln/storage/b/models/"
//   store.ToLocalPath("gs://datasets/x.csv", f)   → "/srv/datasets/x.csv"
//   store.ToLocalPath("file:///tmp/pkg.tar.gz", f) → "/tmp/pkg.tar.gz"
//   store.ToUri("/home/me/.kiln/storage/b/models/") → "gs://b/models/"
//
// Thread-safe: immutable after construction. Only ToLocalPath touches the filesystem (to
// resolve symlinks of paths that exist); nothing is created.

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kiln::storage {

// True for a valid Cloud Storage bucket name as kiln accepts it: 3-63 characters of
// [a-z0-9._-], starting and ending with a letter or digit.
bool IsValidBucketName(absl::string_view bucket);

class ObjectStore {
 public:
  // `root`: the folder holding one sub-folder per bucket ($KILN_HOME/storage).
  // `bucket_roots`: optional per-bucket overrides, bucket name → absolute folder used instead
  // of <root>/<bucket>. Relative folders are made absolute against the current directory;
  // trailing slashes are dropped. Nothing is checked or created here.
  explicit ObjectStore(std::string root, std::map<std::string, std::string> bucket_roots = {});

  // The local path for `uri`:
  //   gs://bucket            → <bucket root>
  //   gs://bucket/a/b        → <bucket root>/a/b      (a trailing '/' is kept)
  //   file:///abs/path       → /abs/path              (also file://localhost/abs/path)
  // where <bucket root> is the override for the bucket or <root>/<bucket>.
  // INVALID_ARGUMENT "<field>: ..." (saying what is wrong and what is accepted) for: empty
  // URIs, other schemes, empty or invalid bucket names, object paths with "." or ".."
  // segments (also percent-encoded, e.g. "%2e%2e" or "..%2f"), backslashes or NUL (also
  // "%5c", "%00"); and, for gs:// URIs whose local path (or an existing parent of it)
  // resolves through a symlink to somewhere outside the bucket root.
  // The object path is otherwise used verbatim (no percent-decoding).
  absl::StatusOr<std::string> ToLocalPath(absl::string_view uri, absl::string_view field) const;

  // The inverse of ToLocalPath for gs:// URIs: a path under a bucket override or under
  // <root>/<valid bucket name> becomes gs://bucket[/object] (a trailing '/' is kept). The path
  // is normalised lexically first ("a/./b", "a//b"). nullopt for the root itself, paths
  // outside it, and relative paths.
  std::optional<std::string> ToUri(absl::string_view local_path) const;

  const std::string& root() const { return root_; }

 private:
  std::string BucketRoot(const std::string& bucket) const;

  std::string root_;                                 // absolute, no trailing '/'
  std::map<std::string, std::string> bucket_roots_;  // bucket → absolute folder, no trailing '/'
};

}  // namespace kiln::storage

#endif  // KILN_STORAGE_OBJECT_STORE_H_
