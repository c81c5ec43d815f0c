#include "runtime/replica_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace kiln::runtime::internal {
namespace {

using Json = nlohmann::json;

absl::Status ErrnoError(int error, absl::string_view what, absl::string_view path) {
  return absl::ErrnoToStatus(error, absl::StrCat(what, " ", path));
}

// Writes all of `content` to `fd`, retrying short writes and EINTR.
bool WriteAll(int fd, absl::string_view content) {
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    content.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

absl::Status WriteToPath(const std::string& path, absl::string_view content, bool sync) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError(errno, "open", path);
  if (!WriteAll(fd, content) || (sync && ::fsync(fd) != 0)) {
    int error = errno;
    ::close(fd);
    return ErrnoError(error, "write", path);
  }
  if (::close(fd) != 0) return ErrnoError(errno, "close", path);
  return absl::OkStatus();
}

}  // namespace

std::string JoinPath(absl::string_view dir, absl::string_view name) {
  if (!dir.empty() && dir.back() == '/') return absl::StrCat(dir, name);
  return absl::StrCat(dir, "/", name);
}

std::string SpecToJson(const ReplicaSpec& spec, const ReplicaHandle& shim) {
  Json json = {{"argv", spec.argv},
               {"env", spec.env},
               {"working_dir", spec.working_dir},
               {"shim", {{"pid", shim.shim_pid}, {"start_ticks", shim.shim_start_ticks}, {"boot_id", shim.boot_id}}}};
  return json.dump();
}

absl::StatusOr<ReplicaHandle> ShimOfSpec(absl::string_view spec_json, const std::string& replica_dir) {
  Json json = Json::parse(spec_json.begin(), spec_json.end(), nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return absl::InvalidArgumentError("spec.json: not a JSON object");
  auto shim = json.find("shim");
  if (shim == json.end()) return absl::NotFoundError("spec.json names no shim");
  if (!shim->is_object()) return absl::InvalidArgumentError("spec.json: \"shim\" must be an object");
  Json as_handle = {{"replica_dir", replica_dir},
                    {"shim_pid", shim->value("pid", Json())},
                    {"shim_start_ticks", shim->value("start_ticks", Json())},
                    {"boot_id", shim->value("boot_id", Json(""))}};
  absl::StatusOr<ReplicaHandle> handle = ReplicaHandle::Parse(as_handle.dump());
  if (!handle.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("spec.json: ", handle.status().message()));
  }
  return handle;
}

absl::StatusOr<ExitRecord> ExitRecordFromJson(absl::string_view text) {
  Json json = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return absl::InvalidArgumentError("exit.json: not a JSON object");
  auto code = json.find("exit_code");
  auto signal = json.find("signal");
  auto stopped = json.find("stopped_by_kiln");
  auto end = json.find("end_time");
  if (code == json.end() || !code->is_number_integer() || signal == json.end() || !signal->is_number_integer() ||
      stopped == json.end() || !stopped->is_boolean() || end == json.end() || !end->is_string()) {
    return absl::InvalidArgumentError("exit.json: missing or mistyped field");
  }
  ExitRecord record;
  record.exit_code = code->get<int>();
  record.signal = signal->get<int>();
  record.stopped_by_kiln = stopped->get<bool>();
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, end->get<std::string>(), &record.end_time, &error)) {
    return absl::InvalidArgumentError(absl::StrCat("exit.json: bad end_time: ", error));
  }
  return record;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "open", path);
  std::string content;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      int error = errno;
      ::close(fd);
      return ErrnoError(error, "read", path);
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return content;
}

absl::Status WriteFile(const std::string& path, absl::string_view content) {
  return WriteToPath(path, content, /*sync=*/false);
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view content, bool durable) {
  std::string temp = absl::StrCat(path, ".tmp");
  absl::Status status = WriteToPath(temp, content, durable);
  if (!status.ok()) return status;
  if (::rename(temp.c_str(), path.c_str()) != 0) return ErrnoError(errno, "rename", temp);
  if (durable) {
    size_t slash = path.find_last_of('/');
    std::string dir(slash == std::string::npos ? absl::string_view(".") : absl::string_view(path).substr(0, slash + 1));
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoError(errno, "open", dir);
    int rc = ::fsync(fd);
    int error = errno;
    ::close(fd);
    if (rc != 0) return ErrnoError(error, "fsync", dir);
  }
  return absl::OkStatus();
}

absl::StatusOr<ProcStat> ReadProcStat(pid_t pid) {
  if (pid <= 0) return absl::NotFoundError(absl::StrCat("no process ", pid));
  auto text = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!text.ok()) return text.status();  // NOT_FOUND when the process is gone
  // "pid (comm) S ppid ..."; comm may hold spaces and parentheses, so split after the last ')'.
  size_t close = text->rfind(')');
  if (close == std::string::npos) {
    return absl::InternalError(absl::StrCat("/proc/", pid, "/stat: unexpected format"));
  }
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(*text).substr(close + 1), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state), fields[1] field 4 (ppid), field 22 (starttime) is fields[19].
  ProcStat stat;
  if (fields.size() < 20 || !absl::SimpleAtoi(fields[19], &stat.start_ticks) ||
      !absl::SimpleAtoi(fields[1], &stat.parent_pid)) {
    return absl::InternalError(absl::StrCat("/proc/", pid, "/stat: unexpected format"));
  }
  stat.zombie = fields[0] == "Z" || fields[0] == "X";
  return stat;
}

const std::string& BootId() {
  static const std::string* const kBootId = [] {
    auto text = ReadFile("/proc/sys/kernel/random/boot_id");
    return new std::string(text.ok() ? std::string(absl::StripAsciiWhitespace(*text)) : std::string());
  }();
  return *kBootId;
}

}  // namespace kiln::runtime::internal
