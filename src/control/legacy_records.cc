#include "control/legacy_records.h"

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "control/job_records.h"
#include "nlohmann/json.hpp"

namespace kiln::control {
namespace {

namespace v1 = google::cloud::aiplatform::v1;
using nlohmann::json;

constexpr char kReplicasPrefix[] = "replicas/";

}  // namespace

absl::Status UpgradeLegacyRecords(store::Store& store, runtime::Runtime& runtime, int* upgraded) {
  if (upgraded != nullptr) *upgraded = 0;
  std::set<std::string> jobs;
  KILN_RETURN_IF_ERROR(store.Read([&](store::Transaction& tx) -> absl::Status {
    KILN_ASSIGN_OR_RETURN(auto entries, tx.ListMeta(kReplicasPrefix));
    for (const auto& [key, value] : entries) {
      absl::string_view rest = absl::string_view(key).substr(sizeof(kReplicasPrefix) - 1);
      size_t slash = rest.rfind('/');
      if (slash != absl::string_view::npos) jobs.insert(std::string(rest.substr(0, slash)));
    }
    return absl::OkStatus();
  }));
  for (const std::string& job : jobs) {
    JobRecord record;
    std::string key = job.substr(job.rfind('/') + 1);
    KILN_ASSIGN_OR_RETURN(std::optional<runtime::FoundJob> found, runtime.FindJob(key));
    if (found.has_value()) record.runtime_handle = found->handle;
    KILN_RETURN_IF_ERROR(store.Write([&](store::Transaction& tx) -> absl::Status {
      absl::StatusOr<std::string> grant = tx.GetMeta(absl::StrCat("grant/", job));
      if (grant.ok()) record.grant = *grant;
      absl::StatusOr<std::string> outcome = tx.GetMeta(absl::StrCat("outcome/", job));
      if (outcome.ok()) {
        json o = json::parse(*outcome, nullptr, /*allow_exceptions=*/false);
        if (o.is_object() && o.value("state", json()).is_number_integer() &&
            v1::JobState_IsValid(o.value("state", 0))) {
          int code = o.value("code", 0);
          record.outcome = JobRecord::Outcome{
              static_cast<v1::JobState>(o.value("state", 0)),
              absl::Status(static_cast<absl::StatusCode>(code >= 0 && code <= 16 ? code : 13), o.value("message", ""))};
        }
      }
      absl::StatusOr<JobRecord> current = GetJobRecord(tx, job);
      if (absl::IsNotFound(current.status())) {
        KILN_RETURN_IF_ERROR(PutJobRecord(tx, job, record));
      } else if (!current.ok()) {
        return current.status();
      }
      KILN_ASSIGN_OR_RETURN(auto entries, tx.ListMeta(absl::StrCat(kReplicasPrefix, job, "/")));
      for (const auto& [k, v] : entries) KILN_RETURN_IF_ERROR(tx.DeleteMeta(k));
      for (const std::string& k : {absl::StrCat("grant/", job), absl::StrCat("outcome/", job)}) {
        absl::Status d = tx.DeleteMeta(k);
        if (!d.ok() && !absl::IsNotFound(d)) return d;
      }
      return absl::OkStatus();
    }));
    if (upgraded != nullptr) ++*upgraded;
  }
  return absl::OkStatus();
}

}  // namespace kiln::control
