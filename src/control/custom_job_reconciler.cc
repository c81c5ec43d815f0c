#include "control/custom_job_reconciler.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"
#include "nlohmann/json.hpp"
#include "protojson/proto_time.h"
#include "runtime/replica_log.h"
#include "service/job_service.h"
#include "service/repository.h"
#include "spdlog/spdlog.h"

namespace kiln::control {
namespace {

namespace v1 = google::cloud::aiplatform::v1;
using google::protobuf::util::TimeUtil;
using nlohmann::json;

constexpr char kPrimary[] = "workerpool0-0";
constexpr absl::Duration kDefaultTimeout = absl::Hours(24 * 7);

// The launch commit (grant, replica handles, RUNNING) is not fsync'd: it is the one commit on
// the way from create to a replica's exec. A crash of kiln keeps it. A machine crash before
// the job's next (durable) commit may lose it, and the job is then QUEUED after the reboot:
// planning looks in each replica folder, and a spec.json that survived names a shim of the
// previous boot, so the replica is reported from its exit.json or as lost, as the stored
// handle would have been; where no spec.json survived, the job starts afresh (its first run
// ended with the machine). Every later commit is durable and makes this one durable too.
constexpr store::Store::Durability kLaunchDurability = store::Store::Durability::kDeferred;

std::string ReplicasPrefix(absl::string_view job) { return absl::StrCat("replicas/", job, "/"); }
std::string OutcomeKey(absl::string_view job) { return absl::StrCat("outcome/", job); }
std::string GrantKey(absl::string_view job) { return absl::StrCat("grant/", job); }

json SpecToJson(const runtime::ReplicaSpec& spec) {
  return {{"replica_dir", spec.replica_dir}, {"argv", spec.argv}, {"env", spec.env}, {"working_dir", spec.working_dir}};
}

runtime::ReplicaSpec SpecFromJson(const json& j) {
  runtime::ReplicaSpec spec;
  spec.replica_dir = j.value("replica_dir", "");
  spec.argv = j.value("argv", std::vector<std::string>{});
  spec.env = j.value("env", std::vector<std::string>{});
  spec.working_dir = j.value("working_dir", "");
  return spec;
}

absl::Duration TimeoutOf(const v1::CustomJob& job) {
  if (!job.job_spec().scheduling().has_timeout()) return kDefaultTimeout;
  return absl::Milliseconds(TimeUtil::DurationToMilliseconds(job.job_spec().scheduling().timeout()));
}

const service::Repository<v1::CustomJob>& Jobs() {
  static const auto* kRepo = new service::Repository<v1::CustomJob>("customJobs", "CustomJob");
  return *kRepo;
}

}  // namespace

// One replica as stored in the meta table.
struct CustomJobReconciler::ReplicaRecord {
  std::string key;
  std::string task;
  runtime::ReplicaSpec spec;
  std::string handle;  // serialized ReplicaHandle, "" until launched

  static absl::StatusOr<ReplicaRecord> Parse(const std::string& key, const std::string& value) {
    json j = json::parse(value, nullptr, false);
    if (j.is_discarded()) return absl::DataLossError(absl::StrCat("replica record ", key, " is not JSON"));
    ReplicaRecord r;
    r.key = key;
    r.task = j.value("task", "");
    r.spec = SpecFromJson(j.value("spec", json::object()));
    r.handle = j.value("handle", "");
    return r;
  }
  std::string Serialize() const { return json{{"task", task}, {"spec", SpecToJson(spec)}, {"handle", handle}}.dump(); }
};

absl::StatusOr<std::vector<ReplicaRecordView>> ListReplicaRecords(store::Store& store, absl::string_view job_name) {
  std::vector<ReplicaRecordView> out;
  absl::Status s = store.Read([&](store::Transaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> meta = tx.ListMeta(ReplicasPrefix(job_name));
    if (!meta.ok()) return meta.status();
    for (const auto& [k, v] : *meta) {
      json j = json::parse(v, nullptr, false);
      if (j.is_discarded()) return absl::DataLossError(absl::StrCat("replica record ", k, " is not JSON"));
      out.push_back(
          {j.value("task", ""), j.value("spec", json::object()).value("replica_dir", ""), j.value("handle", "")});
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  // Task order: pool, then index (workerpool1-10 after workerpool1-9).
  auto key = [](const ReplicaRecordView& r) {
    int pool = 0, index = 0;
    std::sscanf(r.task_name.c_str(), "workerpool%d-%d", &pool, &index);
    return std::make_pair(pool, index);
  };
  std::sort(out.begin(), out.end(), [&](const auto& a, const auto& b) { return key(a) < key(b); });
  return out;
}

CustomJobReconciler::CustomJobReconciler(store::Store* store, runtime::Runtime* runtime, ReplicaPlanner* planner,
                                         const Clock* clock, Options options)
    : store_(store),
      runtime_(runtime),
      planner_(planner),
      clock_(clock),
      options_(options),
      loop_(
          "customJobs", [this](const std::string& job) { return ReconcileOnce(job); }, [this] { return Unfinished(); },
          options.resync_interval) {}

CustomJobReconciler::~CustomJobReconciler() { Stop(); }

void CustomJobReconciler::Start() {
  if (!listening_) {
    listening_ = true;
    store_->AddCommitListener([this](const std::vector<std::string>& names) {
      for (const std::string& n : names) {
        if (absl::StrContains(n, "/customJobs/")) loop_.Enqueue(n);
      }
    });
    runtime_->SetExitCallback([this](const runtime::ReplicaHandle& handle) {
      std::string job;
      {
        MutexLock lock(&mu_);
        auto it = job_of_replica_dir_.find(handle.replica_dir);
        if (it == job_of_replica_dir_.end()) return;
        job = it->second;
      }
      loop_.Enqueue(job);
    });
    planner_->SetWakeCallback([this](const std::string& job) { loop_.Enqueue(job); });
  }
  loop_.Start();
}

void CustomJobReconciler::Stop() { loop_.Stop(); }

std::string CustomJobReconciler::QueueReason(const std::string& job_name) const {
  MutexLock lock(&mu_);
  auto it = queue_reasons_.find(job_name);
  return it == queue_reasons_.end() ? "" : it->second;
}

void CustomJobReconciler::RestoreOnce(const v1::CustomJob& job) {
  const std::string& job_name = job.name();
  {
    MutexLock lock(&mu_);
    if (!restored_.insert(job_name).second) return;
  }
  std::string grant;
  absl::Status s = store_->Read([&](store::Transaction& tx) -> absl::Status {
    absl::StatusOr<std::string> g = tx.GetMeta(GrantKey(job_name));
    if (g.ok()) grant = *g;
    return absl::OkStatus();
  });
  if (s.ok() && !grant.empty()) s = planner_->Restore(job, grant);
  if (!s.ok()) spdlog::warn("reconciler: restoring the reservation of {}: {}", job_name, s.ToString());
}

std::vector<std::string> CustomJobReconciler::Unfinished() {
  absl::StatusOr<std::vector<std::string>> names =
      service::Names(*store_, Jobs(), [](const v1::CustomJob& m) { return !service::IsFinalJobState(m.state()); });
  if (!names.ok()) {
    spdlog::error("CustomJobReconciler: resync failed: {}", names.status().ToString());
    return {};
  }
  return *std::move(names);
}

absl::Status CustomJobReconciler::ReconcileOnce(const std::string& job_name) {
  absl::StatusOr<v1::CustomJob> read = service::Get(*store_, Jobs(), job_name);
  if (absl::IsNotFound(read.status())) return CleanUp(job_name);  // deleted: its folder and records go too
  if (!read.ok()) return read.status();
  v1::CustomJob job = *std::move(read);
  if (job.state() != v1::JOB_STATE_QUEUED) RestoreOnce(job);
  switch (job.state()) {
    case v1::JOB_STATE_QUEUED:
      return Plan(std::move(job));
    case v1::JOB_STATE_PENDING:
      return Launch(std::move(job));
    case v1::JOB_STATE_RUNNING:
    case v1::JOB_STATE_CANCELLING:
      return Supervise(std::move(job));
    default:
      return absl::OkStatus();
  }
}

absl::Status CustomJobReconciler::Plan(v1::CustomJob job) {
  absl::StatusOr<ReplicaPlanner::Planned> planned = planner_->Plan(job);
  if (absl::IsResourceExhausted(planned.status())) {
    MutexLock lock(&mu_);
    queue_reasons_[job.name()] = std::string(planned.status().message());
    return absl::OkStatus();  // tried again when a job ends
  }
  if (!planned.ok()) return Finish(job.name(), v1::JOB_STATE_FAILED, planned.status());
  {
    MutexLock lock(&mu_);
    queue_reasons_.erase(job.name());
    restored_.insert(job.name());
  }
  // Launch at once and record everything (grant, replicas with their handles, RUNNING) in one
  // transaction. Should kiln die before that commit, the job is still QUEUED: planning again
  // finds the shims through their folders (runtime Find) and adopts them, never launching twice.
  std::vector<ReplicaRecord> records;
  for (const ReplicaPlanner::Replica& r : planned->replicas) {
    records.push_back(ReplicaRecord{absl::StrCat(ReplicasPrefix(job.name()), r.task_name), r.task_name, r.spec, ""});
  }
  absl::Status launched = LaunchAll(job.name(), records);
  absl::Status s = store_->Write(
      [&](store::Transaction& tx) -> absl::Status {
        absl::StatusOr<v1::CustomJob> current = Jobs().Get(tx, job.name());
        if (!current.ok()) return current.status();
        if (absl::Status g = tx.PutMeta(GrantKey(job.name()), planned->grant); !g.ok()) return g;
        for (const ReplicaRecord& r : records) {
          if (absl::Status p = tx.PutMeta(r.key, r.Serialize()); !p.ok()) return p;
        }
        if (!launched.ok() || current->state() != v1::JOB_STATE_QUEUED) return absl::OkStatus();
        absl::Time now = clock_->Now();
        current->set_state(v1::JOB_STATE_RUNNING);
        *current->mutable_start_time() = protojson::ToTimestamp(now);
        *current->mutable_update_time() = protojson::ToTimestamp(now);
        return Jobs().Update(tx, *current);
      },
      kLaunchDurability);
  if (!s.ok()) return s;
  // A launch failure fails the job (the replicas already started are stopped on the way); a job
  // cancelled meanwhile (CANCELLING) is supervised like any other and stops its replicas.
  if (!launched.ok()) return Finish(job.name(), v1::JOB_STATE_FAILED, launched);
  return absl::OkStatus();
}

absl::Status CustomJobReconciler::LaunchAll(const std::string& job_name, std::vector<ReplicaRecord>& records) {
  for (ReplicaRecord& r : records) {
    {
      MutexLock lock(&mu_);
      job_of_replica_dir_[r.spec.replica_dir] = job_name;
    }
    if (!r.handle.empty()) continue;
    // A supervisor already in the folder means kiln died after launching it: adopt, never relaunch.
    absl::StatusOr<std::optional<runtime::ReplicaHandle>> existing = runtime_->Find(r.spec.replica_dir);
    if (!existing.ok()) return existing.status();
    absl::StatusOr<runtime::ReplicaHandle> handle =
        existing->has_value() ? absl::StatusOr<runtime::ReplicaHandle>(**existing) : runtime_->Launch(r.spec);
    if (!handle.ok()) {
      return absl::InternalError(
          absl::StrCat("Replica ", r.task, " could not be started: ", handle.status().message()));
    }
    if (existing->has_value()) {
      if (absl::Status a = runtime_->Adopt(*handle); !a.ok()) return a;
    }
    r.handle = handle->Serialize();
  }
  return absl::OkStatus();
}

absl::Status CustomJobReconciler::Launch(v1::CustomJob job) {
  std::vector<ReplicaRecord> records;
  absl::Status s = store_->Read([&](store::Transaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> meta = tx.ListMeta(ReplicasPrefix(job.name()));
    if (!meta.ok()) return meta.status();
    for (const auto& [k, v] : *meta) {
      absl::StatusOr<ReplicaRecord> r = ReplicaRecord::Parse(k, v);
      if (!r.ok()) return r.status();
      records.push_back(*std::move(r));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;

  absl::Status launched = LaunchAll(job.name(), records);
  if (!launched.ok()) {
    absl::Status saved = SaveLaunched(job.name(), records, /*running=*/false);
    if (!saved.ok()) return saved;
    return Finish(job.name(), v1::JOB_STATE_FAILED, launched);
  }
  // Every handle and the RUNNING state in one transaction.
  return SaveLaunched(job.name(), records, /*running=*/true);
}

absl::Status CustomJobReconciler::SaveLaunched(const std::string& job_name, const std::vector<ReplicaRecord>& records,
                                               bool running) {
  return store_->Write(
      [&](store::Transaction& tx) -> absl::Status {
        for (const ReplicaRecord& r : records) {
          if (r.handle.empty()) continue;
          if (absl::Status p = tx.PutMeta(r.key, r.Serialize()); !p.ok()) return p;
        }
        if (!running) return absl::OkStatus();
        absl::StatusOr<v1::CustomJob> current = Jobs().Get(tx, job_name);
        if (!current.ok()) return current.status();
        if (current->state() != v1::JOB_STATE_PENDING && current->state() != v1::JOB_STATE_QUEUED) {
          return absl::OkStatus();
        }
        absl::Time now = clock_->Now();
        current->set_state(v1::JOB_STATE_RUNNING);
        *current->mutable_start_time() = protojson::ToTimestamp(now);
        *current->mutable_update_time() = protojson::ToTimestamp(now);
        return Jobs().Update(tx, *current);
      },
      kLaunchDurability);
}

// The durable decision of how a job ends, taken once at the first decisive event.
struct CustomJobReconciler::Outcome {
  v1::JobState state = v1::JOB_STATE_UNSPECIFIED;
  absl::Status error;

  std::string Serialize() const {
    return json{{"state", static_cast<int>(state)},
                {"code", static_cast<int>(error.code())},
                {"message", std::string(error.message())}}
        .dump();
  }
  static Outcome Parse(const std::string& text) {
    json j = json::parse(text, nullptr, false);
    Outcome o;
    if (j.is_discarded()) return o;
    o.state = static_cast<v1::JobState>(j.value("state", 0));
    o.error = absl::Status(static_cast<absl::StatusCode>(j.value("code", 0)), j.value("message", ""));
    return o;
  }
};

absl::Status CustomJobReconciler::Supervise(v1::CustomJob job) {
  std::vector<ReplicaRecord> records;
  std::optional<Outcome> outcome;
  absl::Status s = store_->Read([&](store::Transaction& tx) -> absl::Status {
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> meta = tx.ListMeta(ReplicasPrefix(job.name()));
    if (!meta.ok()) return meta.status();
    for (const auto& [k, v] : *meta) {
      absl::StatusOr<ReplicaRecord> r = ReplicaRecord::Parse(k, v);
      if (!r.ok()) return r.status();
      records.push_back(*std::move(r));
    }
    absl::StatusOr<std::string> o = tx.GetMeta(OutcomeKey(job.name()));
    if (o.ok()) outcome = Outcome::Parse(*o);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;

  // Observe every replica. After a restart, replicas are adopted here so exits wake us again.
  struct Observed {
    const ReplicaRecord* record;
    runtime::ReplicaHandle handle;
    runtime::ReplicaStatus status;
  };
  std::vector<Observed> observed;
  for (const ReplicaRecord& r : records) {
    if (r.handle.empty()) return Launch(job);  // a replica was never started (crash mid-launch)
    absl::StatusOr<runtime::ReplicaHandle> handle = runtime::ReplicaHandle::Parse(r.handle);
    if (!handle.ok()) return handle.status();
    bool adopt = false;
    {
      MutexLock lock(&mu_);
      adopt = job_of_replica_dir_.emplace(r.spec.replica_dir, job.name()).second;
    }
    if (adopt) {
      if (absl::Status a = runtime_->Adopt(*handle); !a.ok()) spdlog::warn("adopt {}: {}", r.task, a.ToString());
    }
    absl::StatusOr<runtime::ReplicaStatus> status = runtime_->Poll(*handle);
    if (!status.ok()) return status.status();
    observed.push_back({&r, *handle, *status});
  }

  absl::Time now = clock_->Now();
  if (!outcome.has_value()) {
    if (job.state() == v1::JOB_STATE_CANCELLING) {
      outcome = Outcome{v1::JOB_STATE_CANCELLED, absl::CancelledError("CustomJob was cancelled.")};
    } else {
      // The earliest decisive exit wins: a replica failing, or the primary succeeding.
      const Observed* first = nullptr;
      for (const Observed& o : observed) {
        bool exited = o.status.state != runtime::ReplicaStatus::State::kRunning;
        bool failed = o.status.state == runtime::ReplicaStatus::State::kLost ||
                      (exited && !o.status.stopped_by_kiln && (o.status.exit_code != 0 || o.status.term_signal != 0));
        bool primary_succeeded =
            exited && o.record->task == kPrimary && o.status.exit_code == 0 && o.status.term_signal == 0;
        if ((failed || primary_succeeded) && (first == nullptr || o.status.end_time < first->status.end_time)) {
          first = &o;
        }
      }
      if (first != nullptr) {
        const runtime::ReplicaStatus& st = first->status;
        if (st.state == runtime::ReplicaStatus::State::kExited && st.exit_code == 0 && st.term_signal == 0) {
          outcome = Outcome{v1::JOB_STATE_SUCCEEDED, absl::OkStatus()};
        } else {
          std::string how = st.state == runtime::ReplicaStatus::State::kLost
                                ? "was lost (its supervisor disappeared without recording an exit)"
                            : st.term_signal != 0 ? absl::StrCat("was killed by signal ", st.term_signal, " (",
                                                                 strsignal(st.term_signal), ")")
                                                  : absl::StrCat("exited with a non-zero status of ", st.exit_code);
          std::string tail = LogTail(first->record->spec.replica_dir);
          outcome =
              Outcome{v1::JOB_STATE_FAILED, absl::InvalidArgumentError(absl::StrCat(
                                                "The replica ", first->record->task, " ", how, ".",
                                                tail.empty() ? "" : absl::StrCat(" Last lines of its log:\n", tail)))};
        }
      } else if (job.has_start_time() && now >= protojson::FromTimestamp(job.start_time()) + TimeoutOf(job)) {
        outcome = Outcome{v1::JOB_STATE_FAILED, absl::DeadlineExceededError(absl::StrCat(
                                                    "CustomJob ran longer than its scheduling.timeout of ",
                                                    absl::FormatDuration(TimeoutOf(job)), " and was stopped."))};
      }
    }
    bool any_running = false;
    for (const Observed& o : observed)
      any_running = any_running || o.status.state == runtime::ReplicaStatus::State::kRunning;
    if (outcome.has_value() && !any_running) {
      // Nothing to stop: the outcome is final at once, in the same commit as the state.
      return Finish(job.name(), outcome->state, outcome->error);
    }
    if (outcome.has_value()) {
      if (absl::Status w = store_->Write(
              [&](store::Transaction& tx) { return tx.PutMeta(OutcomeKey(job.name()), outcome->Serialize()); });
          !w.ok()) {
        return w;
      }
    } else if (job.has_start_time()) {
      // The timeout is measured on `clock_`; the loop waits in wall-clock time.
      loop_.SetDeadline(job.name(), absl::Now() + (protojson::FromTimestamp(job.start_time()) + TimeoutOf(job) - now));
      return absl::OkStatus();
    }
  }
  if (!outcome.has_value()) return absl::OkStatus();

  // Stop whatever still runs; finish once nothing does.
  bool all_done = true;
  for (const Observed& o : observed) {
    if (o.status.state != runtime::ReplicaStatus::State::kRunning) continue;
    all_done = false;
    if (absl::Status st = runtime_->Stop(o.handle, options_.stop_grace); !st.ok()) {
      spdlog::warn("stop {}: {}", o.record->task, st.ToString());
    }
  }
  if (!all_done) return absl::OkStatus();
  return Finish(job.name(), outcome->state, outcome->error);
}

absl::Status CustomJobReconciler::Finish(const std::string& job_name, v1::JobState state, const absl::Status& error) {
  loop_.ClearDeadline(job_name);
  {
    MutexLock lock(&mu_);
    queue_reasons_.erase(job_name);
  }
  absl::Status s = store_->Write([&](store::Transaction& tx) -> absl::Status {
    for (const std::string& key : {GrantKey(job_name), OutcomeKey(job_name)}) {
      absl::Status d = tx.DeleteMeta(key);
      if (!d.ok() && !absl::IsNotFound(d)) return d;
    }
    absl::StatusOr<v1::CustomJob> current = Jobs().Get(tx, job_name);
    if (!current.ok()) return current.status();
    if (service::IsFinalJobState(current->state())) return absl::OkStatus();
    absl::Time now = clock_->Now();
    current->set_state(state);
    *current->mutable_end_time() = protojson::ToTimestamp(now);
    *current->mutable_update_time() = protojson::ToTimestamp(now);
    if (!error.ok()) {
      current->mutable_error()->set_code(static_cast<int>(error.code()));
      current->mutable_error()->set_message(std::string(error.message()));
    }
    return Jobs().Update(tx, *current);
  });
  if (!s.ok()) return s;
  // What this job held is free again: jobs waiting for resources get another try, oldest first
  // (names end in increasing numeric ids).
  planner_->Release(job_name);
  std::vector<std::string> waiting;
  {
    MutexLock lock(&mu_);
    for (const auto& [name, reason] : queue_reasons_) waiting.push_back(name);
  }
  std::sort(waiting.begin(), waiting.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  for (const std::string& name : waiting) loop_.Enqueue(name);
  return absl::OkStatus();
}

absl::Status CustomJobReconciler::CleanUp(const std::string& job_name) {
  absl::StatusOr<std::vector<ReplicaRecordView>> records = ListReplicaRecords(*store_, job_name);
  if (!records.ok()) return records.status();
  std::set<std::string> folders;
  for (const ReplicaRecordView& r : *records) {
    {
      MutexLock lock(&mu_);
      job_of_replica_dir_.erase(r.replica_dir);
    }
    std::filesystem::path dir(r.replica_dir);
    if (dir.has_parent_path()) folders.insert(dir.parent_path().string());  // <jobs root>/<id>
  }
  for (const std::string& folder : folders) {
    std::error_code error;
    std::filesystem::remove_all(folder, error);
    if (error) spdlog::warn("reconciler: removing {}: {}", folder, error.message());
  }
  loop_.ClearDeadline(job_name);
  {
    MutexLock lock(&mu_);
    queue_reasons_.erase(job_name);
    restored_.erase(job_name);
  }
  planner_->Release(job_name);
  return store_->Write([&](store::Transaction& tx) -> absl::Status {
    for (const ReplicaRecordView& r : *records) {
      absl::Status d = tx.DeleteMeta(absl::StrCat(ReplicasPrefix(job_name), r.task_name));
      if (!d.ok() && !absl::IsNotFound(d)) return d;
    }
    for (const std::string& key : {OutcomeKey(job_name), GrantKey(job_name)}) {
      absl::Status d = tx.DeleteMeta(key);
      if (!d.ok() && !absl::IsNotFound(d)) return d;
    }
    return absl::OkStatus();
  });
}

std::string CustomJobReconciler::LogTail(const std::string& replica_dir) const {
  return runtime::ReadLogTail(replica_dir, options_.log_tail_lines);
}

}  // namespace kiln::control
