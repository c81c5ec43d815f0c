#ifndef KILN_REGISTRY_SNAPSHOT_H_
#define KILN_REGISTRY_SNAPSHOT_H_

// Immutable copies of model artifacts for the registry.
//
// Why not hard links: a link shares the inode, and a later run that rewrites the same output
// file in place (open(O_TRUNC) keeps the inode) would change the registered version. So each
// file is cloned with ioctl(FICLONE) — copy-on-write, instant, no extra space on btrfs/XFS —
// and copied byte by byte where the filesystem (or a cross-device source) cannot clone.
// Either way the snapshot owns its own inodes; files are made read-only (0444) and fsync'ed.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kiln::registry {

// The file in each snapshot folder holding its digest; neither copied from a source nor digested.
inline constexpr char kDigestFile[] = ".kiln-digest";

struct SnapshotStats {
  std::string digest;  // "sha256:<64 hex>", see DigestTree
  int64_t files = 0;
  int64_t bytes = 0;
  int64_t cloned = 0;  // files cloned with FICLONE (the rest were copied)
};

// Copies every regular file under the folder `source` into `dest` (which must not exist; its
// parent must), keeping relative paths, then writes `dest`/.kiln-digest. FAILED_PRECONDITION
// "no model artifacts at <source_uri>" when `source` is missing, not a folder or holds no
// regular files; FAILED_PRECONDITION for a symlink or special file in the tree (kiln snapshots
// only what it can copy faithfully). On error `dest` may be partly written: the caller removes it.
absl::StatusOr<SnapshotStats> SnapshotTree(const std::string& source, const std::string& dest,
                                           absl::string_view source_uri);

// SHA-256 over the regular files under `root` (except a top-level .kiln-digest) in byte order of
// their relative paths: for each, the path, a NUL, the size as 8 little-endian bytes, the bytes.
absl::StatusOr<std::string> DigestTree(const std::string& root);

}  // namespace kiln::registry

#endif  // KILN_REGISTRY_SNAPSHOT_H_
