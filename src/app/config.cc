#include "app/config.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/cloud/aiplatform/v1/accelerator_type.pb.h"
#include "yaml-cpp/yaml.h"

namespace kiln::app {
namespace {

absl::Status CheckKeys(const YAML::Node& node, const std::string& where, const std::set<std::string>& allowed) {
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>();
    if (allowed.count(key) == 0) {
      std::string list;
      for (const std::string& a : allowed) absl::StrAppend(&list, list.empty() ? "" : ", ", a);
      return absl::InvalidArgumentError(
          absl::StrCat(where.empty() ? "" : where + ".", key, ": unknown key; known: ", list));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> StringList(const YAML::Node& node) {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    out.push_back(node.as<std::string>());
  } else {
    for (const auto& item : node) out.push_back(item.as<std::string>());
  }
  return out;
}

}  // namespace

absl::StatusOr<KilnConfig> ParseConfig(absl::string_view yaml) {
  KilnConfig config;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (root.IsNull()) return config;
    if (!root.IsMap()) return absl::InvalidArgumentError("the configuration must be a YAML map");
    if (absl::Status s = CheckKeys(root, "", {"accelerators", "overcommit", "images", "tensorflow_available"});
        !s.ok()) {
      return s;
    }
    if (const YAML::Node acc = root["accelerators"]) {
      if (!acc.IsMap()) return absl::InvalidArgumentError("accelerators: must map an accelerator type to device ids");
      std::set<std::string> all_ids;
      for (const auto& kv : acc) {
        std::string type = kv.first.as<std::string>();
        google::cloud::aiplatform::v1::AcceleratorType parsed;
        if (!google::cloud::aiplatform::v1::AcceleratorType_Parse(type, &parsed) ||
            parsed == google::cloud::aiplatform::v1::ACCELERATOR_TYPE_UNSPECIFIED) {
          return absl::InvalidArgumentError(
              absl::StrCat("accelerators.", type, ": not a Vertex AcceleratorType (e.g. NVIDIA_TESLA_T4, NVIDIA_L4)"));
        }
        std::vector<std::string> ids = StringList(kv.second);
        for (const std::string& id : ids) {
          if (!all_ids.insert(id).second) {
            return absl::InvalidArgumentError(
                absl::StrCat("accelerators.", type, ": device id ", id, " is listed twice"));
          }
        }
        config.accelerators[type] = ids;
      }
    }
    if (const YAML::Node over = root["overcommit"]) {
      if (absl::Status s = CheckKeys(over, "overcommit", {"cpu", "memory"}); !s.ok()) return s;
      if (over["cpu"]) config.overcommit.cpu = over["cpu"].as<double>();
      if (over["memory"]) config.overcommit.memory = over["memory"].as<double>();
      if (config.overcommit.cpu < 0 || config.overcommit.memory < 0) {
        return absl::InvalidArgumentError("overcommit: factors must be ≥ 0 (0 = unlimited)");
      }
    }
    if (const YAML::Node images = root["images"]) {
      if (!images.IsSequence()) return absl::InvalidArgumentError("images: must be a list");
      for (size_t i = 0; i < images.size(); ++i) {
        std::string where = absl::StrCat("images[", i, "]");
        const YAML::Node& e = images[i];
        if (absl::Status s = CheckKeys(e, where, {"pattern", "path_prefix", "working_dir", "entrypoint", "python"});
            !s.ok()) {
          return s;
        }
        jobs::ImageMapEntry entry;
        if (!e["pattern"]) return absl::InvalidArgumentError(absl::StrCat(where, ".pattern: is required"));
        entry.pattern = e["pattern"].as<std::string>();
        if (e["path_prefix"]) entry.path_prefix = StringList(e["path_prefix"]);
        if (e["working_dir"]) entry.working_dir = e["working_dir"].as<std::string>();
        if (e["entrypoint"]) entry.entrypoint = StringList(e["entrypoint"]);
        if (e["python"]) entry.python = e["python"].as<std::string>();
        config.images.push_back(std::move(entry));
      }
    }
    if (root["tensorflow_available"]) config.tensorflow_available = root["tensorflow_available"].as<bool>();
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not valid: ", e.what()));
  }
  return config;
}

absl::StatusOr<KilnConfig> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("configuration file ", path, " cannot be read"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  absl::StatusOr<KilnConfig> config = ParseConfig(buffer.str());
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat("configuration file ", path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace kiln::app
