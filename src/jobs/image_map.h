#ifndef KILN_JOBS_IMAGE_MAP_H_
#define KILN_JOBS_IMAGE_MAP_H_

// kiln runs no containers: a replica's image URI is mapped to a local runtime (PATH
// entries, working directory, entrypoint, Python interpreter) by glob patterns.
//
//   ImageMap images({{.pattern = "europe-docker.pkg.dev/me/train/*",
//                     .path_prefix = {"/opt/train/bin"}, .entrypoint = {"train"}}},
//                   {.tensorflow_available = false});
//   KILN_ASSIGN_OR_RETURN(ImageRuntime rt, images.Resolve(spec.image_uri()));
//
// User entries are tried first, in order, then the built-in defaults (BuiltinEntries()); the
// first match wins. Immutable and thread-safe after construction; runs nothing.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kiln::jobs {

// One image map entry, as written in kiln's config.
struct ImageMapEntry {
  // Glob over the whole image URI (tag included); '*' matches any run of characters,
  // '/' and ':' included. Everything else matches itself.
  std::string pattern{};
  std::vector<std::string> path_prefix{};  // folders put first in PATH, in order
  std::string working_dir{};               // "" = the replica's own folder
  std::vector<std::string> entrypoint{};   // argv used when containerSpec.command is empty
  std::string python{};                    // interpreter for pythonPackageSpec; "" = none
  // Only for built-in TensorFlow entries: usable only when Options::tensorflow_available.
  bool needs_tensorflow = false;
};

// What an image URI resolved to.
struct ImageRuntime {
  std::string image_uri;
  std::string pattern;  // the entry that matched
  bool builtin = false;
  std::vector<std::string> path_prefix;
  std::string working_dir;
  std::vector<std::string> entrypoint;
  std::string python;
};

struct ImageMapOptions {
  // Whether /usr/bin/python3 can import TensorFlow. Decided by the caller (for example by
  // running `python3 -c "import tensorflow"` once at startup); this module runs nothing.
  bool tensorflow_available = false;
};

class ImageMap {
 public:
  using Options = ImageMapOptions;

  // The interpreter and PATH the built-in entries use (Debian's Python).
  static constexpr absl::string_view kSystemPython = "/usr/bin/python3";

  ImageMap() : ImageMap(std::vector<ImageMapEntry>{}, Options{}) {}
  explicit ImageMap(std::vector<ImageMapEntry> user_entries, Options options = {});

  // The runtime for `image_uri`:
  // - NOT_FOUND "image 'x' maps to no local runtime; add an image map entry ..." when no
  //   entry matches (and for an empty URI);
  // - FAILED_PRECONDITION "TensorFlow images need a TensorFlow installation; ..." when only
  //   a built-in TensorFlow entry matches and !tensorflow_available.
  // Messages carry no field path: callers wrap them with FieldError.
  absl::StatusOr<ImageRuntime> Resolve(absl::string_view image_uri) const;

  // Vertex's prebuilt training images (sklearn, scikit-learn, xgboost, pytorch, and
  // needs_tensorflow entries for tf-cpu, tf-gpu, tf2-), under *-docker.pkg.dev/vertex-ai/
  // training/ and [*.]gcr.io/cloud-aiplatform/training/. All use kSystemPython with
  // PATH /usr/bin:/bin first and no entrypoint (such images need containerSpec.command).
  static std::vector<ImageMapEntry> BuiltinEntries();

 private:
  std::vector<ImageMapEntry> user_entries_;
  std::vector<ImageMapEntry> builtin_entries_;
  Options options_;
};

// True when `text` matches the glob `pattern` ('*' = any run of characters, possibly empty).
bool GlobMatch(absl::string_view pattern, absl::string_view text);

}  // namespace kiln::jobs

#endif  // KILN_JOBS_IMAGE_MAP_H_
