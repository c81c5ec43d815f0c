#include "runtime/replica_handle.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace kiln::runtime {

std::string ReplicaHandle::Serialize() const {
  nlohmann::json json = {{"replica_dir", replica_dir},
                         {"shim_pid", shim_pid},
                         {"shim_start_ticks", shim_start_ticks},
                         {"boot_id", boot_id}};
  return json.dump();
}

absl::StatusOr<ReplicaHandle> ReplicaHandle::Parse(absl::string_view text) {
  auto json = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  auto error = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("replica handle: ", what));
  };
  if (!json.is_object()) return error("not a JSON object");
  auto dir = json.find("replica_dir");
  auto pid = json.find("shim_pid");
  auto ticks = json.find("shim_start_ticks");
  auto boot = json.find("boot_id");
  if (dir == json.end() || !dir->is_string() || dir->get<std::string>().empty()) {
    return error("\"replica_dir\" must be a non-empty string");
  }
  if (pid == json.end() || !pid->is_number_integer() || pid->get<int64_t>() <= 0) {
    return error("\"shim_pid\" must be a positive integer");
  }
  if (ticks == json.end() || !ticks->is_number_integer() || ticks->get<int64_t>() < 0) {
    return error("\"shim_start_ticks\" must be a non-negative integer");
  }
  if (boot != json.end() && !boot->is_string()) return error("\"boot_id\" must be a string");
  ReplicaHandle handle;
  handle.replica_dir = dir->get<std::string>();
  handle.shim_pid = pid->get<int64_t>();
  handle.shim_start_ticks = ticks->get<int64_t>();
  if (boot != json.end()) handle.boot_id = boot->get<std::string>();
  return handle;
}

}  // namespace kiln::runtime
