#include "service/operations_service.h"

#include <thread>

#include "google/cloud/aiplatform/v1/operation.pb.h"
#include "gtest/gtest.h"
#include "service/test_util.h"

namespace kiln::service {
namespace {

namespace lro = google::longrunning;

class OperationsServiceTest : public ::testing::Test {
 protected:
  OperationsServiceTest() : store_(OpenTestStore()), ops_(store_.get()) {}

  lro::Operation CreateDone(const std::string& owner) {
    lro::Operation op;
    EXPECT_TRUE(store_
                    ->Write([&](store::Transaction& tx) -> absl::Status {
                      auto created =
                          ops_.CreateDone(tx, owner, google::cloud::aiplatform::v1::DeleteOperationMetadata(),
                                          google::protobuf::Empty());
                      if (!created.ok()) return created.status();
                      op = *created;
                      return absl::OkStatus();
                    })
                    .ok());
    return op;
  }

  std::unique_ptr<store::Store> store_;
  OperationsService ops_;
};

TEST_F(OperationsServiceTest, GetListDelete) {
  lro::Operation a = CreateDone("projects/p/locations/l");
  CreateDone("projects/p/locations/l");
  CreateDone("projects/p/locations/other");

  lro::GetOperationRequest get;
  get.set_name(a.name());
  auto got = ops_.Get(get);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->done());

  lro::ListOperationsRequest list;
  list.set_name("projects/p/locations/l");
  auto listed = ops_.List(list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->operations_size(), 2);
  list.set_filter("done=true");
  listed = ops_.List(list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->operations_size(), 2);

  lro::DeleteOperationRequest del;
  del.set_name(a.name());
  ASSERT_TRUE(ops_.Delete(del).ok());
  EXPECT_EQ(ops_.Get(get).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ops_.Delete(del).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(OperationsServiceTest, WaitReturnsDoneOperationsAtOnce) {
  lro::Operation a = CreateDone("projects/p/locations/l");
  lro::WaitOperationRequest wait;
  wait.set_name(a.name());
  wait.mutable_timeout()->set_seconds(30);
  auto waited = ops_.Wait(wait);
  ASSERT_TRUE(waited.ok());
  EXPECT_TRUE(waited->done());
}

TEST_F(OperationsServiceTest, WaitWakesWhenTheOperationFinishes) {
  // An unfinished operation, finished by another thread; Wait must see it without polling.
  lro::Operation pending;
  pending.set_name("projects/p/locations/l/operations/77");
  Repository<lro::Operation> repo("operations", "Operation");
  ASSERT_TRUE(
      store_->Write([&](store::Transaction& tx) { return repo.Insert(tx, "projects/p/locations/l", pending); }).ok());
  std::thread finisher([&] {
    pending.set_done(true);
    EXPECT_TRUE(store_->Write([&](store::Transaction& tx) { return repo.Update(tx, pending); }).ok());
  });
  lro::WaitOperationRequest wait;
  wait.set_name(pending.name());
  wait.mutable_timeout()->set_seconds(30);
  auto waited = ops_.Wait(wait);
  finisher.join();
  ASSERT_TRUE(waited.ok());
  EXPECT_TRUE(waited->done());
}

TEST_F(OperationsServiceTest, BadNamesAreInvalid) {
  lro::GetOperationRequest get;
  get.set_name("projects/p/locations/l/customJobs/1");
  EXPECT_EQ(ops_.Get(get).status().code(), absl::StatusCode::kInvalidArgument);
  get.set_name("projects/p/locations/l/operations/404");
  EXPECT_EQ(ops_.Get(get).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace kiln::service
