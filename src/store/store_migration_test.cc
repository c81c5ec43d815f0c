// Store tests against real files: durability across reopen, migrations, pragmas, and
// concurrent writers and readers.

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/store.h"

namespace kiln::store {
namespace {

using ::testing::HasSubstr;

constexpr char kParent[] = "projects/p/locations/l";

class FileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) / absl::StrCat("kiln_store_", info->name(), "_", getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "kiln.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Store> OpenOrDie(Store::Options options = Store::Options()) {
    auto store = Store::Open(path_, std::move(options));
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  std::filesystem::path dir_;
  std::string path_;
};

absl::StatusOr<int64_t> InsertWithNewId(Store& store, absl::string_view data) {
  int64_t id = 0;
  absl::Status status = store.Write([&](Transaction& tx) -> absl::Status {
    auto next = tx.NextId("customJobs");
    if (!next.ok()) return next.status();
    id = *next;
    Resource r{.name = absl::StrCat(kParent, "/customJobs/", id),
               .kind = "customJobs",
               .parent = kParent,
               .data = std::string(data)};
    return tx.Insert(r);
  });
  if (!status.ok()) return status;
  return id;
}

TEST_F(FileStoreTest, DurabilityPragmasAreSet) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->PragmaValue("journal_mode"), "wal");
  EXPECT_EQ(*store->PragmaValue("synchronous"), "2");  // FULL
  EXPECT_EQ(*store->PragmaValue("foreign_keys"), "1");
  EXPECT_EQ(*store->PragmaValue("busy_timeout"), "5000");
  EXPECT_EQ(*store->PragmaValue("user_version"), "1");
  EXPECT_EQ(store->PragmaValue("journal_mode = DELETE").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FileStoreTest, DeferredWritesCommitAndLeaveTheConnectionFull) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(
        store->Write([](Transaction& tx) { return tx.PutMeta("deferred", "1"); }, Store::Durability::kDeferred).ok());
    EXPECT_EQ(*store->PragmaValue("synchronous"), "2");
    absl::Status failed = store->Write(
        [](Transaction& tx) -> absl::Status {
          if (absl::Status s = tx.PutMeta("rolled-back", "1"); !s.ok()) return s;
          return absl::AbortedError("no");
        },
        Store::Durability::kDeferred);
    EXPECT_EQ(failed.code(), absl::StatusCode::kAborted);
    EXPECT_EQ(*store->PragmaValue("synchronous"), "2");
    ASSERT_TRUE(store->Write([](Transaction& tx) { return tx.PutMeta("durable", "1"); }).ok());
  }
  auto reopened = OpenOrDie();
  ASSERT_NE(reopened, nullptr);
  ASSERT_TRUE(reopened
                  ->Read([](Transaction& tx) -> absl::Status {
                    EXPECT_EQ(*tx.GetMeta("deferred"), "1");
                    EXPECT_EQ(*tx.GetMeta("durable"), "1");
                    EXPECT_EQ(tx.GetMeta("rolled-back").status().code(), absl::StatusCode::kNotFound);
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_F(FileStoreTest, ReopenFindsEverythingAndIdsStayMonotonic) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(*InsertWithNewId(*store, "one"), 1);
    EXPECT_EQ(*InsertWithNewId(*store, "two"), 2);
    ASSERT_TRUE(store->Write([](Transaction& tx) { return tx.PutMeta("runtime/1", "pid"); }).ok());
  }
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*InsertWithNewId(*store, "three"), 3);
  ASSERT_TRUE(store
                  ->Read([](Transaction& tx) -> absl::Status {
                    auto list = tx.List("customJobs", kParent, 0, 10);
                    EXPECT_TRUE(list.ok());
                    EXPECT_EQ(list->size(), 3u);
                    EXPECT_EQ((*list)[0].data, "one");
                    EXPECT_EQ((*list)[2].data, "three");
                    EXPECT_EQ(*tx.GetMeta("runtime/1"), "pid");
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_F(FileStoreTest, MigrationToV2KeepsData) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(store->schema_version(), 1);
    ASSERT_TRUE(InsertWithNewId(*store, "before").ok());
  }
  Store::Options v2;
  v2.migrations.push_back(
      "CREATE TABLE labels (name TEXT NOT NULL, label TEXT NOT NULL);"
      "INSERT INTO labels SELECT name, 'migrated' FROM resources;");
  auto store = OpenOrDie(v2);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), 2);
  EXPECT_EQ(*store->PragmaValue("user_version"), "2");
  ASSERT_TRUE(
      store->Read([](Transaction& tx) { return tx.Get(absl::StrCat(kParent, "/customJobs/1")).status(); }).ok());
  EXPECT_EQ(*InsertWithNewId(*store, "after"), 2);
  store.reset();

  // The migration ran: its table holds a row per resource that existed then.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM labels WHERE label = 'migrated'", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 1);
  sqlite3_finalize(stmt);
  sqlite3_close(db);

  // Reopening at v2 applies nothing more.
  store = OpenOrDie(v2);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), 2);
}

TEST_F(FileStoreTest, FailedMigrationLeavesTheOldVersion) {
  { ASSERT_NE(OpenOrDie(), nullptr); }
  Store::Options broken;
  broken.migrations.push_back("CREATE TABLE ok (x); THIS IS NOT SQL;");
  auto store = Store::Open(path_, broken);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("migration 2"));
  auto reopened = OpenOrDie();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(*reopened->PragmaValue("user_version"), "1");
}

TEST_F(FileStoreTest, NewerDatabaseIsRefused) {
  Store::Options v2;
  v2.migrations.push_back("CREATE TABLE future (x);");
  { ASSERT_NE(OpenOrDie(v2), nullptr); }
  auto store = Store::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("schema version 2"));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("newer"));
}

TEST_F(FileStoreTest, NotADatabaseIsDataLoss) {
  {
    FILE* f = fopen(path_.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs("this is definitely not an sqlite database file, just some text......", f);
    fclose(f);
  }
  auto store = Store::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(FileStoreTest, ConcurrentWritersAndReadersAllLand) {
  constexpr int kWriters = 4;
  constexpr int kWritesEach = 50;
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  std::atomic<int> notified{0};
  Subscription listening = store->AddCommitListener(
      [&](const std::vector<std::string>& names) { notified.fetch_add(static_cast<int>(names.size())); });

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&] {
      for (int i = 0; i < kWritesEach; ++i) {
        if (!InsertWithNewId(*store, "x").ok()) failures.fetch_add(1);
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      for (int i = 0; i < kWritesEach; ++i) {
        absl::Status status = store->Read([](Transaction& tx) -> absl::Status {
          auto list = tx.List("customJobs", kParent, 0, 1000);
          if (!list.ok()) return list.status();
          for (size_t k = 1; k < list->size(); ++k) {
            if ((*list)[k - 1].seq >= (*list)[k].seq) return absl::InternalError("order");
          }
          return absl::OkStatus();
        });
        if (!status.ok()) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(notified.load(), kWriters * kWritesEach);

  std::set<std::string> names;
  ASSERT_TRUE(store
                  ->Read([&](Transaction& tx) -> absl::Status {
                    auto list = tx.List("customJobs", "", 0, 1000);
                    if (!list.ok()) return list.status();
                    for (const Resource& r : *list) names.insert(r.name);
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_EQ(names.size(), static_cast<size_t>(kWriters * kWritesEach));
  for (int id = 1; id <= kWriters * kWritesEach; ++id) {
    EXPECT_TRUE(names.count(absl::StrCat(kParent, "/customJobs/", id))) << id;
  }
}

TEST_F(FileStoreTest, ReadsSeeOneSnapshotAndDoNotBlockWriters) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(InsertWithNewId(*store, "a").ok());
  auto count = [](Transaction& tx) -> size_t {
    auto list = tx.List("customJobs", "", 0, 10);
    return list.ok() ? list->size() : 999;
  };
  ASSERT_TRUE(store
                  ->Read([&](Transaction& tx) -> absl::Status {
                    EXPECT_EQ(count(tx), 1u);  // the snapshot starts here
                    // A writer on another thread commits while this read is open: WAL lets it through.
                    absl::Status write;
                    std::thread writer([&] { write = InsertWithNewId(*store, "b").status(); });
                    writer.join();
                    EXPECT_TRUE(write.ok()) << write;
                    EXPECT_EQ(count(tx), 1u);  // still the same snapshot
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_TRUE(store
                  ->Read([&](Transaction& tx) -> absl::Status {
                    EXPECT_EQ(count(tx), 2u);  // a new read sees the commit
                    return absl::OkStatus();
                  })
                  .ok());
}

}  // namespace
}  // namespace kiln::store
