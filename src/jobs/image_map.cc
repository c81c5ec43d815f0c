#include "jobs/image_map.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace kiln::jobs {
namespace {

constexpr const char* kImageHosts[] = {
    "*-docker.pkg.dev/vertex-ai/training/",
    "gcr.io/cloud-aiplatform/training/",
    "*.gcr.io/cloud-aiplatform/training/",
};
constexpr const char* kPythonFrameworks[] = {"sklearn-cpu*", "scikit-learn-*", "xgboost-*", "pytorch-*"};
constexpr const char* kTensorFlowFrameworks[] = {"tf-cpu*", "tf-gpu*", "tf2-*"};

ImageMapEntry SystemPythonEntry(std::string pattern, bool needs_tensorflow) {
  ImageMapEntry entry;
  entry.pattern = std::move(pattern);
  entry.path_prefix = {"/usr/bin", "/bin"};
  entry.python = std::string(ImageMap::kSystemPython);
  entry.needs_tensorflow = needs_tensorflow;
  return entry;
}

ImageRuntime ToRuntime(absl::string_view image_uri, const ImageMapEntry& entry, bool builtin) {
  ImageRuntime runtime;
  runtime.image_uri = std::string(image_uri);
  runtime.pattern = entry.pattern;
  runtime.builtin = builtin;
  runtime.path_prefix = entry.path_prefix;
  runtime.working_dir = entry.working_dir;
  runtime.entrypoint = entry.entrypoint;
  runtime.python = entry.python;
  return runtime;
}

}  // namespace

bool GlobMatch(absl::string_view pattern, absl::string_view text) {
  // Iterative matcher with single-star backtracking: O(|pattern| * |text|) worst case.
  size_t p = 0, t = 0;
  size_t star = absl::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::vector<ImageMapEntry> ImageMap::BuiltinEntries() {
  std::vector<ImageMapEntry> entries;
  for (const char* host : kImageHosts) {
    for (const char* framework : kPythonFrameworks) {
      entries.push_back(SystemPythonEntry(absl::StrCat(host, framework), false));
    }
    for (const char* framework : kTensorFlowFrameworks) {
      entries.push_back(SystemPythonEntry(absl::StrCat(host, framework), true));
    }
  }
  return entries;
}

ImageMap::ImageMap(std::vector<ImageMapEntry> user_entries, Options options)
    : user_entries_(std::move(user_entries)), builtin_entries_(BuiltinEntries()), options_(options) {}

absl::StatusOr<ImageRuntime> ImageMap::Resolve(absl::string_view image_uri) const {
  if (!image_uri.empty()) {
    for (const ImageMapEntry& entry : user_entries_) {
      if (GlobMatch(entry.pattern, image_uri)) return ToRuntime(image_uri, entry, false);
    }
    for (const ImageMapEntry& entry : builtin_entries_) {
      if (!GlobMatch(entry.pattern, image_uri)) continue;
      if (entry.needs_tensorflow && !options_.tensorflow_available) {
        return absl::FailedPreconditionError(
            absl::StrCat("image '", image_uri,
                         "': TensorFlow images need a TensorFlow installation; Debian has none: install "
                         "one for ",
                         kSystemPython,
                         " and set tensorflow_available in kiln's config, or "
                         "use a custom image map entry (pattern, path_prefix, python) for this image"));
      }
      return ToRuntime(image_uri, entry, true);
    }
  }
  return absl::NotFoundError(
      absl::StrCat("image '", image_uri,
                   "' maps to no local runtime; add an image map entry to kiln's config (pattern, "
                   "path_prefix, working_dir, entrypoint, python) or use one of Vertex's prebuilt "
                   "training images (sklearn, scikit-learn, xgboost, pytorch)"));
}

}  // namespace kiln::jobs
