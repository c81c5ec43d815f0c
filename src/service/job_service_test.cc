#include "service/job_service.h"

#include "google/cloud/aiplatform/v1/operation.pb.h"
#include "gtest/gtest.h"
#include "service/test_util.h"

namespace kiln::service {
namespace {

namespace v1 = google::cloud::aiplatform::v1;

constexpr char kParent[] = "projects/p/locations/us-central1";

v1::CustomJob ValidJob(const std::string& display_name = "job") {
  v1::CustomJob job;
  job.set_display_name(display_name);
  auto* pool = job.mutable_job_spec()->add_worker_pool_specs();
  pool->set_replica_count(1);
  pool->mutable_machine_spec()->set_machine_type("n1-standard-4");
  pool->mutable_container_spec()->set_image_uri("busybox");
  return job;
}

class JobServiceTest : public ::testing::Test {
 protected:
  JobServiceTest() : store_(OpenTestStore()), ops_(store_.get()), jobs_(store_.get(), &ops_, &clock_) {}

  v1::CustomJob Create(const v1::CustomJob& job) {
    v1::CreateCustomJobRequest req;
    req.set_parent(kParent);
    *req.mutable_custom_job() = job;
    auto created = jobs_.CreateCustomJob(req);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : v1::CustomJob();
  }

  absl::Status CreateStatus(const v1::CustomJob& job) {
    v1::CreateCustomJobRequest req;
    req.set_parent(kParent);
    *req.mutable_custom_job() = job;
    return jobs_.CreateCustomJob(req).status();
  }

  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  OperationsService ops_;
  JobService jobs_;
};

TEST_F(JobServiceTest, CreateAssignsNumericIdQueuedStateAndTimes) {
  v1::CustomJob input = ValidJob();
  input.set_state(v1::JOB_STATE_SUCCEEDED);  // output-only: ignored
  v1::CustomJob a = Create(input);
  v1::CustomJob b = Create(ValidJob());
  EXPECT_EQ(a.name().rfind(std::string(kParent) + "/customJobs/", 0), 0u) << a.name();
  EXPECT_NE(a.name(), b.name());
  std::string id = a.name().substr(a.name().rfind('/') + 1);
  EXPECT_TRUE(std::all_of(id.begin(), id.end(), ::isdigit)) << id;
  EXPECT_EQ(a.state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(a.create_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(a.update_time().seconds(), a.create_time().seconds());

  v1::GetCustomJobRequest get;
  get.set_name(a.name());
  auto got = jobs_.GetCustomJob(get);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->SerializeAsString(), a.SerializeAsString());
}

TEST_F(JobServiceTest, ValidationNamesTheField) {
  v1::CustomJob job = ValidJob("");
  EXPECT_EQ(CreateStatus(job).message(), "customJob.displayName: is required");
  job = ValidJob(std::string(129, 'x'));
  EXPECT_EQ(CreateStatus(job).message(), "customJob.displayName: must be at most 128 characters, got 129");
  job = ValidJob();
  job.mutable_job_spec()->clear_worker_pool_specs();
  EXPECT_EQ(CreateStatus(job).message(), "customJob.jobSpec.workerPoolSpecs: at least one worker pool is required");
  job = ValidJob();
  job.mutable_job_spec()->mutable_worker_pool_specs(0)->set_replica_count(0);
  EXPECT_EQ(CreateStatus(job).message(), "customJob.jobSpec.workerPoolSpecs[0].replicaCount: must be ≥ 1");
  job = ValidJob();
  (*job.mutable_labels())["Bad"] = "x";
  EXPECT_EQ(CreateStatus(job).message(), "customJob.labels.Bad: label keys must start with a lowercase letter");
  job = ValidJob();
  job.clear_job_spec();
  EXPECT_EQ(CreateStatus(job).message(), "customJob.jobSpec: is required");

  v1::CreateCustomJobRequest req;
  req.set_parent("projects/p");
  *req.mutable_custom_job() = ValidJob();
  EXPECT_EQ(jobs_.CreateCustomJob(req).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(JobServiceTest, GetUnknownIsNotFound) {
  v1::GetCustomJobRequest get;
  get.set_name(std::string(kParent) + "/customJobs/999");
  absl::Status s = jobs_.GetCustomJob(get).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "CustomJob projects/p/locations/us-central1/customJobs/999 not found.");
  get.set_name("projects/p/locations/l/customJobs/abc");
  EXPECT_EQ(jobs_.GetCustomJob(get).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(JobServiceTest, ListFiltersAndPages) {
  for (int i = 0; i < 5; ++i) Create(ValidJob(i % 2 == 0 ? "even" : "odd"));
  v1::ListCustomJobsRequest list;
  list.set_parent(kParent);
  list.set_filter("display_name=\"even\"");
  list.set_page_size(2);
  auto page1 = jobs_.ListCustomJobs(list);
  ASSERT_TRUE(page1.ok()) << page1.status();
  ASSERT_EQ(page1->custom_jobs_size(), 2);
  ASSERT_FALSE(page1->next_page_token().empty());
  list.set_page_token(page1->next_page_token());
  auto page2 = jobs_.ListCustomJobs(list);
  ASSERT_TRUE(page2.ok()) << page2.status();
  EXPECT_EQ(page2->custom_jobs_size(), 1);
  EXPECT_TRUE(page2->next_page_token().empty());

  // A token is bound to its filter.
  list.set_filter("display_name=\"odd\"");
  EXPECT_EQ(jobs_.ListCustomJobs(list).status().code(), absl::StatusCode::kInvalidArgument);

  v1::ListCustomJobsRequest other;
  other.set_parent("projects/p/locations/europe-west4");
  auto empty = jobs_.ListCustomJobs(other);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->custom_jobs_size(), 0);

  other.set_parent(kParent);
  other.set_filter("state=JOB_STATE_QUEUED AND NOT display_name=\"odd\"");
  auto queued = jobs_.ListCustomJobs(other);
  ASSERT_TRUE(queued.ok()) << queued.status();
  EXPECT_EQ(queued->custom_jobs_size(), 3);

  other.set_filter("bogus=1");
  EXPECT_EQ(jobs_.ListCustomJobs(other).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(JobServiceTest, ListAppliesReadMask) {
  Create(ValidJob());
  v1::ListCustomJobsRequest list;
  list.set_parent(kParent);
  list.mutable_read_mask()->add_paths("display_name");
  auto page = jobs_.ListCustomJobs(list);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->custom_jobs_size(), 1);
  EXPECT_EQ(page->custom_jobs(0).display_name(), "job");
  EXPECT_FALSE(page->custom_jobs(0).has_job_spec());
  list.mutable_read_mask()->add_paths("no_such_field");
  EXPECT_EQ(jobs_.ListCustomJobs(list).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(JobServiceTest, CancelThenDeleteOnlyWhenFinished) {
  v1::CustomJob job = Create(ValidJob());
  v1::DeleteCustomJobRequest del;
  del.set_name(job.name());
  EXPECT_EQ(jobs_.DeleteCustomJob(del).status().code(), absl::StatusCode::kFailedPrecondition);

  v1::CancelCustomJobRequest cancel;
  cancel.set_name(job.name());
  ASSERT_TRUE(jobs_.CancelCustomJob(cancel).ok());
  ASSERT_TRUE(jobs_.CancelCustomJob(cancel).ok()) << "cancelling twice is harmless";
  v1::GetCustomJobRequest get;
  get.set_name(job.name());
  EXPECT_EQ(jobs_.GetCustomJob(get)->state(), v1::JOB_STATE_CANCELLING);

  // Finish it as the reconciler would, then delete.
  ASSERT_TRUE(store_
                  ->Write([&](store::Transaction& tx) {
                    Repository<v1::CustomJob> repo("customJobs", "CustomJob");
                    auto stored = repo.Get(tx, job.name());
                    stored->set_state(v1::JOB_STATE_CANCELLED);
                    return repo.Update(tx, *stored);
                  })
                  .ok());
  EXPECT_EQ(jobs_.CancelCustomJob(cancel).status().code(), absl::StatusCode::kFailedPrecondition);
  auto op = jobs_.DeleteCustomJob(del);
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_TRUE(op->done());
  EXPECT_EQ(op->name().rfind("projects/p/locations/us-central1/operations/", 0), 0u);
  EXPECT_TRUE(op->metadata().Is<v1::DeleteOperationMetadata>());
  EXPECT_EQ(jobs_.GetCustomJob(get).status().code(), absl::StatusCode::kNotFound);

  google::longrunning::GetOperationRequest get_op;
  get_op.set_name(op->name());
  auto stored_op = ops_.Get(get_op);
  ASSERT_TRUE(stored_op.ok());
  EXPECT_TRUE(stored_op->done());
}

}  // namespace
}  // namespace kiln::service
