#ifndef KILN_CLIENT_SCRIPT_PACKAGE_H_
#define KILN_CLIENT_SCRIPT_PACKAGE_H_

// Packaging a single Python training script as a source distribution, the way the Vertex AI
// SDK's CustomTrainingJob does before uploading it for a pythonPackageSpec:
//
//   absl::StatusOr<ScriptPackage> package = PackageScript("train.py");
//   // package->file_name      == "aiplatform_custom_trainer_script-0.1.tar.gz"
//   // package->python_module  == "aiplatform_custom_trainer_script.task"
//   // upload package->archive_bytes to gs://BUCKET/.../<file_name>, then run
//   // pythonPackageSpec {packageUris: [that URI], pythonModule: package->python_module}.
//
// The archive (gzip-compressed ustar, written with libarchive) holds, in this order:
//   <name>-0.1/                                          folder
//   <name>-0.1/PKG-INFO                                  Metadata-Version 2.1, Name, Version
//   <name>-0.1/setup.py                                  setuptools; packages=[kScriptPackageDir]
//   <name>-0.1/aiplatform_custom_trainer_script/         folder
//   <name>-0.1/aiplatform_custom_trainer_script/__init__.py   empty
//   <name>-0.1/aiplatform_custom_trainer_script/task.py       the script's bytes
// Its bytes depend only on the script's bytes and the package name: fixed mtimes
// (1980-01-01), owner root:root (0/0), modes 0755/0644, no gzip timestamp.
//
// Thread-safe (no shared state).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kiln::client {

// The Python package inside every script package, and the module that runs the script.
inline constexpr absl::string_view kScriptPackageDir = "aiplatform_custom_trainer_script";
inline constexpr absl::string_view kScriptModule = "aiplatform_custom_trainer_script.task";

struct ScriptPackage {
  std::string archive_bytes;  // the .tar.gz
  std::string file_name;      // "<package_name>-0.1.tar.gz"
  std::string python_module;  // kScriptModule
};

// Reads the script at `script_path` and packages it (see above).
// NOT_FOUND: no such file. INVALID_ARGUMENT: `script_path` is not a regular file, or
// `package_name` is not a distribution name (1-100 characters of [A-Za-z0-9._-], starting and
// ending with a letter or digit). INTERNAL: libarchive failed.
absl::StatusOr<ScriptPackage> PackageScript(const std::string& script_path,
                                            const std::string& package_name = "aiplatform_custom_trainer_script");

}  // namespace kiln::client

#endif  // KILN_CLIENT_SCRIPT_PACKAGE_H_
