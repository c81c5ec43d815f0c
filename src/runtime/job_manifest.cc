#include "runtime/job_manifest.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "runtime/replica_files.h"

namespace kiln::runtime::internal {
namespace {

using Json = nlohmann::json;

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("job manifest: ", what));
}

bool IsStringArray(const Json& j) {
  if (!j.is_array()) return false;
  for (const Json& e : j) {
    if (!e.is_string()) return false;
  }
  return true;
}

}  // namespace

std::string ManifestToJson(const JobManifest& manifest) {
  Json replicas = Json::array();
  for (const ManifestReplica& r : manifest.replicas) {
    replicas.push_back(
        {{"task", r.task},
         {"place", {{"host", r.place.host}, {"ports", r.place.ports}, {"dir", r.place.dir}}},
         {"command", {{"argv", r.command.argv}, {"env", r.command.env}, {"working_dir", r.command.working_dir}}}});
  }
  Json json = {{"key", manifest.key},
               {"name", manifest.name},
               {"annotation", manifest.annotation},
               {"stop_grace_ms", absl::ToInt64Milliseconds(manifest.stop_grace)},
               {"replicas", std::move(replicas)}};
  return json.dump();
}

absl::StatusOr<JobManifest> ManifestFromJson(absl::string_view text) {
  Json json = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return Malformed("not a JSON object");
  JobManifest m;
  for (const char* field : {"key", "name", "annotation"}) {
    auto it = json.find(field);
    if (it == json.end() || !it->is_string()) return Malformed(absl::StrCat("\"", field, "\" must be a string"));
  }
  m.key = json["key"].get<std::string>();
  m.name = json["name"].get<std::string>();
  m.annotation = json["annotation"].get<std::string>();
  auto grace = json.find("stop_grace_ms");
  if (grace == json.end() || !grace->is_number_integer() || grace->get<int64_t>() < 0) {
    return Malformed("\"stop_grace_ms\" must be a non-negative integer");
  }
  m.stop_grace = absl::Milliseconds(grace->get<int64_t>());
  auto replicas = json.find("replicas");
  if (replicas == json.end() || !replicas->is_array() || replicas->empty()) {
    return Malformed("\"replicas\" must be a non-empty array");
  }
  for (size_t i = 0; i < replicas->size(); ++i) {
    const Json& r = (*replicas)[i];
    std::string at = absl::StrCat("replicas[", i, "]");
    if (!r.is_object()) return Malformed(absl::StrCat(at, " must be an object"));
    ManifestReplica out;
    auto task = r.find("task");
    if (task == r.end() || !task->is_string() || !IsValidLaunchName(task->get<std::string>())) {
      return Malformed(absl::StrCat(at, ".task must be a file name"));
    }
    out.task = task->get<std::string>();
    auto place = r.find("place");
    if (place == r.end() || !place->is_object() || !place->value("host", Json()).is_string() ||
        !place->value("dir", Json()).is_string() || !place->value("ports", Json()).is_array()) {
      return Malformed(absl::StrCat(at, ".place must have host, ports and dir"));
    }
    out.place.host = (*place)["host"].get<std::string>();
    out.place.dir = (*place)["dir"].get<std::string>();
    for (const Json& port : (*place)["ports"]) {
      if (!port.is_number_integer() || port.get<int>() <= 0 || port.get<int>() > 65535) {
        return Malformed(absl::StrCat(at, ".place.ports must hold ports (1-65535)"));
      }
      out.place.ports.push_back(port.get<int>());
    }
    auto command = r.find("command");
    if (command == r.end() || !command->is_object() || !IsStringArray(command->value("argv", Json())) ||
        !IsStringArray(command->value("env", Json())) || !command->value("working_dir", Json()).is_string()) {
      return Malformed(absl::StrCat(at, ".command must have argv, env and working_dir"));
    }
    out.command.argv = (*command)["argv"].get<std::vector<std::string>>();
    out.command.env = (*command)["env"].get<std::vector<std::string>>();
    out.command.working_dir = (*command)["working_dir"].get<std::string>();
    if (out.command.argv.empty()) return Malformed(absl::StrCat(at, ".command.argv must not be empty"));
    m.replicas.push_back(std::move(out));
  }
  return m;
}

absl::StatusOr<JobManifest> ReadManifest(const std::string& job_dir) {
  std::string path = JoinPath(job_dir, kJobManifestFile);
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  if (text->empty()) return absl::NotFoundError(absl::StrCat(path, " was never written"));
  absl::StatusOr<JobManifest> manifest = ManifestFromJson(*text);
  if (!manifest.ok()) return absl::DataLossError(absl::StrCat(path, ": ", manifest.status().message()));
  return manifest;
}

absl::StatusOr<JobManifest> LegacyManifest(const std::string& job_dir, const std::string& key) {
  JobManifest manifest;
  manifest.key = key;
  std::vector<std::tuple<int, int, ManifestReplica>> found;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(job_dir, error)) {
    std::string task = entry.path().filename().string();
    int pool = 0, index = 0;
    char rest = 0;
    if (std::sscanf(task.c_str(), "workerpool%d-%d%c", &pool, &index, &rest) != 2) continue;
    absl::StatusOr<std::string> text = ReadFile(JoinPath(entry.path().string(), "spec.json"));
    if (!text.ok() || text->empty()) continue;  // never handed to a shim
    Json spec = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!spec.is_object() || !IsStringArray(spec.value("argv", Json())) || !IsStringArray(spec.value("env", Json()))) {
      return absl::DataLossError(absl::StrCat(entry.path().string(), "/spec.json is malformed"));
    }
    ManifestReplica r;
    r.task = task;
    r.place = {.host = "127.0.0.1", .ports = {}, .dir = entry.path().string()};
    r.command.argv = spec["argv"].get<std::vector<std::string>>();
    r.command.env = spec["env"].get<std::vector<std::string>>();
    r.command.working_dir = spec.value("working_dir", "");
    found.emplace_back(pool, index, std::move(r));
  }
  if (found.empty()) return absl::NotFoundError(absl::StrCat("no replica folders in ", job_dir));
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
  });
  for (auto& [pool, index, r] : found) manifest.replicas.push_back(std::move(r));
  return manifest;
}

absl::Status ReadLaunchError(const std::string& job_dir) {
  absl::StatusOr<std::string> text = ReadFile(JoinPath(job_dir, kLaunchErrorFile));
  if (absl::IsNotFound(text.status())) return absl::OkStatus();
  if (!text.ok()) return text.status();
  return absl::InternalError(*text);
}

absl::Status WriteLaunchError(const std::string& job_dir, const absl::Status& error) {
  return WriteFileAtomically(JoinPath(job_dir, kLaunchErrorFile), error.message(), /*durable=*/false);
}

}  // namespace kiln::runtime::internal
