// `kiln storage cp|ls|cat|rm` (see storage_verbs.h).

#include "client/storage_verbs.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/command_support.h"
#include "client/output.h"
#include "client/storage_client.h"
#include "common/status_macros.h"

namespace kiln::client {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr absl::string_view kNoun = "storage";

// A place to copy from or to: a gs:// URI or a local path.
struct Place {
  std::optional<GcsUri> gcs;
  std::string local;

  std::string ToString() const { return gcs.has_value() ? gcs->ToString() : local; }
};

absl::StatusOr<Place> ParsePlace(absl::string_view text) {
  Place place;
  if (IsGcsUri(text)) {
    KILN_ASSIGN_OR_RETURN(place.gcs, ParseGcsUri(text));
    return place;
  }
  absl::string_view local = text;
  absl::ConsumePrefix(&local, "file://");
  if (local.empty()) return absl::InvalidArgumentError("an empty path is neither a local path nor a gs:// URI");
  place.local = std::string(local);
  return place;
}

// Is `object` a folder name: the bucket itself, or ending in '/'.
bool IsFolderName(absl::string_view object) { return object.empty() || absl::EndsWith(object, "/"); }

// The last name in `object` ("a/b/" → "b"), or `bucket` for the bucket itself.
std::string BaseName(const GcsUri& uri) {
  absl::string_view object = uri.object;
  absl::ConsumeSuffix(&object, "/");
  if (object.empty()) return uri.bucket;
  size_t slash = object.rfind('/');
  return std::string(slash == absl::string_view::npos ? object : object.substr(slash + 1));
}

std::string LocalBaseName(const std::string& path) {
  std::string normal = fs::absolute(path).lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return fs::path(normal).filename().string();
}

// The listing prefix for the folder `object` names ("" for the bucket; "a/b" → "a/b/").
std::string FolderPrefix(absl::string_view object) {
  if (IsFolderName(object)) return std::string(object);
  return absl::StrCat(object, "/");
}

absl::StatusOr<std::string> ReadLocal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path, ": no such file or not readable"));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::InternalError(absl::StrCat("cannot read ", path));
  return bytes;
}

absl::Status WriteLocal(const std::string& path, const std::string& bytes) {
  fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  if (ec) return absl::FailedPreconditionError(absl::StrCat("cannot create the folder for ", path, ": ", ec.message()));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::FailedPreconditionError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// One object to copy.
struct CopyStep {
  Place from;
  Place to;
};

// Where a copy of the thing named `base_name` goes in `destination`: inside it (a gs:// folder
// name or bucket, a local path ending in '/' or an existing local folder), else as it (a new name).
Place Destination(const Place& destination, const std::string& base_name) {
  Place to = destination;
  if (to.gcs.has_value()) {
    if (IsFolderName(to.gcs->object)) to.gcs->object += base_name;
    return to;
  }
  std::error_code ec;
  if (absl::EndsWith(to.local, "/") || fs::is_directory(to.local, ec)) {
    to.local = (fs::path(to.local) / base_name).string();
  }
  return to;
}

// Appends `relative` (an object path under a copied folder) to a folder destination.
Place Under(const Place& root, const std::string& relative) {
  Place to = root;
  if (to.gcs.has_value()) {
    to.gcs->object = absl::StrCat(FolderPrefix(to.gcs->object), relative);
  } else {
    to.local = (fs::path(to.local) / relative).string();
  }
  return to;
}

absl::StatusOr<std::vector<CopyStep>> PlanLocalSource(const Place& from, const Place& to, bool recursive) {
  std::error_code ec;
  fs::file_status status = fs::status(from.local, ec);
  if (!fs::exists(status)) return absl::NotFoundError(absl::StrCat(from.local, " does not exist"));
  if (!fs::is_directory(status)) return std::vector<CopyStep>{{from, Destination(to, LocalBaseName(from.local))}};
  if (!recursive) return absl::InvalidArgumentError(absl::StrCat(from.local, " is a folder; copy it with -r"));
  const Place root = Destination(to, LocalBaseName(from.local));
  std::vector<CopyStep> steps;
  for (fs::recursive_directory_iterator it(from.local, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    Place file;
    file.local = it->path().string();
    steps.push_back({file, Under(root, it->path().lexically_relative(from.local).generic_string())});
  }
  if (ec) return absl::FailedPreconditionError(absl::StrCat("cannot walk ", from.local, ": ", ec.message()));
  std::sort(steps.begin(), steps.end(),
            [](const CopyStep& a, const CopyStep& b) { return a.from.local < b.from.local; });
  return steps;
}

absl::StatusOr<std::vector<CopyStep>> PlanRemoteSource(StorageClient& storage, const Place& from, const Place& to,
                                                       bool recursive) {
  const GcsUri& source = *from.gcs;
  if (!recursive) {
    if (IsFolderName(source.object)) {
      return absl::InvalidArgumentError(absl::StrCat(source.ToString(), " is a bucket or folder; copy it with -r"));
    }
    return std::vector<CopyStep>{{from, Destination(to, BaseName(source))}};
  }
  const std::string prefix = FolderPrefix(source.object);
  KILN_ASSIGN_OR_RETURN(StorageListing listing, storage.List(source.bucket, prefix, /*recursive=*/true));
  if (listing.objects.empty()) {
    if (!IsFolderName(source.object)) return std::vector<CopyStep>{{from, Destination(to, BaseName(source))}};
    return absl::NotFoundError(absl::StrCat("No URLs matched: ", source.ToString()));
  }
  if (listing.truncated) {
    return absl::FailedPreconditionError(absl::StrCat(
        source.ToString(), " holds more objects than one listing returns; copy its sub-folders one by one"));
  }
  const Place root = Destination(to, BaseName(source));
  std::vector<CopyStep> steps;
  for (const StorageObject& object : listing.objects) {
    KILN_ASSIGN_OR_RETURN(GcsUri uri, ParseGcsUri(object.name));
    Place file;
    file.gcs = std::move(uri);
    if (!absl::StartsWith(file.gcs->object, prefix))
      return absl::InternalError(absl::StrCat("the server listed ", object.name, " under ", source.ToString()));
    std::string relative = file.gcs->object.substr(prefix.size());
    steps.push_back({std::move(file), Under(root, relative)});
  }
  return steps;
}

// Opens a storage client from the configuration; reports failures (exit 2) as `verb`.
std::optional<StorageClient> OpenStorage(const ConfigFlags& flags, absl::string_view verb, std::ostream& err,
                                         int& exit_code, std::optional<OutputFormat>* format = nullptr) {
  absl::StatusOr<ClientConfig> config = ResolveClientConfig(flags);
  if (!config.ok()) {
    exit_code = ReportError(kNoun, verb, config.status(), kExitUsage, err);
    return std::nullopt;
  }
  absl::StatusOr<StorageClient> storage = StorageClient::Create(config->endpoint, config->token);
  if (!storage.ok()) {
    exit_code = ReportError(kNoun, verb, storage.status(), kExitUsage, err);
    return std::nullopt;
  }
  if (format != nullptr) *format = config->format;
  return *std::move(storage);
}

}  // namespace

int RunStorageCopy(const ConfigFlags& flags, absl::string_view source, absl::string_view destination, bool recursive,
                   std::ostream& out, std::ostream& err) {
  constexpr absl::string_view kVerb = "cp";
  absl::StatusOr<Place> from = ParsePlace(source);
  if (!from.ok()) return ReportError(kNoun, kVerb, from.status(), kExitUsage, err);
  absl::StatusOr<Place> to = ParsePlace(destination);
  if (!to.ok()) return ReportError(kNoun, kVerb, to.status(), kExitUsage, err);
  if (!from->gcs.has_value() && !to->gcs.has_value()) {
    return ReportError(kNoun, kVerb,
                       absl::InvalidArgumentError("one of SRC and DST must be a gs:// URI; use cp for local copies"),
                       kExitUsage, err);
  }
  int exit_code = kExitOk;
  std::optional<StorageClient> storage = OpenStorage(flags, kVerb, err, exit_code);
  if (!storage.has_value()) return exit_code;
  absl::StatusOr<std::vector<CopyStep>> steps = from->gcs.has_value()
                                                    ? PlanRemoteSource(*storage, *from, *to, recursive)
                                                    : PlanLocalSource(*from, *to, recursive);
  if (!steps.ok()) {
    const bool usage = steps.status().code() == absl::StatusCode::kInvalidArgument;
    return ReportError(kNoun, kVerb, steps.status(), usage ? kExitUsage : kExitApiError, err);
  }
  for (const CopyStep& step : *steps) {
    err << "Copying " << step.from.ToString() << " to " << step.to.ToString() << "\n";
    absl::StatusOr<std::string> bytes =
        step.from.gcs.has_value() ? storage->Download(*step.from.gcs) : ReadLocal(step.from.local);
    absl::Status written = bytes.status();
    if (bytes.ok()) {
      written =
          step.to.gcs.has_value() ? storage->Upload(*step.to.gcs, *bytes).status() : WriteLocal(step.to.local, *bytes);
    }
    if (!written.ok()) return ReportError(kNoun, kVerb, written, kExitApiError, err);
  }
  return kExitOk;
}

int RunStorageList(const ConfigFlags& flags, absl::string_view uri_text, bool recursive, std::ostream& out,
                   std::ostream& err) {
  constexpr absl::string_view kVerb = "ls";
  absl::StatusOr<GcsUri> uri = ParseGcsUri(uri_text);
  if (!uri.ok()) return ReportError(kNoun, kVerb, uri.status(), kExitUsage, err);
  int exit_code = kExitOk;
  std::optional<OutputFormat> configured;
  std::optional<StorageClient> storage = OpenStorage(flags, kVerb, err, exit_code, &configured);
  if (!storage.has_value()) return exit_code;

  // A folder lists its contents; a name that is no folder lists the object of that name.
  absl::StatusOr<StorageListing> listing = storage->List(uri->bucket, FolderPrefix(uri->object), recursive);
  if (!listing.ok()) return ReportError(kNoun, kVerb, listing.status(), kExitApiError, err);
  if (listing->objects.empty() && listing->prefixes.empty() && !IsFolderName(uri->object)) {
    listing = storage->List(uri->bucket, uri->object, /*recursive=*/false);
    if (!listing.ok()) return ReportError(kNoun, kVerb, listing.status(), kExitApiError, err);
    std::erase_if(listing->objects, [&](const StorageObject& o) { return o.name != uri->ToString(); });
    listing->prefixes.clear();
    if (listing->objects.empty()) {
      return ReportError(kNoun, kVerb,
                         absl::NotFoundError(absl::StrCat("One or more URLs matched no objects: ", uri->ToString())),
                         kExitApiError, err);
    }
  }
  std::vector<json> rows;
  for (const StorageObject& o : listing->objects) {
    rows.push_back({{"name", o.name}, {"size", o.size}, {"updateTime", o.update_time}});
  }
  for (const std::string& p : listing->prefixes) rows.push_back({{"name", p}});
  std::sort(rows.begin(), rows.end(), [](const json& a, const json& b) { return a["name"] < b["name"]; });
  static const std::vector<Column> kColumns = {{"SIZE", "size"}, {"UPDATED", "updateTime"}, {"NAME", "name"}};
  if (absl::Status s = PrintList(rows, kColumns, configured.value_or(OutputFormat::kTable), out, err); !s.ok()) {
    return ReportError(kNoun, kVerb, s, kExitApiError, err);
  }
  if (listing->truncated) {
    err << "WARNING: the listing stopped at the server's limit of 10000 entries; list a narrower prefix.\n";
  }
  return kExitOk;
}

int RunStorageCat(const ConfigFlags& flags, absl::string_view uri_text, std::ostream& out, std::ostream& err) {
  constexpr absl::string_view kVerb = "cat";
  absl::StatusOr<GcsUri> uri = ParseGcsUri(uri_text);
  if (!uri.ok()) return ReportError(kNoun, kVerb, uri.status(), kExitUsage, err);
  int exit_code = kExitOk;
  std::optional<StorageClient> storage = OpenStorage(flags, kVerb, err, exit_code);
  if (!storage.has_value()) return exit_code;
  absl::StatusOr<std::string> bytes = storage->Download(*uri);
  if (!bytes.ok()) return ReportError(kNoun, kVerb, bytes.status(), kExitApiError, err);
  out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  out.flush();
  return kExitOk;
}

int RunStorageRemove(const ConfigFlags& flags, absl::string_view uri_text, bool recursive, std::ostream& out,
                     std::ostream& err) {
  constexpr absl::string_view kVerb = "rm";
  absl::StatusOr<GcsUri> uri = ParseGcsUri(uri_text);
  if (!uri.ok()) return ReportError(kNoun, kVerb, uri.status(), kExitUsage, err);
  if (!recursive && IsFolderName(uri->object)) {
    return ReportError(kNoun, kVerb,
                       absl::InvalidArgumentError(
                           absl::StrCat(uri->ToString(), " is a bucket or folder; remove what it holds with -r")),
                       kExitUsage, err);
  }
  int exit_code = kExitOk;
  std::optional<StorageClient> storage = OpenStorage(flags, kVerb, err, exit_code);
  if (!storage.has_value()) return exit_code;
  auto remove = [&](const GcsUri& object) -> absl::Status {
    err << "Removing " << object.ToString() << "\n";
    return storage->Delete(object);
  };
  if (!recursive) {
    if (absl::Status s = remove(*uri); !s.ok()) return ReportError(kNoun, kVerb, s, kExitApiError, err);
    return kExitOk;
  }
  // Listings stop at the server's cap: list again until nothing is left.
  bool removed_any = false;
  while (true) {
    absl::StatusOr<StorageListing> listing = storage->List(uri->bucket, FolderPrefix(uri->object), true);
    if (!listing.ok()) return ReportError(kNoun, kVerb, listing.status(), kExitApiError, err);
    for (const StorageObject& o : listing->objects) {
      absl::StatusOr<GcsUri> object = ParseGcsUri(o.name);
      absl::Status s = object.ok() ? remove(*object) : object.status();
      if (!s.ok()) return ReportError(kNoun, kVerb, s, kExitApiError, err);
      removed_any = true;
    }
    if (!listing->truncated || listing->objects.empty()) break;
  }
  if (removed_any) return kExitOk;
  if (IsFolderName(uri->object)) {
    return ReportError(kNoun, kVerb, absl::NotFoundError(absl::StrCat("No URLs matched: ", uri->ToString())),
                       kExitApiError, err);
  }
  if (absl::Status s = remove(*uri); !s.ok()) return ReportError(kNoun, kVerb, s, kExitApiError, err);
  return kExitOk;
}

void AddStorageCopyVerb(CLI::App& noun_command, const NounSpec&, std::shared_ptr<const ConfigFlags> flags,
                        const CommandIo& io) {
  CLI::App* verb = AddVerbCommand(noun_command, "cp", "Copy objects to, from or between gs:// URIs");
  auto source = std::make_shared<std::string>();
  auto destination = std::make_shared<std::string>();
  auto recursive = std::make_shared<bool>(false);
  verb->add_option("SRC", *source, "A local path or gs://BUCKET/PATH")->required();
  verb->add_option("DST", *destination, "A local path or gs://BUCKET/PATH (a trailing '/' copies into it)")->required();
  verb->add_flag("-r,-R,--recursive", *recursive, "Copy folders and everything in them");
  verb->callback([flags, source, destination, recursive, io] {
    FinishCommand(RunStorageCopy(*flags, *source, *destination, *recursive, *io.out, *io.err));
  });
}

void AddStorageListVerb(CLI::App& noun_command, const NounSpec&, std::shared_ptr<const ConfigFlags> flags,
                        const CommandIo& io) {
  CLI::App* verb = AddVerbCommand(noun_command, "ls", "List objects and folders under gs://BUCKET[/PREFIX]");
  auto uri = std::make_shared<std::string>();
  auto recursive = std::make_shared<bool>(false);
  verb->add_option("URI", *uri, "gs://BUCKET[/PREFIX]")->required();
  verb->add_flag("-r,-R,--recursive", *recursive, "List every object under the prefix");
  verb->callback(
      [flags, uri, recursive, io] { FinishCommand(RunStorageList(*flags, *uri, *recursive, *io.out, *io.err)); });
}

void AddStorageCatVerb(CLI::App& noun_command, const NounSpec&, std::shared_ptr<const ConfigFlags> flags,
                       const CommandIo& io) {
  CLI::App* verb = AddVerbCommand(noun_command, "cat", "Print an object's bytes");
  auto uri = std::make_shared<std::string>();
  verb->add_option("URI", *uri, "gs://BUCKET/OBJECT")->required();
  verb->callback([flags, uri, io] { FinishCommand(RunStorageCat(*flags, *uri, *io.out, *io.err)); });
}

void AddStorageRemoveVerb(CLI::App& noun_command, const NounSpec&, std::shared_ptr<const ConfigFlags> flags,
                          const CommandIo& io) {
  CLI::App* verb = AddVerbCommand(noun_command, "rm", "Delete objects");
  auto uri = std::make_shared<std::string>();
  auto recursive = std::make_shared<bool>(false);
  verb->add_option("URI", *uri, "gs://BUCKET/OBJECT, or with -r a folder or bucket")->required();
  verb->add_flag("-r,-R,--recursive", *recursive, "Delete every object under the folder or bucket");
  verb->callback(
      [flags, uri, recursive, io] { FinishCommand(RunStorageRemove(*flags, *uri, *recursive, *io.out, *io.err)); });
}

}  // namespace kiln::client
