// Grant <-> JSON and CudaVisibleDevices.

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "scheduling/ledger.h"

namespace kiln::scheduling {
namespace {
constexpr char kDeviceIdsByTask[] = "deviceIdsByTask";
}  // namespace

std::string GrantToJson(const Grant& grant) {
  nlohmann::json by_task = nlohmann::json::object();
  for (const auto& [task, ids] : grant.device_ids_by_task) by_task[task] = ids;
  nlohmann::json out = nlohmann::json::object();
  out[kDeviceIdsByTask] = std::move(by_task);
  return out.dump();
}

absl::StatusOr<Grant> GrantFromJson(absl::string_view json) {
  const nlohmann::json parsed =
      nlohmann::json::parse(json.begin(), json.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return absl::InvalidArgumentError("grant: malformed JSON");
  if (!parsed.is_object()) return absl::InvalidArgumentError("grant: not a JSON object");
  const auto by_task = parsed.find(kDeviceIdsByTask);
  if (by_task == parsed.end() || !by_task->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("grant: ", kDeviceIdsByTask, " is missing or not an object"));
  }
  Grant grant;
  for (const auto& [task, ids] : by_task->items()) {
    if (!ids.is_array()) {
      return absl::InvalidArgumentError(absl::StrCat("grant: ", kDeviceIdsByTask, ".", task, " is not an array"));
    }
    std::vector<std::string>& out = grant.device_ids_by_task[task];
    for (const nlohmann::json& id : ids) {
      if (!id.is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat("grant: ", kDeviceIdsByTask, ".", task, " holds a device id that is not a string"));
      }
      out.push_back(id.get<std::string>());
    }
  }
  return grant;
}

std::string CudaVisibleDevices(const Grant& grant, absl::string_view task) {
  const auto it = grant.device_ids_by_task.find(std::string(task));
  return it == grant.device_ids_by_task.end() ? "" : absl::StrJoin(it->second, ",");
}

}  // namespace kiln::scheduling
