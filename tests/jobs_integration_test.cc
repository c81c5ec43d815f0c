// CustomJobs end to end with real processes: kiln (in-process, REST through Api::Handle), the
// local runtime and its kiln-shim supervisor, and Debian's python3 for the replicas.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "app/kiln_app.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kiln_fixture.h"
#include "nlohmann/json.hpp"
#include "pyenv/run_process.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

using JobsIntegrationTest = testing::KilnFixture;
using testing::kImage;
using testing::kParent;

TEST_F(JobsIntegrationTest, OneReplicaSucceedsAndSeesTheDocumentedEnvironment) {
  Start();
  ::setenv("KILN_IT_MUST_NOT_LEAK", "1", 1);
  json job = {{"displayName", "env"},
              {"jobSpec",
               {{"workerPoolSpecs",
                 {Pool({"env"}, 1,
                       {{{"name", "MODEL_COPY"}, {"value", "$(AIP_MODEL_DIR)x"}},
                        {{"name", "ESCAPED"}, {"value", "$$(AIP_MODEL_DIR)"}}})}},
                {"baseOutputDirectory", {{"outputUriPrefix", "gs://it-bucket/run1"}}}}}};
  std::string name = Create(job);
  json done = WaitFinal(name);
  ASSERT_EQ(done.value("state", ""), "JOB_STATE_SUCCEEDED") << done.dump(2);
  EXPECT_TRUE(done.contains("startTime"));
  EXPECT_TRUE(done.contains("endTime"));

  auto env = EnvFromLog(Log(name));
  std::string base = (home_ / "storage" / "it-bucket" / "run1").string();
  std::string id = name.substr(name.rfind('/') + 1);
  EXPECT_EQ(env["AIP_MODEL_DIR"], base + "/model/");
  EXPECT_EQ(env["AIP_CHECKPOINT_DIR"], base + "/checkpoints/");
  EXPECT_EQ(env["AIP_TENSORBOARD_LOG_DIR"], base + "/logs/");
  EXPECT_TRUE(fs::is_directory(base + "/model")) << "output folders exist before the code starts";
  EXPECT_EQ(env["CLOUD_ML_JOB_ID"], id);
  EXPECT_EQ(env["MODEL_COPY"], base + "/model/x");
  EXPECT_EQ(env["ESCAPED"], "$(AIP_MODEL_DIR)");
  EXPECT_EQ(env.count("KILN_IT_MUST_NOT_LEAK"), 0u) << "replicas get exactly kiln's environment";
  EXPECT_EQ(env.count("TF_CONFIG"), 0u) << "single-replica jobs get no TF_CONFIG";
  json cluster = json::parse(env["CLUSTER_SPEC"]);
  EXPECT_EQ(cluster["task"]["type"], "workerpool0");
  EXPECT_EQ(cluster["task"]["index"], 0);
  EXPECT_EQ(cluster["environment"], "cloud");
  ASSERT_EQ(cluster["cluster"]["workerpool0"].size(), 1u);
  EXPECT_THAT(cluster["cluster"]["workerpool0"][0].get<std::string>(), HasSubstr("127.0.0.1:"));
  EXPECT_EQ(cluster["job"]["workerPoolSpecs"][0]["containerSpec"]["imageUri"], kImage);
}

TEST_F(JobsIntegrationTest, FourPoolsConnectToEachOtherThroughClusterSpec) {
  Start();
  json peer = {"python3", absl::StrCat(KILN_SOURCE_DIR, "/tests/testdata/cluster_peer.py")};
  // 5 replicas of 2 vCPU: within what a 2-core machine schedules at the default 8x overcommit.
  const std::string small = "n1-highmem-2";
  json none = json::array();
  json job = {{"displayName", "cluster"},
              {"jobSpec",
               {{"workerPoolSpecs",
                 {Pool(peer, 1, none, small), Pool(peer, 2, none, small), Pool(peer, 1, none, small),
                  Pool(peer, 1, none, small)}}}}};
  std::string name = Create(job);
  json done = WaitFinal(name);
  ASSERT_EQ(done.value("state", ""), "JOB_STATE_SUCCEEDED") << done.dump(2) << Log(name);
  std::string primary = Log(name);
  EXPECT_THAT(primary, HasSubstr("workerpool0-0: reached 4/4, heard 4/4"));
  EXPECT_THAT(primary, HasSubstr("\"chief\""));
  EXPECT_THAT(primary, HasSubstr("RANK=0 WORLD_SIZE=3"));
  // Every replica process is gone once the job has ended.
  for (const char* task : {"workerpool0-0", "workerpool1-0", "workerpool1-1", "workerpool2-0", "workerpool3-0"}) {
    EXPECT_FALSE(GroupAlive(ReplicaGroup(name, task))) << task;
  }
}

TEST_F(JobsIntegrationTest, TimeoutFailsWithDeadlineExceededAndStopsTheReplica) {
  Start();
  json job = {{"displayName", "slow"},
              {"jobSpec", {{"workerPoolSpecs", {Pool({"sleep", "60"})}}, {"scheduling", {{"timeout", "1s"}}}}}};
  std::string name = Create(job);
  json done = WaitFinal(name);
  ASSERT_EQ(done.value("state", ""), "JOB_STATE_FAILED") << done.dump(2);
  EXPECT_EQ(done["error"]["code"], 4);
  EXPECT_THAT(done["error"]["message"].get<std::string>(), HasSubstr("scheduling.timeout"));
  EXPECT_FALSE(GroupAlive(ReplicaGroup(name, "workerpool0-0")));
}

TEST_F(JobsIntegrationTest, CancelStopsEveryReplicaAndEndsCancelled) {
  Start();
  json job = {{"displayName", "cancel-me"},
              {"jobSpec", {{"workerPoolSpecs", {Pool({"sleep", "60"}), Pool({"sleep", "60"})}}}}};
  std::string name = Create(job);
  ASSERT_TRUE(WaitState(name, "JOB_STATE_RUNNING"));
  int primary = ReplicaGroup(name, "workerpool0-0");
  int worker = ReplicaGroup(name, "workerpool1-0");
  ASSERT_TRUE(GroupAlive(primary));
  server::HttpResponse r = Call("POST", absl::StrCat("/v1/", name, ":cancel"), "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  json done = WaitFinal(name);
  ASSERT_EQ(done.value("state", ""), "JOB_STATE_CANCELLED") << done.dump(2);
  EXPECT_EQ(done["error"]["code"], 1);
  EXPECT_FALSE(GroupAlive(primary));
  EXPECT_FALSE(GroupAlive(worker));
}

TEST_F(JobsIntegrationTest, FailingWorkerFailsTheJobNamingItAndStopsThePrimary) {
  Start();
  json job = {
      {"displayName", "boom"},
      {"jobSpec",
       {{"workerPoolSpecs",
         {Pool({"sleep", "60"}), Pool({"python3", "-c", "import sys; print('worker says boom'); sys.exit(3)"})}}}}};
  std::string name = Create(job);
  json done = WaitFinal(name);
  ASSERT_EQ(done.value("state", ""), "JOB_STATE_FAILED") << done.dump(2);
  std::string message = done["error"]["message"];
  EXPECT_THAT(message, HasSubstr("The replica workerpool1-0 exited with a non-zero status of 3"));
  EXPECT_THAT(message, HasSubstr("worker says boom"));
  EXPECT_FALSE(GroupAlive(ReplicaGroup(name, "workerpool0-0")));
}

TEST_F(JobsIntegrationTest, AcceleratorsComeFromTheInventoryAndJobsQueueForThem) {
  Start("accelerators: {NVIDIA_TESLA_T4: [\"0\", \"1\"]}\n");
  json t4 = {{"machineType", "n1-standard-4"}, {"acceleratorType", "NVIDIA_TESLA_T4"}, {"acceleratorCount", 1}};
  json holder = {{"displayName", "holds-both"},
                 {"jobSpec", {{"workerPoolSpecs", {Pool({"sleep", "60"}), Pool({"sleep", "60"})}}}}};
  holder["jobSpec"]["workerPoolSpecs"][0]["machineSpec"] = t4;
  holder["jobSpec"]["workerPoolSpecs"][1]["machineSpec"] = t4;
  std::string first = Create(holder);
  ASSERT_TRUE(WaitState(first, "JOB_STATE_RUNNING"));

  json waiter = {{"displayName", "waits"}, {"jobSpec", {{"workerPoolSpecs", {Pool({"env"})}}}}};
  waiter["jobSpec"]["workerPoolSpecs"][0]["machineSpec"] = t4;
  std::string second = Create(waiter);
  // It waits, and says why.
  std::string reason;
  for (int i = 0; i < 100 && reason.empty(); ++i) {
    json status = json::parse(Call("GET", absl::StrCat("/kiln/v1/", second, "/replicas")).body);
    reason = status.value("queueReason", "");
    if (reason.empty()) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(reason, HasSubstr("NVIDIA_TESLA_T4"));
  EXPECT_EQ(json::parse(Call("GET", absl::StrCat("/v1/", second)).body)["state"], "JOB_STATE_QUEUED");

  ASSERT_EQ(Call("POST", absl::StrCat("/v1/", first, ":cancel"), "{}").status, 200);
  json done = WaitFinal(second);
  ASSERT_EQ(done.value("state", ""), "JOB_STATE_SUCCEEDED") << done.dump(2);
  auto env = EnvFromLog(Log(second));
  EXPECT_TRUE(env["CUDA_VISIBLE_DEVICES"] == "0" || env["CUDA_VISIBLE_DEVICES"] == "1") << env["CUDA_VISIBLE_DEVICES"];

  // A job asking for more than the inventory has is refused at create.
  json greedy = waiter;
  greedy["jobSpec"]["workerPoolSpecs"][0]["machineSpec"]["acceleratorCount"] = 4;
  server::HttpResponse r = Call("POST", absl::StrCat(kParent, "/customJobs"), greedy.dump());
  EXPECT_EQ(r.status, 400) << r.body;
}

TEST_F(JobsIntegrationTest, LogsFollowUntilTheReplicaEnds) {
  Start();
  json job = {{"displayName", "talk"},
              {"jobSpec",
               {{"workerPoolSpecs",
                 {Pool({"python3", "-c",
                        "import time\nfor i in range(3):\n  print('line', i, flush=True); time.sleep(0.2)"})}}}}};
  std::string name = Create(job);
  std::string all;
  int64_t offset = 0;
  bool end = false;
  for (int i = 0; i < 100 && !end; ++i) {
    server::HttpResponse r = Call("GET", absl::StrCat("/kiln/v1/", name, "/logs"), "",
                                  {{"offset", std::to_string(offset)}, {"follow", "true"}, {"waitSeconds", "5"}});
    ASSERT_EQ(r.status, 200) << r.body;
    all += r.body;
    for (const auto& [k, v] : r.headers) {
      if (k == "X-Kiln-Next-Offset") offset = std::stoll(v);
      if (k == "X-Kiln-Log-End") end = v == "true";
    }
  }
  EXPECT_TRUE(end);
  EXPECT_EQ(all, "line 0\nline 1\nline 2\n");
  server::HttpResponse missing = Call("GET", absl::StrCat("/kiln/v1/", name, "/logs"), "", {{"task", "workerpool9-0"}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(missing.body, HasSubstr("it has workerpool0-0"));

  // Deleting the job removes its folder and logs. The log ends when the replica exits; the
  // job is final (and deletable) once the reconciler has seen that exit.
  EXPECT_EQ(WaitFinal(name).value("state", ""), "JOB_STATE_SUCCEEDED");
  fs::path folder = home_ / "jobs" / name.substr(name.rfind('/') + 1);
  ASSERT_TRUE(fs::exists(folder / "workerpool0-0" / "replica.log"));
  server::HttpResponse deleted = Call("DELETE", absl::StrCat("/v1/", name));
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  for (int i = 0; i < 100 && fs::exists(folder); ++i) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_FALSE(fs::exists(folder));
  EXPECT_EQ(Call("GET", absl::StrCat("/kiln/v1/", name, "/logs")).status, 404);
}

// Writes a tiny setuptools project and builds its sdist into `dist` (offline, Debian's setuptools).
std::string BuildSdist(const fs::path& work, const fs::path& dist, const std::string& requires_line) {
  fs::create_directories(work / "trainer");
  std::ofstream(work / "setup.py") << "from setuptools import setup\n"
                                      "setup(name='trainer_pkg', version='0.1', packages=['trainer']"
                                   << requires_line << ")\n";
  std::ofstream(work / "trainer" / "__init__.py") << "";
  std::ofstream(work / "trainer" / "task.py")
      << "import os, sys\n"
         "import sklearn\n"
         "print('trainer ran with', sys.argv[1:], 'venv', sys.prefix != sys.base_prefix, flush=True)\n"
         "open(os.path.join(os.environ['AIP_MODEL_DIR'], 'model.txt'), 'w').write('weights')\n";
  fs::create_directories(dist);
  auto rc = pyenv::RunProcess({"/usr/bin/python3", "setup.py", "-q", "sdist", "--dist-dir", dist.string()},
                              {"PATH=/usr/bin:/bin", "HOME=" + work.string(), "LANG=C.UTF-8"}, work.string(),
                              (work / "sdist.log").string(), absl::Minutes(2));
  EXPECT_TRUE(rc.ok() && *rc == 0) << "sdist failed: " << (rc.ok() ? std::to_string(*rc) : rc.status().ToString());
  return (dist / "trainer_pkg-0.1.tar.gz").string();
}

TEST_F(JobsIntegrationTest, PythonPackageRunsFromAnOfflineVenv) {
  if (::system("/usr/bin/python3 -c 'import venv, ensurepip, sklearn' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "SKIPPED LOUDLY: Debian's python3-venv or python3-sklearn is missing";
  }
  Start();
  BuildSdist(home_ / "src-ok", home_ / "storage" / "it-pkgs", "");
  json job = {{"displayName", "py"},
              {"jobSpec",
               {{"workerPoolSpecs",
                 {{{"machineSpec", {{"machineType", "n1-standard-4"}}},
                   {"replicaCount", "1"},
                   {"pythonPackageSpec",
                    {{"executorImageUri", kImage},
                     {"packageUris", {"gs://it-pkgs/trainer_pkg-0.1.tar.gz"}},
                     {"pythonModule", "trainer.task"},
                     {"args", {"--epochs=2", "--job=$(CLOUD_ML_JOB_ID)"}}}}}}},
                {"baseOutputDirectory", {{"outputUriPrefix", "gs://it-out/py"}}}}}};
  std::string name = Create(job);
  json done = WaitFinal(name);
  ASSERT_EQ(done.value("state", ""), "JOB_STATE_SUCCEEDED") << done.dump(2) << Log(name);
  std::string id = name.substr(name.rfind('/') + 1);
  EXPECT_THAT(Log(name), HasSubstr("trainer ran with ['--epochs=2', '--job=" + id + "'] venv True"));
  EXPECT_TRUE(fs::exists(home_ / "storage" / "it-out" / "py" / "model" / "model.txt"));

  // Two pools with the same packages share one venv, and the job starts (it used to wait
  // QUEUED forever: the first pool's environment was forgotten before the second's turn).
  json two_pools = job;
  two_pools["jobSpec"]["workerPoolSpecs"][1] = job["jobSpec"]["workerPoolSpecs"][0];
  std::string shared = Create(two_pools);
  json shared_done = WaitFinal(shared);
  ASSERT_EQ(shared_done.value("state", ""), "JOB_STATE_SUCCEEDED") << shared_done.dump(2);
  EXPECT_THAT(Log(shared), HasSubstr("venv True"));

  // A requirement that cannot be met offline fails the job with pip's reason.
  BuildSdist(home_ / "src-bad", home_ / "storage" / "it-bad", ", install_requires=['definitely-not-on-this-disk']");
  job["jobSpec"]["workerPoolSpecs"][0]["pythonPackageSpec"]["packageUris"] = {"gs://it-bad/trainer_pkg-0.1.tar.gz"};
  std::string bad = Create(job);
  json failed = WaitFinal(bad);
  ASSERT_EQ(failed.value("state", ""), "JOB_STATE_FAILED") << failed.dump(2);
  EXPECT_THAT(failed["error"]["message"].get<std::string>(), HasSubstr("definitely-not-on-this-disk"));
}

}  // namespace
}  // namespace kiln
