#include "cloud_logging/log_entries_service.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "control/job_records.h"
#include "filter/filter.h"
#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "protojson/proto_time.h"
#include "runtime/runtime.h"
#include "service/repository.h"
#include "service/resource_name.h"
#include "store/page_token.h"

namespace kiln::cloud_logging {
namespace {

namespace v1 = ::google::cloud::aiplatform::v1;
namespace v2 = ::google::logging::v2;
using ::google::logging::type::LogSeverity;

constexpr int kDefaultPageSize = 50;  // Cloud Logging's
constexpr int kMaxPageSize = 1000;
constexpr char kResourceType[] = "ml_job";

// The Logging query language's field names, in its spelling and in proto spelling.
const std::vector<filter::FieldSpec>& Fields() {
  static const auto* fields = new std::vector<filter::FieldSpec>{
      {"resource.type", "resource.type"},
      {"resource.labels", "resource.labels"},
      {"logName", "log_name"},
      {"log_name", "log_name"},
      {"severity", "severity", /*ordered=*/true},  // DEBUG < INFO < ... < ERROR
      {"timestamp", "timestamp"},
      {"receiveTimestamp", "receive_timestamp"},
      {"receive_timestamp", "receive_timestamp"},
      {"insertId", "insert_id"},
      {"insert_id", "insert_id"},
      {"textPayload", "text_payload"},
      {"text_payload", "text_payload"},
      {"labels", "labels"},
  };
  return *fields;
}

// "projects/{project}" → project.
absl::StatusOr<std::vector<std::string>> Projects(const v2::ListLogEntriesRequest& request) {
  if (request.resource_names().empty()) {
    return FieldError("resourceNames", "is required: name the project, e.g. [\"projects/my-project\"]");
  }
  std::vector<std::string> projects;
  for (int i = 0; i < request.resource_names_size(); ++i) {
    std::vector<absl::string_view> parts = absl::StrSplit(request.resource_names(i), '/');
    if (parts.size() != 2 || parts[0] != "projects" || parts[1].empty()) {
      return FieldError(absl::StrCat("resourceNames[", i, "]"),
                        absl::StrCat("must be projects/{project} (kiln keeps no organization, folder, "
                                     "billing account or log bucket views), not \"",
                                     request.resource_names(i), "\""));
    }
    projects.emplace_back(parts[1]);
  }
  return projects;
}

// true: ascending.
absl::StatusOr<bool> Ascending(absl::string_view order_by) {
  std::string order = absl::AsciiStrToLower(absl::StripAsciiWhitespace(order_by));
  std::vector<std::string> words = absl::StrSplit(order, ' ', absl::SkipEmpty());
  if (words.empty()) return true;
  if (words[0] == "timestamp" && (words.size() == 1 || (words.size() == 2 && words[1] == "asc"))) return true;
  if (words[0] == "timestamp" && words.size() == 2 && words[1] == "desc") return false;
  return FieldError("orderBy", absl::StrCat("must be \"timestamp asc\" or \"timestamp desc\", not \"", order_by, "\""));
}

absl::StatusOr<int> PageSize(int32_t page_size) {
  if (page_size < 0) return FieldError("pageSize", "must be ≥ 0");
  if (page_size > kMaxPageSize) return FieldError("pageSize", absl::StrCat("must be ≤ ", kMaxPageSize));
  return page_size == 0 ? kDefaultPageSize : page_size;
}

// A replica whose lines are to be read.
struct Source {
  std::string project;
  std::string job_id;
  std::string task;
  std::string handle;  // the job's, in the runtime
};

// The replicas of the CustomJobs of `projects`, narrowed by what the filter pins.
absl::StatusOr<std::vector<Source>> Sources(store::Store& store, runtime::Runtime* runtime,
                                            const std::vector<std::string>& projects, const filter::Filter& filter) {
  std::vector<Source> sources;
  if (runtime == nullptr) return sources;  // this kiln runs no jobs
  if (std::optional<std::string> type = filter.RequiredString("resource.type"); type && *type != kResourceType) {
    return sources;  // kiln writes ml_job entries only
  }
  std::optional<std::string> job_id = filter.RequiredString("resource.labels.job_id");
  std::optional<std::string> task = filter.RequiredString("resource.labels.task_name");
  std::optional<std::string> project_id = filter.RequiredString("resource.labels.project_id");
  auto wanted = [&](const service::ResourceName& name) {
    if (job_id && name.id != *job_id) return false;
    if (project_id && name.location.project != *project_id) return false;
    return std::find(projects.begin(), projects.end(), name.location.project) != projects.end();
  };
  service::Repository<v1::CustomJob> jobs("customJobs", "CustomJob");
  absl::StatusOr<std::vector<std::string>> names = service::Names(store, jobs, [&](const v1::CustomJob& job) {
    absl::StatusOr<service::ResourceName> name = service::ResourceName::Parse(job.name(), "customJobs");
    return name.ok() && wanted(*name);
  });
  if (!names.ok()) return names.status();
  for (const std::string& job_name : *names) {
    absl::StatusOr<service::ResourceName> name = service::ResourceName::Parse(job_name, "customJobs");
    absl::StatusOr<std::optional<control::JobRecord>> record = control::ReadJobRecord(store, job_name);
    if (!record.ok()) return record.status();
    if (!record->has_value() || (*record)->runtime_handle.empty()) continue;  // not launched
    absl::StatusOr<runtime::JobStatus> status = runtime->Status((*record)->runtime_handle);
    if (absl::IsNotFound(status.status())) continue;  // its files are gone
    if (!status.ok()) return status.status();
    for (const runtime::ReplicaState& replica : status->replicas) {
      if (task && replica.task != *task) continue;
      sources.push_back({name->location.project, name->id, replica.task, (*record)->runtime_handle});
    }
  }
  return sources;
}

v2::LogEntry MakeEntry(const Source& source, const runtime::LogLine& line) {
  v2::LogEntry entry;
  entry.set_log_name(absl::StrCat("projects/", source.project, "/logs/", source.task));
  entry.mutable_resource()->set_type(kResourceType);
  auto& labels = *entry.mutable_resource()->mutable_labels();
  labels["project_id"] = source.project;
  labels["job_id"] = source.job_id;
  labels["task_name"] = source.task;
  entry.set_severity(line.stream == runtime::LogStream::kStderr ? LogSeverity::ERROR : LogSeverity::INFO);
  entry.set_text_payload(line.text);
  *entry.mutable_timestamp() = protojson::ToTimestamp(line.time);
  *entry.mutable_receive_timestamp() = entry.timestamp();
  entry.set_insert_id(absl::StrFormat("%s.%s.%016d", source.job_id, source.task, line.offset));
  return entry;
}

// The order of entries (and the page cursor): zero-padded Unix nanoseconds, then insertId.
constexpr int kKeyNanosDigits = 20;
std::string SortKey(const v2::LogEntry& entry) {
  return absl::StrFormat("%0*d|%s", kKeyNanosDigits, absl::ToUnixNanos(protojson::FromTimestamp(entry.timestamp())),
                         entry.insert_id());
}
// The time part of a SortKey (from a page token, so well-formed: the token is checksummed).
int64_t CursorNanos(absl::string_view key) {
  int64_t nanos = 0;
  return absl::SimpleAtoi(key.substr(0, kKeyNanosDigits), &nanos) ? nanos : 0;
}

}  // namespace

absl::StatusOr<v2::ListLogEntriesResponse> LogEntriesService::ListLogEntries(const v2::ListLogEntriesRequest& request,
                                                                             const ProjectCheck& may_read) const {
  absl::StatusOr<std::vector<std::string>> projects = Projects(request);
  if (!projects.ok()) return projects.status();
  for (const std::string& project : *projects) {
    if (absl::Status s = may_read(project); !s.ok()) return s;
  }
  absl::StatusOr<bool> ascending = Ascending(request.order_by());
  if (!ascending.ok()) return ascending.status();
  absl::StatusOr<int> page_size = PageSize(request.page_size());
  if (!page_size.ok()) return page_size.status();
  absl::StatusOr<filter::Filter> filter = filter::Filter::Parse(request.filter(), v2::LogEntry::descriptor(), Fields());
  if (!filter.ok()) return filter.status();
  std::string fingerprint = store::QueryFingerprint(
      {"entries", absl::StrJoin(request.resource_names(), ","), request.filter(), *ascending ? "asc" : "desc"});
  absl::StatusOr<std::string> after = store::DecodeKeyPageToken(request.page_token(), fingerprint);
  if (!after.ok()) return after.status();

  absl::StatusOr<std::vector<Source>> sources = Sources(*store_, runtime_, *projects, *filter);
  if (!sources.ok()) return sources.status();
  // Each replica's lines come in key order (time, then offset), so the page is among the first
  // pageSize + 1 matches of each: reading stops there, and memory stays bounded however long
  // the logs. The filter's and the cursor's times skip older (or, newest first, newer) pieces.
  runtime::LogReadOptions read;
  read.newest_first = !*ascending;
  read.since = filter->TimeLowerBound("timestamp").value_or(absl::InfinitePast());
  if (!after->empty()) {
    absl::Time cursor_time = absl::FromUnixNanos(CursorNanos(*after));
    if (*ascending) {
      read.since = std::max(read.since, cursor_time);
    } else {
      read.until = cursor_time;
    }
  }
  const size_t wanted = static_cast<size_t>(*page_size) + 1;
  std::vector<std::pair<std::string, v2::LogEntry>> matches;
  for (const Source& source : *sources) {
    size_t taken = 0;
    absl::StatusOr<std::unique_ptr<runtime::LogReader>> log = runtime_->OpenLog(source.handle, source.task);
    if (absl::IsNotFound(log.status())) continue;
    if (!log.ok()) return log.status();
    absl::Status s = (*log)->VisitLines(read, [&](runtime::LogLine line) {
      v2::LogEntry entry = MakeEntry(source, line);
      std::string key = SortKey(entry);
      if (!after->empty() && (*ascending ? key <= *after : key >= *after)) return true;
      if (!filter->Matches(entry)) return true;
      matches.emplace_back(std::move(key), std::move(entry));
      return ++taken < wanted;
    });
    if (!s.ok()) return s;
  }
  auto by_key = [&](const auto& a, const auto& b) { return *ascending ? a.first < b.first : a.first > b.first; };
  size_t take = std::min(matches.size(), static_cast<size_t>(*page_size));
  std::partial_sort(matches.begin(), matches.begin() + static_cast<std::ptrdiff_t>(take), matches.end(), by_key);

  v2::ListLogEntriesResponse response;
  for (size_t i = 0; i < take; ++i) *response.add_entries() = std::move(matches[i].second);
  if (matches.size() > take)
    response.set_next_page_token(store::EncodeKeyPageToken(matches[take - 1].first, fingerprint));
  return response;
}

}  // namespace kiln::cloud_logging
