#include "app/job_extensions.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "nlohmann/json.hpp"
#include "protojson/json_codec.h"
#include "runtime/replica_log.h"
#include "service/job_service.h"
#include "service/repository.h"
#include "service/resource_name.h"

namespace kiln::app {
namespace {

namespace v1 = google::cloud::aiplatform::v1;
using nlohmann::json;

constexpr size_t kMaxLogChunk = 1 << 20;
constexpr int kDefaultWaitSeconds = 20;
constexpr int kMaxWaitSeconds = 60;

absl::StatusOr<v1::CustomJob> ReadJob(store::Store& store, const std::string& name) {
  static const auto* kRepo = new service::Repository<v1::CustomJob>("customJobs", "CustomJob");
  v1::CustomJob job;
  absl::Status s = store.Read([&](store::Transaction& tx) -> absl::Status {
    absl::StatusOr<v1::CustomJob> got = kRepo->Get(tx, name);
    if (!got.ok()) return got.status();
    job = *std::move(got);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return job;
}

std::string QueryValue(const server::HttpRequest& request, absl::string_view key, absl::string_view fallback) {
  for (const auto& [k, v] : request.query) {
    if (k == key) return v;
  }
  return std::string(fallback);
}

absl::StatusOr<int64_t> QueryInt(const server::HttpRequest& request, absl::string_view key, int64_t fallback,
                                 int64_t min, int64_t max) {
  std::string text = QueryValue(request, key, "");
  if (text.empty()) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < min || value > max) {
    return FieldError(key, absl::StrCat("must be an integer from ", min, " to ", max, ", got \"", text, "\""));
  }
  return value;
}

std::string StateName(runtime::ReplicaStatus::State state) {
  switch (state) {
    case runtime::ReplicaStatus::State::kRunning:
      return "RUNNING";
    case runtime::ReplicaStatus::State::kExited:
      return "EXITED";
    case runtime::ReplicaStatus::State::kLost:
      return "LOST";
  }
  return "UNKNOWN";
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

}  // namespace

JobExtensions::JobExtensions(store::Store* store, const control::CustomJobReconciler* reconciler,
                             runtime::Runtime* runtime)
    : store_(store), reconciler_(reconciler), runtime_(runtime) {
  store_->AddCommitListener([this](const std::vector<std::string>& names) { OnCommit(names); });
}

void JobExtensions::OnCommit(const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    if (absl::StrContains(n, "/customJobs/")) {
      MutexLock lock(&mu_);
      ++commits_;
      committed_.SignalAll();
      return;
    }
  }
}

int64_t JobExtensions::Commits() {
  MutexLock lock(&mu_);
  return commits_;
}

int64_t JobExtensions::AwaitCommit(int64_t seen, absl::Time deadline) {
  MutexLock lock(&mu_);
  while (commits_ == seen && !committed_.WaitWithDeadline(&mu_, deadline)) {
  }
  return commits_;
}

absl::Status JobExtensions::Register(server::Api& api) {
  auto job_of = [](const std::vector<server::PathTemplate::Binding>& bindings) { return bindings.at(0).second; };
  absl::Status s = api.RegisterRaw("GET", "/kiln/v1/{name=projects/*/locations/*/customJobs/*}/replicas",
                                   [this, job_of](const server::HttpRequest&, const auto& bindings,
                                                  const server::CallContext&) { return Replicas(job_of(bindings)); });
  if (!s.ok()) return s;
  s = api.RegisterRaw("GET", "/kiln/v1/{name=projects/*/locations/*/customJobs/*}/logs",
                      [this, job_of](const server::HttpRequest& request, const auto& bindings,
                                     const server::CallContext&) { return Logs(job_of(bindings), request); });
  if (!s.ok()) return s;
  return api.RegisterRaw(
      "GET", "/kiln/v1/{name=projects/*/locations/*/customJobs/*}:wait",
      [this, job_of](const server::HttpRequest& request, const auto& bindings, const server::CallContext& context) {
        return Wait(job_of(bindings), request, context.int_enums);
      });
}

absl::StatusOr<server::HttpResponse> JobExtensions::Replicas(const std::string& job_name) const {
  absl::StatusOr<v1::CustomJob> job = ReadJob(*store_, job_name);
  if (!job.ok()) return job.status();
  absl::StatusOr<std::vector<control::ReplicaRecordView>> records = control::ListReplicaRecords(*store_, job_name);
  if (!records.ok()) return records.status();
  json body = {{"state", v1::JobState_Name(job->state())}, {"replicas", json::array()}};
  if (reconciler_ != nullptr) {
    std::string reason = reconciler_->QueueReason(job_name);
    if (!reason.empty()) body["queueReason"] = reason;
  }
  for (const control::ReplicaRecordView& r : *records) {
    json replica = {{"taskName", r.task_name}, {"replicaDir", r.replica_dir}, {"state", "PLANNED"}};
    if (!r.handle.empty() && runtime_ != nullptr) {
      absl::StatusOr<runtime::ReplicaHandle> handle = runtime::ReplicaHandle::Parse(r.handle);
      absl::StatusOr<runtime::ReplicaStatus> status =
          handle.ok() ? runtime_->Poll(*handle) : absl::StatusOr<runtime::ReplicaStatus>(handle.status());
      if (status.ok()) {
        replica["state"] = StateName(status->state);
        replica["exitCode"] = status->exit_code;
        replica["signal"] = status->term_signal;
        replica["stoppedByKiln"] = status->stopped_by_kiln;
      } else {
        replica["state"] = "UNKNOWN";
        replica["error"] = std::string(status.status().message());
      }
    }
    body["replicas"].push_back(std::move(replica));
  }
  server::HttpResponse response;
  response.body = body.dump(2);
  return response;
}

absl::StatusOr<server::HttpResponse> JobExtensions::Logs(const std::string& job_name,
                                                         const server::HttpRequest& request) {
  absl::StatusOr<v1::CustomJob> job = ReadJob(*store_, job_name);
  if (!job.ok()) return job.status();
  std::string task = QueryValue(request, "task", "workerpool0-0");
  absl::StatusOr<int64_t> offset = QueryInt(request, "offset", 0, 0, INT64_MAX);
  if (!offset.ok()) return offset.status();
  std::string follow_text = QueryValue(request, "follow", "false");
  if (follow_text != "true" && follow_text != "false") return FieldError("follow", "must be true or false");
  bool follow = follow_text == "true";
  absl::StatusOr<int64_t> wait_seconds = QueryInt(request, "waitSeconds", kDefaultWaitSeconds, 0, kMaxWaitSeconds);
  if (!wait_seconds.ok()) return wait_seconds.status();

  absl::Time deadline = absl::Now() + absl::Seconds(*wait_seconds);
  // Before the job is planned there is no replica to read: following waits (bounded) for it.
  absl::StatusOr<std::vector<control::ReplicaRecordView>> records;
  while (true) {
    int64_t seen = Commits();
    records = control::ListReplicaRecords(*store_, job_name);
    if (!records.ok()) return records.status();
    if (!records->empty() || !follow || absl::Now() >= deadline) break;
    absl::StatusOr<v1::CustomJob> now = ReadJob(*store_, job_name);
    if (!now.ok()) return now.status();
    if (service::IsFinalJobState(now->state())) break;
    AwaitCommit(seen, deadline);
  }
  const control::ReplicaRecordView* record = nullptr;
  std::vector<std::string> tasks;
  for (const auto& r : *records) {
    tasks.push_back(r.task_name);
    if (r.task_name == task) record = &r;
  }
  server::HttpResponse response;
  response.content_type = "text/plain; charset=UTF-8";
  if (record == nullptr) {
    if (!records->empty()) {
      return absl::NotFoundError(
          absl::StrCat("CustomJob ", job_name, " has no replica ", task, "; it has ", absl::StrJoin(tasks, ", "), "."));
    }
    // Not planned (yet): nothing to read; more may come unless the job already ended.
    absl::StatusOr<v1::CustomJob> now = ReadJob(*store_, job_name);
    if (!now.ok()) return now.status();
    response.headers.emplace_back("X-Kiln-Next-Offset", absl::StrCat(*offset));
    response.headers.emplace_back("X-Kiln-Log-End", service::IsFinalJobState(now->state()) ? "true" : "false");
    return response;
  }

  std::string path = runtime::LogPath(record->replica_dir);
  // Whether the replica can still write: not when it has exited, or the job has ended.
  auto finished = [&]() {
    if (record->handle.empty()) {
      absl::StatusOr<v1::CustomJob> now = ReadJob(*store_, job_name);
      return !now.ok() || service::IsFinalJobState(now->state());
    }
    if (runtime_ == nullptr) return true;
    absl::StatusOr<runtime::ReplicaHandle> handle = runtime::ReplicaHandle::Parse(record->handle);
    if (!handle.ok()) return true;
    absl::StatusOr<runtime::ReplicaStatus> status = runtime_->Poll(*handle);
    return !status.ok() || status->state != runtime::ReplicaStatus::State::kRunning;
  };
  // Follow: wait (bounded) for bytes past `offset` or for the replica to end, woken by the log's
  // growth or exit.json (inotify); at least every second `finished` is asked again, for ends
  // that write no exit.json (a lost shim, a job ended before its launch).
  bool done = finished();
  while (follow && !done && FileSize(path) <= *offset && absl::Now() < deadline) {
    runtime::WaitForLogChange(record->replica_dir, *offset, std::min(deadline - absl::Now(), absl::Seconds(1)));
    done = finished();
  }
  // Read what is there now (checking `done` first, so bytes written before the end are sent).
  std::string chunk;
  std::ifstream in(path, std::ios::binary);
  if (in) {
    in.seekg(*offset);
    chunk.resize(kMaxLogChunk);
    in.read(chunk.data(), static_cast<std::streamsize>(kMaxLogChunk));
    chunk.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
  }
  int64_t next = *offset + static_cast<int64_t>(chunk.size());
  bool end = done && next >= FileSize(path);
  response.body = std::move(chunk);
  response.headers.emplace_back("X-Kiln-Next-Offset", absl::StrCat(next));
  response.headers.emplace_back("X-Kiln-Log-End", end ? "true" : "false");
  return response;
}

absl::StatusOr<server::HttpResponse> JobExtensions::Wait(const std::string& job_name,
                                                         const server::HttpRequest& request, bool int_enums) {
  absl::StatusOr<int64_t> timeout = QueryInt(request, "timeoutSeconds", 30, 0, kMaxWaitSeconds);
  if (!timeout.ok()) return timeout.status();
  absl::Time deadline = absl::Now() + absl::Seconds(*timeout);
  while (true) {
    int64_t seen = Commits();
    absl::StatusOr<v1::CustomJob> job = ReadJob(*store_, job_name);
    if (!job.ok()) return job.status();
    if (service::IsFinalJobState(job->state()) || absl::Now() >= deadline) {
      server::HttpResponse response;
      response.body = protojson::MessageToJson(*job, int_enums);
      return response;
    }
    AwaitCommit(seen, deadline);
  }
}

}  // namespace kiln::app
