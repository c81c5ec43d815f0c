#ifndef KILN_TESTS_KILN_FIXTURE_H_
#define KILN_TESTS_KILN_FIXTURE_H_

// A kiln (KilnApp, in-process, REST through Api::Handle) in its own home folder, running jobs
// with the real kiln-shim and Debian's python3; TearDown kills every replica a test started.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "app/kiln_app.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kiln::testing {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kImage[] = "us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest";
constexpr char kParent[] = "/v1/projects/it/locations/us-central1";

class KilnFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists("/usr/bin/python3")) GTEST_SKIP() << "SKIPPED LOUDLY: /usr/bin/python3 (Debian's) is missing";
    home_ = fs::temp_directory_path() /
            absl::StrCat("kiln-it-", getpid(), "-", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(home_);
  }
  void TearDown() override {
    kiln_.reset();
    // Nothing a test started may outlive it.
    for (const auto& entry : fs::recursive_directory_iterator(home_, fs::directory_options::skip_permission_denied)) {
      if (entry.path().filename() == "replica.pid") {
        std::ifstream in(entry.path());
        int pgid = 0;
        if (in >> pgid && pgid > 1) ::kill(-pgid, SIGKILL);
      }
    }
    fs::remove_all(home_);
  }

  void Start(const std::string& config_yaml = "") {
    app::KilnApp::Options options;
    options.home = home_.string();
    options.shim_path = KILN_SHIM_PATH;
    if (!config_yaml.empty()) {
      auto config = app::ParseConfig(config_yaml);
      ASSERT_TRUE(config.ok()) << config.status();
      options.config = *config;
    }
    auto kiln = app::KilnApp::Create(std::move(options));
    ASSERT_TRUE(kiln.ok()) << kiln.status();
    kiln_ = *std::move(kiln);
  }

  server::HttpResponse Call(const std::string& method, const std::string& path, const std::string& body = "",
                            server::QueryParams query = {}) {
    server::HttpRequest request;
    request.method = method;
    request.path = path;
    request.body = body;
    request.query = std::move(query);
    return kiln_->api().Handle(request);
  }

  // Creates a job from its JSON and returns its full name.
  std::string Create(const json& job) {
    server::HttpResponse r = Call("POST", absl::StrCat(kParent, "/customJobs"), job.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).value("name", "");
  }

  // Waits (bounded: 60 s) until the job is final; returns it.
  json WaitFinal(const std::string& name) {
    json job;
    for (int i = 0; i < 4; ++i) {
      server::HttpResponse r = Call("GET", absl::StrCat("/kiln/v1/", name, ":wait"), "", {{"timeoutSeconds", "15"}});
      EXPECT_EQ(r.status, 200) << r.body;
      job = json::parse(r.body);
      std::string state = job.value("state", "");
      if (state == "JOB_STATE_SUCCEEDED" || state == "JOB_STATE_FAILED" || state == "JOB_STATE_CANCELLED") break;
    }
    return job;
  }

  // Waits (bounded: 30 s) until the job reaches `state`.
  bool WaitState(const std::string& name, const std::string& state) {
    for (int i = 0; i < 300; ++i) {
      server::HttpResponse r = Call("GET", absl::StrCat("/v1/", name));
      if (json::parse(r.body).value("state", "") == state) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  std::string Log(const std::string& name, const std::string& task = "workerpool0-0") {
    server::HttpResponse r = Call("GET", absl::StrCat("/kiln/v1/", name, "/logs"), "", {{"task", task}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }

  std::map<std::string, std::string> EnvFromLog(const std::string& log) {
    std::map<std::string, std::string> env;
    for (absl::string_view line : absl::StrSplit(log, '\n')) {
      size_t eq = line.find('=');
      if (eq != absl::string_view::npos) env[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
    }
    return env;
  }

  // The replica's process group from replica.pid, waiting (≤ 5 s) while the shim has not
  // written it yet (it exists empty until the replica is forked); 0 if never written.
  int ReplicaGroup(const std::string& name, const std::string& task) {
    std::string id = name.substr(name.rfind('/') + 1);
    for (int i = 0; i < 100; ++i) {
      std::ifstream in(home_ / "jobs" / id / task / "replica.pid");
      int pgid = 0;
      if (in >> pgid) return pgid;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  }
  static bool GroupAlive(int pgid) { return pgid > 1 && ::kill(-pgid, 0) == 0; }

  static json Pool(const json& command, int replicas = 1, const json& env = json::array(),
                   const std::string& machine_type = "n1-standard-4") {
    return {{"machineSpec", {{"machineType", machine_type}}},
            {"replicaCount", std::to_string(replicas)},
            {"containerSpec", {{"imageUri", kImage}, {"command", command}, {"env", env}}}};
  }

  fs::path home_;
  std::unique_ptr<app::KilnApp> kiln_;
};

}  // namespace kiln::testing

#endif  // KILN_TESTS_KILN_FIXTURE_H_
