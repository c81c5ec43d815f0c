// Lifetimes: kiln is started and stopped 100 times over one home while replicas exit during
// shutdown. Every registration (store commits, runtime exits, planner wake-ups) is undone before
// what it calls goes away (docs/architecture.md, "Lifetimes"), so no exit reported while the app
// shuts down reaches freed memory (the sanitizer builds run this), and every job still ends as
// it would have: each launched once, all SUCCEEDED.

#include <set>

#include "absl/strings/str_cat.h"
#include "kiln_fixture.h"

namespace kiln::testing {
namespace {

class AppLifetimeTest : public KilnFixture {};

TEST_F(AppLifetimeTest, StartAndStopAHundredTimesWhileReplicasExit) {
  constexpr int kRounds = 100;
  std::vector<std::string> jobs;
  for (int round = 0; round < kRounds; ++round) {
    Start();
    if (HasFatalFailure()) return;
    // Two replicas whose exits land anywhere from before to after the shutdown below.
    double seconds = 0.002 * (round % 10);
    json command = {"sleep", absl::StrCat(seconds)};
    jobs.push_back(Create({{"displayName", absl::StrCat("round-", round)},
                           {"jobSpec", {{"workerPoolSpecs", {Pool(command), Pool(command)}}}}}));
    if (round % 3 == 0) absl::SleepFor(absl::Milliseconds(round % 7));
    kiln_.reset();  // stop: reconcilers, runtime watcher, store, while the replicas end
  }
  Start();
  std::set<std::string> folders;
  ASSERT_EQ(jobs.size(), static_cast<size_t>(kRounds));
  for (const std::string& name : jobs) {
    json job = WaitFinal(name);
    EXPECT_EQ(job.value("state", ""), "JOB_STATE_SUCCEEDED") << name << ": " << job.dump();
    server::HttpResponse replicas = Call("GET", absl::StrCat("/kiln/v1/", name, "/replicas"));
    ASSERT_EQ(replicas.status, 200) << replicas.body;
    json body = json::parse(replicas.body);
    EXPECT_EQ(body["replicas"].size(), 2u) << replicas.body;
    for (const json& r : body["replicas"]) {
      EXPECT_EQ(r.value("state", ""), "EXITED") << name;
      EXPECT_EQ(r.value("exitCode", -1), 0) << name;
      // The worker may be stopped once the primary has succeeded; the primary runs to its end.
      if (r.value("taskName", "") == "workerpool0-0") {
        EXPECT_FALSE(r.value("stoppedByKiln", true)) << name;
      }
      folders.insert(r.value("replicaDir", ""));
    }
  }
  EXPECT_EQ(folders.size(), 2u * kRounds) << "every replica has a folder of its own, launched once";
}

}  // namespace
}  // namespace kiln::testing
