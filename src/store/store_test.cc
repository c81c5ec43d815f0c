#include "store/store.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kParent[] = "projects/p/locations/l";
constexpr char kOtherParent[] = "projects/p/locations/m";

Resource Job(absl::string_view parent, absl::string_view id, absl::string_view data = "d") {
  Resource r;
  r.name = absl::StrCat(parent, "/customJobs/", id);
  r.kind = "customJobs";
  r.parent = std::string(parent);
  r.data = std::string(data);
  return r;
}

std::vector<std::string> Names(const std::vector<Resource>& resources) {
  std::vector<std::string> names;
  for (const Resource& r : resources) names.push_back(r.name);
  return names;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(":memory:");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  absl::Status Insert(Resource r) {
    return store_->Write([&](Transaction& tx) { return tx.Insert(r); });
  }
  absl::StatusOr<Resource> Get(absl::string_view name) {
    absl::StatusOr<Resource> out = absl::UnknownError("unset");
    absl::Status status = store_->Read([&](Transaction& tx) {
      out = tx.Get(name);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return out;
  }
  std::vector<Resource> List(absl::string_view kind, absl::string_view parent, int64_t after_seq = 0, int limit = 100) {
    std::vector<Resource> out;
    absl::Status status = store_->Read([&](Transaction& tx) -> absl::Status {
      auto list = tx.List(kind, parent, after_seq, limit);
      if (!list.ok()) return list.status();
      out = std::move(*list);
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return out;
  }

  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, InsertGetUpdateDelete) {
  EXPECT_EQ(store_->schema_version(), 1);
  Resource r = Job(kParent, "1", "v1");
  ASSERT_TRUE(store_->Write([&](Transaction& tx) { return tx.Insert(r); }).ok());
  EXPECT_GT(r.seq, 0);
  EXPECT_EQ(r.revision, 1);

  absl::StatusOr<Resource> got = Get(r.name);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->name, r.name);
  EXPECT_EQ(got->kind, "customJobs");
  EXPECT_EQ(got->parent, kParent);
  EXPECT_EQ(got->data, "v1");
  EXPECT_EQ(got->seq, r.seq);
  EXPECT_EQ(got->revision, 1);

  Resource update = *got;
  update.data = std::string("v2\0bytes", 8);  // binary-safe
  ASSERT_TRUE(store_->Write([&](Transaction& tx) { return tx.Update(update); }).ok());
  EXPECT_EQ(update.revision, 2);
  EXPECT_EQ(update.seq, r.seq);  // seq is the creation order; Update keeps it
  got = Get(r.name);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->data, std::string("v2\0bytes", 8));
  EXPECT_EQ(got->revision, 2);

  // revision 0 means "no check"; kind/parent may be left empty.
  Resource blind{.name = r.name, .data = "v3"};
  ASSERT_TRUE(store_->Write([&](Transaction& tx) { return tx.Update(blind); }).ok());
  EXPECT_EQ(blind.revision, 3);
  EXPECT_EQ(blind.kind, "customJobs");
  EXPECT_EQ(blind.parent, kParent);

  ASSERT_TRUE(store_->Write([&](Transaction& tx) { return tx.Delete(r.name); }).ok());
  EXPECT_EQ(Get(r.name).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, ErrorCodes) {
  Resource r = Job(kParent, "1");
  ASSERT_TRUE(Insert(r).ok());

  absl::Status dup = Insert(Job(kParent, "1"));
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(dup.message()), HasSubstr(r.name));

  absl::Status missing = Get(absl::StrCat(kParent, "/customJobs/404")).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("customJobs/404"));

  Resource ghost = Job(kParent, "404");
  EXPECT_EQ(store_->Write([&](Transaction& tx) { return tx.Update(ghost); }).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Write([&](Transaction& tx) { return tx.Delete(ghost.name); }).code(), absl::StatusCode::kNotFound);

  // Optimistic concurrency: a stale revision is ABORTED and changes nothing.
  Resource stale = r;
  stale.revision = 1;
  ASSERT_TRUE(store_->Write([&](Transaction& tx) { return tx.Update(stale); }).ok());
  stale.revision = 1;
  stale.data = "lost update";
  absl::Status aborted = store_->Write([&](Transaction& tx) { return tx.Update(stale); });
  EXPECT_EQ(aborted.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Get(r.name)->data, "d");
  EXPECT_EQ(Get(r.name)->revision, 2);

  Resource moved = r;
  moved.revision = 0;
  moved.parent = kOtherParent;
  EXPECT_EQ(store_->Write([&](Transaction& tx) { return tx.Update(moved); }).code(),
            absl::StatusCode::kInvalidArgument);
  Resource nameless;
  EXPECT_EQ(Insert(nameless).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, FailedCallbackRollsBackEverything) {
  ASSERT_TRUE(Insert(Job(kParent, "keep")).ok());
  absl::Status status = store_->Write([&](Transaction& tx) -> absl::Status {
    Resource a = Job(kParent, "a");
    if (absl::Status s = tx.Insert(a); !s.ok()) return s;
    if (absl::Status s = tx.Delete(Job(kParent, "keep").name); !s.ok()) return s;
    if (absl::Status s = tx.PutMeta("runtime/x", "1"); !s.ok()) return s;
    if (auto id = tx.NextId("jobs"); !id.ok()) return id.status();
    return absl::InternalError("boom");
  });
  EXPECT_EQ(status, absl::InternalError("boom"));
  EXPECT_EQ(Get(Job(kParent, "a").name).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Get(Job(kParent, "keep").name).ok());
  int64_t id = 0;
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& tx) -> absl::Status {
                    EXPECT_EQ(tx.GetMeta("runtime/x").status().code(), absl::StatusCode::kNotFound);
                    auto next = tx.NextId("jobs");
                    if (next.ok()) id = *next;
                    return next.status();
                  })
                  .ok());
  EXPECT_EQ(id, 1);  // the rolled-back value is handed out again
}

TEST_F(StoreTest, LogicalErrorsLeaveTheTransactionUsable) {
  // Get-or-insert inside one transaction: the NOT_FOUND does not doom it.
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& tx) -> absl::Status {
                    Resource r = Job(kParent, "1");
                    if (tx.Get(r.name).ok()) return absl::InternalError("should be absent");
                    if (tx.Insert(r).ok() && tx.Insert(r).code() != absl::StatusCode::kAlreadyExists) {
                      return absl::InternalError("expected ALREADY_EXISTS");
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_TRUE(Get(Job(kParent, "1").name).ok());
}

TEST_F(StoreTest, ListOrdersBySeqFiltersByParentAndPages) {
  for (const char* id : {"c", "a", "b"}) ASSERT_TRUE(Insert(Job(kParent, id)).ok());
  ASSERT_TRUE(Insert(Job(kOtherParent, "z")).ok());
  Resource model{.name = "projects/p/locations/l/models/1", .kind = "models", .parent = kParent};
  ASSERT_TRUE(Insert(model).ok());

  auto all = List("customJobs", kParent);
  EXPECT_THAT(Names(all), ElementsAre(Job(kParent, "c").name, Job(kParent, "a").name, Job(kParent, "b").name));
  EXPECT_LT(all[0].seq, all[1].seq);
  EXPECT_LT(all[1].seq, all[2].seq);
  EXPECT_THAT(Names(List("customJobs", "")), ElementsAre(Job(kParent, "c").name, Job(kParent, "a").name,
                                                         Job(kParent, "b").name, Job(kOtherParent, "z").name));
  EXPECT_THAT(Names(List("customJobs", kOtherParent)), ElementsAre(Job(kOtherParent, "z").name));
  EXPECT_THAT(Names(List("models", "")), ElementsAre(model.name));
  EXPECT_THAT(List("operations", ""), IsEmpty());

  // Paging: limit + after_seq of the last returned.
  auto page1 = List("customJobs", kParent, 0, 2);
  ASSERT_EQ(page1.size(), 2u);
  auto page2 = List("customJobs", kParent, page1.back().seq, 2);
  EXPECT_THAT(Names(page2), ElementsAre(Job(kParent, "b").name));
  EXPECT_THAT(List("customJobs", kParent, page2.back().seq, 2), IsEmpty());

  // seq is never reused, even after a delete.
  ASSERT_TRUE(store_->Write([&](Transaction& tx) { return tx.Delete(Job(kParent, "b").name); }).ok());
  Resource again = Job(kParent, "b");
  ASSERT_TRUE(store_->Write([&](Transaction& tx) { return tx.Insert(again); }).ok());
  EXPECT_GT(again.seq, model.seq);

  absl::Status bad = store_->Read([](Transaction& tx) { return tx.List("", "", 0, 10).status(); });
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  bad = store_->Read([](Transaction& tx) { return tx.List("models", "", 0, 0).status(); });
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, NextIdCountsPerCounter) {
  std::vector<int64_t> ids;
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& tx) -> absl::Status {
                    for (const char* counter : {"jobs", "jobs", "models/1/versions", "jobs"}) {
                      auto id = tx.NextId(counter);
                      if (!id.ok()) return id.status();
                      ids.push_back(*id);
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_THAT(ids, ElementsAre(1, 2, 1, 3));
}

TEST_F(StoreTest, Meta) {
  ASSERT_TRUE(store_
                  ->Write([](Transaction& tx) -> absl::Status {
                    for (const char* key : {"runtime/b", "runtime/a", "other", "runtime0"}) {
                      if (absl::Status s = tx.PutMeta(key, absl::StrCat("v-", key)); !s.ok()) return s;
                    }
                    return tx.PutMeta("runtime/a", "replaced");
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([](Transaction& tx) -> absl::Status {
                    EXPECT_EQ(*tx.GetMeta("runtime/a"), "replaced");
                    EXPECT_EQ(tx.GetMeta("nope").status().code(), absl::StatusCode::kNotFound);
                    auto runtime = tx.ListMeta("runtime/");
                    EXPECT_TRUE(runtime.ok());
                    EXPECT_THAT(*runtime, ElementsAre(std::pair<std::string, std::string>("runtime/a", "replaced"),
                                                      std::pair<std::string, std::string>("runtime/b", "v-runtime/b")));
                    EXPECT_EQ(tx.ListMeta("")->size(), 4u);
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_TRUE(store_->Write([](Transaction& tx) { return tx.DeleteMeta("runtime/a"); }).ok());
  EXPECT_EQ(store_->Write([](Transaction& tx) { return tx.DeleteMeta("runtime/a"); }).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, ReadTransactionsAreReadOnlyAndCallbacksCannotReenter) {
  absl::Status status = store_->Read([](Transaction& tx) {
    Resource r = Job(kParent, "1");
    return tx.Insert(r);
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  status = store_->Read([](Transaction& tx) { return tx.NextId("jobs").status(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);

  status = store_->Write([&](Transaction&) { return store_->Read([](Transaction&) { return absl::OkStatus(); }); });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  // The store is still usable afterwards.
  EXPECT_TRUE(Insert(Job(kParent, "1")).ok());
}

TEST_F(StoreTest, CommitListenerGetsChangedNamesOnlyOnCommit) {
  Mutex mu;
  std::vector<std::vector<std::string>> calls;
  Subscription listening = store_->AddCommitListener([&](const std::vector<std::string>& names) {
    MutexLock lock(&mu);
    calls.push_back(names);
  });
  Resource a = Job(kParent, "a");
  Resource b = Job(kParent, "b");
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& tx) -> absl::Status {
                    if (absl::Status s = tx.Insert(a); !s.ok()) return s;
                    if (absl::Status s = tx.Insert(b); !s.ok()) return s;
                    return tx.Update(a);  // a changed twice: reported once
                  })
                  .ok());
  // Rolled back, read-only and counter/meta-only transactions are not reported.
  EXPECT_FALSE(store_
                   ->Write([&](Transaction& tx) -> absl::Status {
                     if (absl::Status s = tx.Delete(a.name); !s.ok()) return s;
                     return absl::CancelledError("no");
                   })
                   .ok());
  ASSERT_TRUE(store_->Read([&](Transaction& tx) { return tx.Get(a.name).status(); }).ok());
  ASSERT_TRUE(store_->Write([](Transaction& tx) { return tx.PutMeta("k", "v"); }).ok());
  ASSERT_TRUE(store_->Write([&](Transaction& tx) { return tx.Delete(b.name); }).ok());

  MutexLock lock(&mu);
  EXPECT_THAT(calls, ElementsAre(ElementsAre(a.name, b.name), ElementsAre(b.name)));
}

TEST_F(StoreTest, ListenerMayCallBackIntoTheStore) {
  std::atomic<int> seen{0};
  Subscription listening = store_->AddCommitListener([&](const std::vector<std::string>& names) {
    absl::Status status = store_->Read([&](Transaction& tx) { return tx.Get(names.front()).status(); });
    if (status.ok()) seen.fetch_add(1);
  });
  ASSERT_TRUE(Insert(Job(kParent, "1")).ok());
  EXPECT_EQ(seen.load(), 1);
}

TEST_F(StoreTest, ACancelledListenerIsNotCalledAgain) {
  std::atomic<int> calls{0};
  Subscription listening = store_->AddCommitListener([&](const std::vector<std::string>&) { calls.fetch_add(1); });
  ASSERT_TRUE(Insert(Job(kParent, "1")).ok());
  listening.Cancel();
  ASSERT_TRUE(Insert(Job(kParent, "2")).ok());
  EXPECT_EQ(calls.load(), 1);
  // A listener may cancel itself from inside its call without waiting for itself.
  Subscription once;
  once = store_->AddCommitListener([&](const std::vector<std::string>&) {
    calls.fetch_add(1);
    once.Cancel();
  });
  ASSERT_TRUE(Insert(Job(kParent, "3")).ok());
  ASSERT_TRUE(Insert(Job(kParent, "4")).ok());
  EXPECT_EQ(calls.load(), 2);
}

}  // namespace
}  // namespace kiln::store
