#ifndef KILN_APP_CONFIG_H_
#define KILN_APP_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "jobs/image_map.h"
#include "scheduling/ledger.h"

namespace kiln::app {

// kiln's own configuration, from `<home>/config.yaml` or `kiln serve --config FILE`:
//
//   accelerators:                 # the inventory; none by default
//     NVIDIA_TESLA_T4: ["0", "1"] # AcceleratorType name → device ids (CUDA_VISIBLE_DEVICES)
//   overcommit:                   # CPU and memory requests may exceed the machine by these factors
//     cpu: 8                      # (0 = unlimited); accelerators are never overcommitted
//     memory: 4
//   images:                       # image URI glob → how to run it here; checked before the built-ins
//     - pattern: "registry.example.com/trainer:*"
//       path_prefix: ["/opt/trainer/bin"]
//       working_dir: /opt/trainer
//       entrypoint: ["python3", "-m", "trainer.task"]
//       python: /usr/bin/python3
//   tensorflow_available: false   # let tf-* prebuilt images map to /usr/bin/python3
struct KilnConfig {
  std::map<std::string, std::vector<std::string>> accelerators;
  scheduling::Overcommit overcommit;
  std::vector<jobs::ImageMapEntry> images;
  bool tensorflow_available = false;
};

// INVALID_ARGUMENT naming the key and the rule for anything wrong (unknown keys included, so a
// typo is not silently ignored); NOT_FOUND when the file does not exist.
absl::StatusOr<KilnConfig> LoadConfigFile(const std::string& path);
absl::StatusOr<KilnConfig> ParseConfig(absl::string_view yaml);

}  // namespace kiln::app

#endif  // KILN_APP_CONFIG_H_
