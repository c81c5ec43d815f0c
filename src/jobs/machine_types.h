#ifndef KILN_JOBS_MACHINE_TYPES_H_
#define KILN_JOBS_MACHINE_TYPES_H_

// The Vertex AI / Compute Engine machine types kiln knows, with the resources each gives a
// replica. kiln does not pin replicas to CPUs; the shape is reported in ReplicaPlan (for
// scheduling and resource limits) and checked for accelerators.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kiln::jobs {

// The machine type a non-empty worker pool gets when machineSpec.machineType is unset.
inline constexpr absl::string_view kDefaultMachineType = "n1-standard-4";

struct MachineShape {
  std::string name;       // "a2-highgpu-2g"
  double vcpus = 0;       // 24
  double memory_gib = 0;  // 170
  // Accelerators that come with the machine type (A2: A100, A2 ultra: A100 80GB, G2: L4,
  // A3: H100), as AcceleratorType enum names; "" and 0 for general-purpose types.
  std::string implied_accelerator_type;
  int implied_accelerator_count = 0;
};

// The shape of `machine_type` (exact, case-sensitive name). INVALID_ARGUMENT
// "unknown machine type 'x'; known: n1-standard-4, ..." otherwise (no field path: callers
// wrap it).
absl::StatusOr<MachineShape> LookupMachineType(absl::string_view machine_type);

// Every known machine type name, in table order (families grouped, sizes ascending).
const std::vector<std::string>& KnownMachineTypes();

}  // namespace kiln::jobs

#endif  // KILN_JOBS_MACHINE_TYPES_H_
