#include "storage/object_store.h"

#include <deque>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/status_macros.h"

namespace kiln::storage {
namespace {

namespace fs = std::filesystem;

constexpr absl::string_view kGsScheme = "gs://";
constexpr absl::string_view kFileScheme = "file://";
constexpr int kMaxSymlinkHops = 40;

// Absolute, lexically normal, without a trailing '/' ("/" becomes "").
std::string NormalizeFolder(absl::string_view folder) {
  fs::path path{std::string(folder)};
  if (path.is_relative()) {
    std::error_code ec;
    fs::path absolute = fs::absolute(path, ec);
    if (!ec) path = absolute;
  }
  std::string normal = path.lexically_normal().string();
  while (!normal.empty() && normal.back() == '/') normal.pop_back();
  return normal;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Decodes %XX sequences; malformed ones stay literal. Used only to look for escape tricks.
std::string PercentDecode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

// Rejects object paths that could leave the folder they are mapped into.
absl::Status CheckObjectPath(absl::string_view path, absl::string_view uri, absl::string_view field) {
  // Check both the literal and the percent-decoded form: a later consumer might decode.
  for (const std::string& form : {std::string(path), PercentDecode(path)}) {
    if (form.find('\0') != std::string::npos) {
      return FieldError(field, absl::StrCat("'", uri, "' contains a NUL character; remove it"));
    }
    if (form.find('\\') != std::string::npos) {
      return FieldError(field, absl::StrCat("'", uri,
                                            "' contains a backslash; use '/' to separate "
                                            "path segments"));
    }
    for (absl::string_view segment : absl::StrSplit(form, '/')) {
      if (segment == "." || segment == "..") {
        return FieldError(field, absl::StrCat("'", uri, "' contains a '", segment,
                                              "' path segment (possibly percent-encoded); "
                                              "give the object path without '.' or '..'"));
      }
    }
  }
  return absl::OkStatus();
}

// Like realpath(3), but components that do not exist are kept as written and dangling
// symlinks are followed lexically. `path` must be absolute.
absl::StatusOr<fs::path> ResolveSymlinks(const fs::path& path) {
  std::deque<fs::path> pending;
  for (const fs::path& part : path.relative_path()) pending.push_back(part);
  fs::path result = "/";
  int hops = 0;
  while (!pending.empty()) {
    fs::path part = std::move(pending.front());
    pending.pop_front();
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      result = result.parent_path();
      continue;
    }
    fs::path next = result / part;
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(next, ec))) {
      if (++hops > kMaxSymlinkHops) {
        return absl::InvalidArgumentError(absl::StrCat("too many levels of symbolic links at ", next.string()));
      }
      fs::path target = fs::read_symlink(next, ec);
      if (ec) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot read symbolic link ", next.string(), ": ", ec.message()));
      }
      if (target.is_absolute()) result = "/";
      std::deque<fs::path> expanded;
      for (const fs::path& t : target.relative_path()) expanded.push_back(t);
      pending.insert(pending.begin(), expanded.begin(), expanded.end());
      continue;
    }
    result = std::move(next);
  }
  return result;
}

bool IsUnder(absl::string_view path, absl::string_view folder) {
  if (path == folder) return true;
  if (folder.empty()) return absl::StartsWith(path, "/");
  return absl::StartsWith(path, folder) && path.size() > folder.size() && path[folder.size()] == '/';
}

}  // namespace

bool IsValidBucketName(absl::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return absl::ascii_isalnum(bucket.front()) && absl::ascii_isalnum(bucket.back());
}

ObjectStore::ObjectStore(std::string root, std::map<std::string, std::string> bucket_roots)
    : root_(NormalizeFolder(root)) {
  for (auto& [bucket, folder] : bucket_roots) {
    bucket_roots_.emplace(bucket, NormalizeFolder(folder));
  }
}

std::string ObjectStore::BucketRoot(const std::string& bucket) const {
  auto it = bucket_roots_.find(bucket);
  if (it != bucket_roots_.end()) return it->second;
  return absl::StrCat(root_, "/", bucket);
}

absl::StatusOr<std::string> ObjectStore::ToLocalPath(absl::string_view uri, absl::string_view field) const {
  if (uri.empty()) {
    return FieldError(field, "is required: give a gs://BUCKET/PATH or file:///ABSOLUTE/PATH URI");
  }
  if (absl::StartsWith(uri, kFileScheme)) {
    absl::string_view rest = uri.substr(kFileScheme.size());
    constexpr absl::string_view kLocalhost = "localhost";
    if (absl::StartsWith(rest, "localhost/")) rest.remove_prefix(kLocalhost.size());
    if (!absl::StartsWith(rest, "/")) {
      return FieldError(field, absl::StrCat("'", uri,
                                            "' is not a local file URI; use "
                                            "file:///ABSOLUTE/PATH (three slashes)"));
    }
    KILN_RETURN_IF_ERROR(CheckObjectPath(rest.substr(1), uri, field));
    return std::string(rest);
  }
  if (!absl::StartsWith(uri, kGsScheme)) {
    size_t scheme_end = uri.find("://");
    if (scheme_end != absl::string_view::npos) {
      return FieldError(field, absl::StrCat("unsupported URI scheme '", uri.substr(0, scheme_end), "://' in '", uri,
                                            "'; use gs://BUCKET/PATH or file:///ABSOLUTE/PATH"));
    }
    return FieldError(field, absl::StrCat("'", uri,
                                          "' is not a URI; use gs://BUCKET/PATH or "
                                          "file:///ABSOLUTE/PATH"));
  }
  absl::string_view rest = uri.substr(kGsScheme.size());
  size_t slash = rest.find('/');
  std::string bucket(rest.substr(0, slash));
  if (bucket.empty()) {
    return FieldError(field, absl::StrCat("'", uri, "' has no bucket name; use gs://BUCKET/PATH"));
  }
  if (!IsValidBucketName(bucket)) {
    return FieldError(field, absl::StrCat("'", bucket, "' in '", uri,
                                          "' is not a valid bucket name: use 3-63 characters "
                                          "of lowercase letters, digits, '.', '_' and '-', "
                                          "starting and ending with a letter or digit"));
  }
  absl::string_view object = slash == absl::string_view::npos ? absl::string_view() : rest.substr(slash + 1);
  KILN_RETURN_IF_ERROR(CheckObjectPath(object, uri, field));

  std::string bucket_root = BucketRoot(bucket);
  std::string local = slash == absl::string_view::npos ? bucket_root : absl::StrCat(bucket_root, "/", object);

  // Symlinks inside the bucket may point anywhere; refuse those that leave it.
  absl::StatusOr<fs::path> real_root = ResolveSymlinks(fs::path(bucket_root));
  absl::StatusOr<fs::path> real_local = ResolveSymlinks(fs::path(local));
  if (!real_root.ok()) return FieldError(field, real_root.status().message());
  if (!real_local.ok()) return FieldError(field, real_local.status().message());
  std::string root_text = NormalizeFolder(real_root->string());
  std::string local_text = NormalizeFolder(real_local->string());
  if (!IsUnder(local_text, root_text)) {
    return FieldError(
        field, absl::StrCat("'", uri, "' resolves through a symbolic link to ", local_text,
                            ", outside the bucket's folder ", root_text, "; remove the link or copy the data in"));
  }
  return local;
}

std::optional<std::string> ObjectStore::ToUri(absl::string_view local_path) const {
  if (!absl::StartsWith(local_path, "/")) return std::nullopt;
  std::string normal = fs::path(std::string(local_path)).lexically_normal().string();
  bool trailing = normal.size() > 1 && normal.back() == '/';
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  absl::string_view suffix = trailing ? "/" : "";

  // The most specific bucket override wins.
  const std::pair<const std::string, std::string>* best = nullptr;
  for (const auto& entry : bucket_roots_) {
    if (IsUnder(normal, entry.second) && (best == nullptr || entry.second.size() > best->second.size())) {
      best = &entry;
    }
  }
  if (best != nullptr) {
    if (normal == best->second) return absl::StrCat("gs://", best->first, suffix);
    absl::string_view rest = absl::string_view(normal).substr(best->second.empty() ? 1 : best->second.size() + 1);
    return absl::StrCat("gs://", best->first, "/", rest, suffix);
  }
  if (!IsUnder(normal, root_) || normal == root_ || (root_.empty() && normal == "/")) {
    return std::nullopt;
  }
  absl::string_view rest = absl::string_view(normal).substr(root_.size() + 1);
  absl::string_view bucket = rest.substr(0, rest.find('/'));
  if (!IsValidBucketName(bucket) || bucket_roots_.contains(std::string(bucket))) {
    return std::nullopt;
  }
  return absl::StrCat("gs://", rest, suffix);
}

}  // namespace kiln::storage
