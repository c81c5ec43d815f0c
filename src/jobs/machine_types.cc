#include "jobs/machine_types.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln::jobs {
namespace {

struct Family {
  const char* prefix;           // "n1-standard-"
  double memory_gib_per_vcpu;   // 3.75
  std::vector<int> vcpu_sizes;  // {4, 8, ...}: the name suffix is the vCPU count
};

// Accelerator-optimized types: the suffix is the GPU count, not the vCPU count.
struct GpuType {
  const char* name;
  double vcpus;
  double memory_gib;
  const char* accelerator_type;
  int accelerator_count;
};

std::vector<MachineShape> BuildTable() {
  const std::vector<Family> families = {
      {"n1-standard-", 3.75, {4, 8, 16, 32, 64, 96}},
      {"n1-highmem-", 6.5, {2, 4, 8, 16, 32, 64, 96}},
      {"n1-highcpu-", 0.9, {16, 32, 64, 96}},
      {"n2-standard-", 4, {4, 8, 16, 32, 48, 64, 80, 96, 128}},
      {"n2-highmem-", 8, {2, 4, 8, 16, 32, 48, 64, 80, 96, 128}},
      {"n2-highcpu-", 1, {16, 32, 48, 64, 80, 96}},
      {"e2-standard-", 4, {4, 8, 16, 32}},
      {"e2-highmem-", 8, {2, 4, 8, 16}},
      {"e2-highcpu-", 1, {16, 32}},
      {"c2-standard-", 4, {4, 8, 16, 30, 60}},
  };
  const std::vector<GpuType> gpu_types = {
      {"a2-highgpu-1g", 12, 85, "NVIDIA_TESLA_A100", 1},
      {"a2-highgpu-2g", 24, 170, "NVIDIA_TESLA_A100", 2},
      {"a2-highgpu-4g", 48, 340, "NVIDIA_TESLA_A100", 4},
      {"a2-highgpu-8g", 96, 680, "NVIDIA_TESLA_A100", 8},
      {"a2-megagpu-16g", 96, 1360, "NVIDIA_TESLA_A100", 16},
      {"a2-ultragpu-1g", 12, 170, "NVIDIA_A100_80GB", 1},
      {"a2-ultragpu-2g", 24, 340, "NVIDIA_A100_80GB", 2},
      {"a2-ultragpu-4g", 48, 680, "NVIDIA_A100_80GB", 4},
      {"a2-ultragpu-8g", 96, 1360, "NVIDIA_A100_80GB", 8},
      {"a3-highgpu-8g", 208, 1872, "NVIDIA_H100_80GB", 8},
      {"g2-standard-4", 4, 16, "NVIDIA_L4", 1},
      {"g2-standard-8", 8, 32, "NVIDIA_L4", 1},
      {"g2-standard-12", 12, 48, "NVIDIA_L4", 1},
      {"g2-standard-16", 16, 64, "NVIDIA_L4", 1},
      {"g2-standard-24", 24, 96, "NVIDIA_L4", 2},
      {"g2-standard-32", 32, 128, "NVIDIA_L4", 1},
      {"g2-standard-48", 48, 192, "NVIDIA_L4", 4},
      {"g2-standard-96", 96, 384, "NVIDIA_L4", 8},
  };
  std::vector<MachineShape> table;
  for (const Family& family : families) {
    for (int vcpus : family.vcpu_sizes) {
      table.push_back(
          {absl::StrCat(family.prefix, vcpus), static_cast<double>(vcpus), vcpus * family.memory_gib_per_vcpu, "", 0});
    }
  }
  for (const GpuType& gpu : gpu_types) {
    table.push_back({gpu.name, gpu.vcpus, gpu.memory_gib, gpu.accelerator_type, gpu.accelerator_count});
  }
  return table;
}

const std::vector<MachineShape>& Table() {
  static const std::vector<MachineShape>* const table = new std::vector<MachineShape>(BuildTable());
  return *table;
}

const absl::flat_hash_map<std::string, const MachineShape*>& Index() {
  static const auto* const index = [] {
    auto* map = new absl::flat_hash_map<std::string, const MachineShape*>();
    for (const MachineShape& shape : Table()) map->emplace(shape.name, &shape);
    return map;
  }();
  return *index;
}

}  // namespace

const std::vector<std::string>& KnownMachineTypes() {
  static const auto* const names = [] {
    auto* list = new std::vector<std::string>();
    for (const MachineShape& shape : Table()) list->push_back(shape.name);
    return list;
  }();
  return *names;
}

absl::StatusOr<MachineShape> LookupMachineType(absl::string_view machine_type) {
  auto it = Index().find(machine_type);
  if (it == Index().end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown machine type '", machine_type, "'; known: ", absl::StrJoin(KnownMachineTypes(), ", ")));
  }
  return *it->second;
}

}  // namespace kiln::jobs
