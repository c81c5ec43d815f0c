#ifndef KILN_CLIENT_STORAGE_VERBS_H_
#define KILN_CLIENT_STORAGE_VERBS_H_

// `kiln storage <verb>`: gsutil/gcloud-storage-like commands over kiln's object storage routes
// (storage_client.h). Only the endpoint and token of the configuration are used (no project).
// Errors print as "ERROR: (kiln.storage.<verb>) <CODE>: <message>"; exit codes as in
// command_support.h (2 for bad arguments, 1 for failures).
//
//   kiln storage cp SRC DST [-r]   local → gs://, gs:// → local, gs:// → gs://. A destination
//                                  ending in '/' (or a bucket, or an existing local folder)
//                                  receives SRC under its own base name; otherwise DST is the
//                                  new name. With -r, SRC may be a folder (a local folder or a
//                                  gs:// prefix): `cp -r run gs://b/out/` → gs://b/out/run/...,
//                                  `cp -r run gs://b/out` → gs://b/out/.... Prints
//                                  "Copying SRC to DST" per object on stderr.
//   kiln storage ls gs://B[/P] [-r]  SIZE, UPDATED, NAME of the objects and folders directly
//                                  under P (a folder P lists its contents; an object P itself);
//                                  -r lists every object under P. Default format: table.
//   kiln storage cat gs://B/O       the object's bytes to stdout.
//   kiln storage rm gs://B/O [-r]   deletes the object; with -r, every object under the folder
//                                  (or the bucket). Prints "Removing URI" per object on stderr.

#include <memory>
#include <ostream>

#include "absl/strings/string_view.h"
#include "client/client_config.h"
#include "client/nouns.h"

namespace kiln::client {

int RunStorageCopy(const ConfigFlags& flags, absl::string_view source, absl::string_view destination, bool recursive,
                   std::ostream& out, std::ostream& err);
int RunStorageList(const ConfigFlags& flags, absl::string_view uri, bool recursive, std::ostream& out,
                   std::ostream& err);
int RunStorageCat(const ConfigFlags& flags, absl::string_view uri, std::ostream& out, std::ostream& err);
int RunStorageRemove(const ConfigFlags& flags, absl::string_view uri, bool recursive, std::ostream& out,
                     std::ostream& err);

// Registrars (VerbRegistrar, nouns.h) for the `storage` noun.
void AddStorageCopyVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                        const CommandIo& io);
void AddStorageListVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                        const CommandIo& io);
void AddStorageCatVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                       const CommandIo& io);
void AddStorageRemoveVerb(CLI::App& noun_command, const NounSpec& noun, std::shared_ptr<const ConfigFlags> flags,
                          const CommandIo& io);

}  // namespace kiln::client

#endif  // KILN_CLIENT_STORAGE_VERBS_H_
