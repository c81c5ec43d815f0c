// LogEntriesService's request rules, over an empty store. What entries look like, paging and
// the filter over real replicas are in tests/log_entries_integration_test.cc.

#include "cloud_logging/log_entries_service.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/status_macros.h"
#include "control/job_records.h"
#include "gmock/gmock.h"
#include "google/cloud/aiplatform/v1/custom_job.pb.h"
#include "gtest/gtest.h"
#include "runtime/fake_runtime.h"

namespace kiln::cloud_logging {
namespace {

namespace v2 = ::google::logging::v2;
namespace v1 = google::cloud::aiplatform::v1;
using ::testing::HasSubstr;

absl::Status AnyProject(absl::string_view) { return absl::OkStatus(); }

class LogEntriesServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/kiln-logging-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    absl::StatusOr<std::unique_ptr<store::Store>> store = store::Store::Open(dir_ + "/kiln.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    service_ = std::make_unique<LogEntriesService>(store_.get(), &runtime_);
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  v2::ListLogEntriesRequest Request() {
    v2::ListLogEntriesRequest request;
    request.add_resource_names("projects/p");
    return request;
  }
  void ExpectInvalid(const v2::ListLogEntriesRequest& request, const std::string& message) {
    absl::StatusOr<v2::ListLogEntriesResponse> response = service_->ListLogEntries(request, AnyProject);
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(response.status().message(), HasSubstr(message));
  }

  std::string dir_;
  runtime::FakeRuntime runtime_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<LogEntriesService> service_;
};

TEST_F(LogEntriesServiceTest, AValidRequestOverNoJobsIsEmpty) {
  v2::ListLogEntriesRequest request = Request();
  request.set_filter(
      "resource.type=\"ml_job\" AND resource.labels.job_id=\"1\" AND timestamp>=\"2026-01-01T00:00:00Z\"");
  request.set_order_by("timestamp desc");
  request.set_page_size(1000);
  absl::StatusOr<v2::ListLogEntriesResponse> response = service_->ListLogEntries(request, AnyProject);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->entries_size(), 0);
  EXPECT_EQ(response->next_page_token(), "");
}

TEST_F(LogEntriesServiceTest, ResourceNamesAreRequiredProjects) {
  v2::ListLogEntriesRequest request;
  ExpectInvalid(request, "resourceNames: is required");
  for (const char* bad : {"organizations/1", "projects/", "projects/p/locations/global/buckets/b", "p"}) {
    request.clear_resource_names();
    request.add_resource_names("projects/ok");
    request.add_resource_names(bad);
    ExpectInvalid(request, absl::StrCat("resourceNames[1]: must be projects/{project}"));
  }
}

TEST_F(LogEntriesServiceTest, OrderPageSizeFilterAndTokenAreChecked) {
  v2::ListLogEntriesRequest request = Request();
  for (const char* good : {"", "timestamp", "timestamp asc", " TIMESTAMP  DESC "}) {
    request.set_order_by(good);
    EXPECT_TRUE(service_->ListLogEntries(request, AnyProject).ok()) << good;
  }
  request.set_order_by("insertId asc");
  ExpectInvalid(request, "orderBy: must be \"timestamp asc\" or \"timestamp desc\"");
  request = Request();
  request.set_page_size(-1);
  ExpectInvalid(request, "pageSize: must be ≥ 0");
  request.set_page_size(1001);
  ExpectInvalid(request, "pageSize: must be ≤ 1000");
  request = Request();
  request.set_filter("jsonPayload.message=\"x\"");
  ExpectInvalid(request, "unknown field \"jsonPayload.message\"");
  request.set_filter("severity:ERROR");
  ExpectInvalid(request, "operator \":\" does not apply to enum field \"severity\"");
  request.set_filter("severity>=LOUD");
  ExpectInvalid(request, "is not a value of google.logging.type.LogSeverity");
  request.set_filter("timestamp>=\"yesterday\"");
  ExpectInvalid(request, "bad timestamp");
  request = Request();
  request.set_page_token("not-a-token");
  ExpectInvalid(request, "pageToken");
}

TEST_F(LogEntriesServiceTest, EveryProjectIsCheckedBeforeAnythingIsRead) {
  v2::ListLogEntriesRequest request = Request();
  request.add_resource_names("projects/secret");
  std::vector<std::string> asked;
  absl::StatusOr<v2::ListLogEntriesResponse> response =
      service_->ListLogEntries(request, [&](absl::string_view project) {
        asked.emplace_back(project);
        return project == "secret" ? absl::PermissionDeniedError("no") : absl::OkStatus();
      });
  EXPECT_EQ(response.status(), absl::PermissionDeniedError("no"));
  EXPECT_EQ(asked, (std::vector<std::string>{"p", "secret"}));
}

// Replicas are found through the job's record and the runtime seam, never by folder.
TEST_F(LogEntriesServiceTest, ReadsTheReplicasTheRuntimeReportsForTheRecordedJob) {
  const std::string job = "projects/p/locations/us-central1/customJobs/7";
  v1::CustomJob stored;
  stored.set_name(job);
  stored.set_state(v1::JOB_STATE_RUNNING);
  runtime::JobLaunch launch{
      .key = "7", .name = job, .replicas = {{.task = "workerpool0-0"}, {.task = "workerpool1-0"}}};
  launch.build = [](const std::vector<runtime::ReplicaPlace>& places) {
    return std::vector<runtime::ReplicaCommand>(places.size(), runtime::ReplicaCommand{.argv = {"true"}});
  };
  absl::StatusOr<std::string> handle = runtime_.LaunchJob(launch);
  ASSERT_TRUE(handle.ok());
  runtime_.SetLog(*handle, "workerpool0-0", "zero\n");
  runtime_.SetLog(*handle, "workerpool1-0", "one\n");
  ASSERT_TRUE(store_
                  ->Write([&](store::Transaction& tx) -> absl::Status {
                    store::Resource r{.name = job,
                                      .kind = "customJobs",
                                      .parent = "projects/p/locations/us-central1",
                                      .data = stored.SerializeAsString()};
                    KILN_RETURN_IF_ERROR(tx.Insert(r));
                    return control::PutJobRecord(tx, job, {.runtime_handle = *handle});
                  })
                  .ok());
  v2::ListLogEntriesRequest request = Request();
  request.set_filter("resource.labels.task_name=workerpool1-0");
  absl::StatusOr<v2::ListLogEntriesResponse> response = service_->ListLogEntries(request, AnyProject);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->entries_size(), 1);
  EXPECT_EQ(response->entries(0).text_payload(), "one");
  EXPECT_EQ(response->entries(0).log_name(), "projects/p/logs/workerpool1-0");
}

}  // namespace
}  // namespace kiln::cloud_logging
