#include "scheduling/ledger.h"

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::scheduling {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kT4[] = "NVIDIA_TESLA_T4";
constexpr char kJob7[] = "projects/p/locations/l/customJobs/7";
constexpr char kJob8[] = "projects/p/locations/l/customJobs/8";

// n1-standard-4: 4 vCPU, 15 GiB, optionally with T4s.
ReplicaDemand N1Standard4(std::string task, int t4 = 0) {
  return ReplicaDemand{std::move(task), 4, 15, t4 > 0 ? kT4 : "", t4};
}

Capacity Laptop() { return Capacity{2, 8, {}}; }  // 2 cores, 8 GiB: 16 vCPU / 32 GiB schedulable

Capacity GpuBox() { return Capacity{16, 64, {{kT4, {"0", "1", "2", "3"}}}}; }

TEST(LedgerTest, OvercommitAdmitsN1Standard4OnTwoCores) {
  Ledger ledger(Laptop(), Overcommit{});
  auto grant = ledger.TryReserve(kJob7, {N1Standard4("workerpool0-0")});
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_THAT(grant->device_ids_by_task, IsEmpty());
}

TEST(LedgerTest, OvercommitRefusesBeyondCapacityTimesFactor) {
  Ledger ledger(Laptop(), Overcommit{});                                             // 16 vCPU schedulable
  ASSERT_TRUE(ledger.TryReserve("a", {N1Standard4("w0"), N1Standard4("w1")}).ok());  // 8
  ASSERT_TRUE(ledger.TryReserve("b", {{"w0", 6, 1, "", 0}}).ok());                   // 14
  auto c = ledger.TryReserve("c", {{"w0", 6, 1, "", 0}});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(c.status().message(), HasSubstr("waiting for 6.0 vCPU (2.0 of 16.0 schedulable free with overcommit 8x; "
                                              "held by a, b)"));
  // Exactly filling the limit is admitted.
  EXPECT_TRUE(ledger.TryReserve("d", {{"w0", 2, 1, "", 0}}).ok());
}

TEST(LedgerTest, MemoryOvercommitAndReason) {
  Ledger ledger(Laptop(), Overcommit{});                                             // 32 GiB schedulable
  ASSERT_TRUE(ledger.TryReserve("a", {N1Standard4("w0"), N1Standard4("w1")}).ok());  // 30 GiB
  auto b = ledger.TryReserve("b", {N1Standard4("w0")});
  EXPECT_EQ(b.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(b.status().message(), HasSubstr("waiting for 15.0 GiB memory (2.0 of 32.0 GiB schedulable free with "
                                              "overcommit 4x; held by a)"));
}

TEST(LedgerTest, FactorZeroIsUnlimited) {
  Ledger ledger(Capacity{1, 1, {}}, Overcommit{0, 0});
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(ledger.TryReserve(absl::StrCat("job", i), {{"w0", 96, 624, "", 0}}).ok());
  }
  EXPECT_THAT(ledger.Describe(), HasSubstr("cpu used 4800.0 free unlimited"));
}

TEST(LedgerTest, FactorOneIsNoOvercommit) {
  Ledger ledger(Capacity{4, 100, {}}, Overcommit{1, 1});
  EXPECT_TRUE(ledger.TryReserve("a", {N1Standard4("w0")}).ok());
  EXPECT_EQ(ledger.TryReserve("b", {{"w0", 0.5, 1, "", 0}}).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(LedgerTest, FractionalRequestsSumExactly) {
  Ledger ledger(Capacity{0.3, 1, {}}, Overcommit{1, 1});
  EXPECT_TRUE(ledger.TryReserve("a", {{"w0", 0.1, 0, "", 0}, {"w1", 0.2, 0, "", 0}}).ok());
}

TEST(LedgerTest, NeverSatisfiableIsFailedPrecondition) {
  Ledger ledger(GpuBox(), Overcommit{1, 1});
  auto cpu = ledger.TryReserve(kJob7, {{"w0", 17, 1, "", 0}});
  EXPECT_EQ(cpu.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(cpu.status().message(),
              HasSubstr(absl::StrCat("job ", kJob7, " can never be satisfied: needs 17.0 vCPU")));
  auto gpus = ledger.TryReserve(kJob7, {N1Standard4("w0", 3), N1Standard4("w1", 2)});
  EXPECT_EQ(gpus.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(gpus.status().message(), HasSubstr("needs 5 NVIDIA_TESLA_T4 but this kiln has 4"));
  auto unknown = ledger.TryReserve(kJob7, {{"w0", 1, 1, "NVIDIA_L4", 1}});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(unknown.status().message(), HasSubstr("needs 1 NVIDIA_L4 but this kiln has 0"));
  // Never-satisfiable stays so on an idle kiln; "not now" does not.
  EXPECT_THAT(ledger.Describe(), HasSubstr("jobs 0"));
}

TEST(LedgerTest, NoAcceleratorsByDefault) {
  Ledger ledger(Ledger::DetectMachine(), Overcommit{});
  EXPECT_EQ(ledger.TryReserve("a", {N1Standard4("w0", 1)}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(LedgerTest, NotNowNamesHolders) {
  Ledger ledger(Capacity{16, 64, {{kT4, {"0", "1"}}}}, Overcommit{});
  ASSERT_TRUE(ledger.TryReserve(kJob7, {N1Standard4("workerpool0-0", 2)}).ok());
  auto b = ledger.TryReserve(kJob8, {N1Standard4("workerpool0-0", 2)});
  EXPECT_EQ(b.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(b.status().message(), absl::StrCat("waiting for 2 NVIDIA_TESLA_T4 (0 of 2 free; held by ", kJob7, ")"));
}

TEST(LedgerTest, GangIsAllOrNothing) {
  Ledger ledger(GpuBox(), Overcommit{});
  ASSERT_TRUE(ledger.TryReserve("a", {N1Standard4("w0", 2)}).ok());
  // Three replicas × 1 T4 with 2 free: nothing may be reserved.
  auto b = ledger.TryReserve("b", {N1Standard4("w0", 1), N1Standard4("w1", 1), N1Standard4("w2", 1)});
  EXPECT_EQ(b.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(b.status().message(), HasSubstr("waiting for 3 NVIDIA_TESLA_T4 (2 of 4 free"));
  EXPECT_THAT(ledger.Describe(), HasSubstr("NVIDIA_TESLA_T4 used 2 free 2 of 4; jobs 1"));
  EXPECT_THAT(ledger.Describe(), HasSubstr("cpu used 4.0 "));
  // Both remaining devices are still available to a job that fits.
  auto c = ledger.TryReserve("c", {N1Standard4("w0", 1), N1Standard4("w1", 1)});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->device_ids_by_task.at("w0"), ElementsAre("2"));
  EXPECT_THAT(c->device_ids_by_task.at("w1"), ElementsAre("3"));
}

TEST(LedgerTest, GangFailsOnCpuEvenWhenDevicesFit) {
  Ledger ledger(GpuBox(), Overcommit{1, 0});  // 16 vCPU
  auto b = ledger.TryReserve("b", {{"w0", 10, 1, kT4, 1}, {"w1", 10, 1, kT4, 1}});
  EXPECT_EQ(b.status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(ledger.TryReserve("a", {{"w0", 10, 1, "", 0}}).ok());
  auto c = ledger.TryReserve("c", {{"w0", 4, 1, kT4, 1}, {"w1", 4, 1, kT4, 1}});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(ledger.Describe(), HasSubstr("NVIDIA_TESLA_T4 used 0 free 4 of 4"));
}

TEST(LedgerTest, DistinctDeviceIdsAcrossReplicasAndJobs) {
  Ledger ledger(GpuBox(), Overcommit{});
  auto a = ledger.TryReserve("a", {N1Standard4("w0", 1), N1Standard4("w1", 2)});
  auto b = ledger.TryReserve("b", {N1Standard4("w0", 1)});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_THAT(a->device_ids_by_task.at("w0"), ElementsAre("0"));
  EXPECT_THAT(a->device_ids_by_task.at("w1"), ElementsAre("1", "2"));
  EXPECT_THAT(b->device_ids_by_task.at("w0"), ElementsAre("3"));
  EXPECT_EQ(CudaVisibleDevices(*a, "w1"), "1,2");
  EXPECT_EQ(CudaVisibleDevices(*a, "nope"), "");
}

TEST(LedgerTest, ReReserveIsIdempotent) {
  Ledger ledger(GpuBox(), Overcommit{});
  auto first = ledger.TryReserve("a", {N1Standard4("w0", 2)});
  auto again = ledger.TryReserve("a", {N1Standard4("w0", 2)});
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(*first, *again);
  EXPECT_THAT(ledger.Describe(), HasSubstr("cpu used 4.0 "));
  EXPECT_THAT(ledger.Describe(), HasSubstr("NVIDIA_TESLA_T4 used 2 free 2 of 4; jobs 1"));
  EXPECT_EQ(ledger.TryReserve("a", {N1Standard4("w0", 1)}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(LedgerTest, ReleaseFreesAndIsIdempotent) {
  Ledger ledger(Capacity{2, 8, {{kT4, {"0"}}}}, Overcommit{});
  ASSERT_TRUE(ledger.TryReserve("a", {N1Standard4("w0", 1)}).ok());
  EXPECT_EQ(ledger.TryReserve("b", {N1Standard4("w0", 1)}).status().code(), absl::StatusCode::kResourceExhausted);
  ledger.Release("a");
  ledger.Release("a");
  ledger.Release("never-reserved");
  EXPECT_THAT(ledger.Describe(), HasSubstr("cpu used 0.0 free 16.0 of 16.0"));
  auto b = ledger.TryReserve("b", {N1Standard4("w0", 1)});
  ASSERT_TRUE(b.ok());
  EXPECT_THAT(b->device_ids_by_task.at("w0"), ElementsAre("0"));
}

TEST(LedgerTest, RestoreKeepsIdsAndRefusesConflicts) {
  Grant recorded;
  {
    Ledger before(GpuBox(), Overcommit{});
    ASSERT_TRUE(before.TryReserve("x", {N1Standard4("w0", 1)}).ok());
    auto a = before.TryReserve("a", {N1Standard4("w0", 2)});
    ASSERT_TRUE(a.ok());
    recorded = *a;  // {"w0": ["1", "2"]}
  }
  Ledger after(GpuBox(), Overcommit{});  // "restart": empty ledger
  ASSERT_TRUE(after.Restore("a", {N1Standard4("w0", 2)}, recorded).ok());
  ASSERT_TRUE(after.Restore("a", {N1Standard4("w0", 2)}, recorded).ok());  // idempotent
  EXPECT_EQ(*after.TryReserve("a", {N1Standard4("w0", 2)}), recorded);
  // New jobs get the ids around the restored ones.
  auto b = after.TryReserve("b", {N1Standard4("w0", 2)});
  ASSERT_TRUE(b.ok());
  EXPECT_THAT(b->device_ids_by_task.at("w0"), ElementsAre("0", "3"));
  // Conflicts: held by another job, not in inventory, wrong count, unknown task.
  auto held = after.Restore("c", {N1Standard4("w0", 1)}, Grant{{{"w0", {"3"}}}});
  EXPECT_EQ(held.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(held.message(), HasSubstr("is held by b"));
  auto missing = after.Restore("c", {N1Standard4("w0", 1)}, Grant{{{"w0", {"9"}}}});
  EXPECT_EQ(missing.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.message(), HasSubstr("not in this kiln's inventory"));
  EXPECT_EQ(after.Restore("c", {N1Standard4("w0", 2)}, Grant{{{"w0", {"9"}}}}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(after.Restore("c", {N1Standard4("w0")}, Grant{{{"w9", {}}}}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(after.Restore("a", {N1Standard4("w0", 2)}, Grant{{{"w0", {"0", "3"}}}}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(after.Describe(), HasSubstr("NVIDIA_TESLA_T4 used 4 free 0 of 4; jobs 2"));
}

TEST(LedgerTest, RestoreRefusesDuplicateIdsAndCountsCpuWithoutAdmission) {
  Ledger ledger(Capacity{1, 1, {{kT4, {"0", "1"}}}}, Overcommit{1, 1});
  EXPECT_EQ(
      ledger.Restore("a", {N1Standard4("w0", 1), N1Standard4("w1", 1)}, Grant{{{"w0", {"0"}}, {"w1", {"0"}}}}).code(),
      absl::StatusCode::kFailedPrecondition);
  // 8 vCPU on a 1-CPU kiln without overcommit: already running, so it is counted.
  ASSERT_TRUE(
      ledger.Restore("a", {N1Standard4("w0", 1), N1Standard4("w1", 1)}, Grant{{{"w0", {"1"}}, {"w1", {"0"}}}}).ok());
  EXPECT_THAT(ledger.Describe(), HasSubstr("cpu used 8.0 free 0.0 of 1.0"));
}

TEST(LedgerTest, MalformedDemandsAreInvalidArgument) {
  Ledger ledger(GpuBox(), Overcommit{});
  EXPECT_EQ(ledger.TryReserve("", {N1Standard4("w0")}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger.TryReserve("a", {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger.TryReserve("a", {N1Standard4("w0"), N1Standard4("w0")}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger.TryReserve("a", {{"w0", -1, 1, "", 0}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger.TryReserve("a", {{"w0", 1, 1, "", 2}}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LedgerTest, DetectMachineReturnsPositiveNumbers) {
  const Capacity c = Ledger::DetectMachine();
  EXPECT_GT(c.cpus, 0);
  EXPECT_GT(c.memory_gib, 0);
  EXPECT_THAT(c.accelerators, IsEmpty());
}

TEST(LedgerTest, ConcurrentReserveNeverOverAllocatesDevices) {
  Ledger ledger(Capacity{64, 256, {{kT4, {"0", "1", "2", "3", "4"}}}}, Overcommit{});
  constexpr int kThreads = 4;
  constexpr int kRounds = 200;
  std::atomic<int> violations = 0;
  std::atomic<int> admitted = 0;
  std::atomic<int> held = 0;         // devices held right now, as seen by the threads
  std::atomic<bool> in_use[5] = {};  // per device id: some thread holds it
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        const std::string job = absl::StrCat("t", t, "-", i);
        auto g = ledger.TryReserve(job, {N1Standard4("w0", 1), N1Standard4("w1", 1)});
        if (!g.ok()) {
          if (g.status().code() != absl::StatusCode::kResourceExhausted) ++violations;
          continue;
        }
        ++admitted;
        if (held.fetch_add(2) + 2 > 5) ++violations;
        std::vector<int> ids;
        for (const auto& [task, task_ids] : g->device_ids_by_task) {
          for (const std::string& id : task_ids) ids.push_back(std::stoi(id));
        }
        if (ids.size() != 2) ++violations;
        for (int id : ids) {
          if (in_use[id].exchange(true)) ++violations;  // someone else holds it
        }
        std::this_thread::yield();
        for (int id : ids) in_use[id].store(false);
        held.fetch_sub(2);
        ledger.Release(job);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GT(admitted.load(), 0);
  EXPECT_THAT(ledger.Describe(), HasSubstr("NVIDIA_TESLA_T4 used 0 free 5 of 5; jobs 0"));
}

TEST(LedgerTest, ConcurrentHoldersGetDisjointDevices) {
  Ledger ledger(Capacity{64, 256, {{kT4, {"0", "1", "2", "3", "4", "5", "6", "7"}}}}, Overcommit{});
  std::vector<Grant> grants(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto g = ledger.TryReserve(absl::StrCat("job", t), {N1Standard4("w0", 2)});
      if (g.ok()) grants[t] = *g;
    });
  }
  for (std::thread& th : threads) th.join();
  std::set<std::string> ids;
  for (const Grant& g : grants) {
    ASSERT_EQ(g.device_ids_by_task.at("w0").size(), 2u);
    for (const std::string& id : g.device_ids_by_task.at("w0")) ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 8u);
}

}  // namespace
}  // namespace kiln::scheduling
