#include "control/job_records.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace kiln::control {
namespace {

namespace v1 = google::cloud::aiplatform::v1;
using nlohmann::json;

// The layout is private to this file.
std::string Key(absl::string_view job_name) { return absl::StrCat("job/", job_name); }

}  // namespace

absl::StatusOr<JobRecord> GetJobRecord(store::Transaction& tx, absl::string_view job_name) {
  absl::StatusOr<std::string> text = tx.GetMeta(Key(job_name));
  if (!text.ok()) return text.status();
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  auto bad = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("the stored record of ", job_name, " is malformed: ", what));
  };
  if (!j.is_object()) return bad("not a JSON object");
  JobRecord record;
  if (!j.value("handle", json("")).is_string() || !j.value("grant", json("")).is_string()) {
    return bad("handle and grant must be strings");
  }
  record.runtime_handle = j.value("handle", "");
  record.grant = j.value("grant", "");
  if (auto o = j.find("outcome"); o != j.end()) {
    if (!o->is_object() || !o->value("state", json()).is_number_integer() ||
        !o->value("code", json()).is_number_integer() || !o->value("message", json()).is_string()) {
      return bad("outcome must have state, code and message");
    }
    int state = (*o)["state"].get<int>();
    int code = (*o)["code"].get<int>();
    if (!v1::JobState_IsValid(state) || code < 0 || code > 16) return bad("outcome state or code out of range");
    record.outcome =
        JobRecord::Outcome{static_cast<v1::JobState>(state),
                           absl::Status(static_cast<absl::StatusCode>(code), (*o)["message"].get<std::string>())};
  }
  return record;
}

absl::Status PutJobRecord(store::Transaction& tx, absl::string_view job_name, const JobRecord& record) {
  json j = {{"handle", record.runtime_handle}, {"grant", record.grant}};
  if (record.outcome.has_value()) {
    j["outcome"] = {{"state", static_cast<int>(record.outcome->state)},
                    {"code", static_cast<int>(record.outcome->error.code())},
                    {"message", std::string(record.outcome->error.message())}};
  }
  return tx.PutMeta(Key(job_name), j.dump());
}

absl::Status DeleteJobRecord(store::Transaction& tx, absl::string_view job_name) {
  absl::Status s = tx.DeleteMeta(Key(job_name));
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

absl::StatusOr<std::optional<JobRecord>> ReadJobRecord(store::Store& store, absl::string_view job_name) {
  std::optional<JobRecord> out;
  absl::Status s = store.Read([&](store::Transaction& tx) -> absl::Status {
    absl::StatusOr<JobRecord> r = GetJobRecord(tx, job_name);
    if (absl::IsNotFound(r.status())) return absl::OkStatus();
    if (!r.ok()) return r.status();
    out = *std::move(r);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace kiln::control
