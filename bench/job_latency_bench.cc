// How much kiln adds to running a trivial program, measured in one run against a bare spawn.
//
//   1. bare: posix_spawn("true") + waitpid, N times.
//   2. kiln: POST /v1/.../customJobs (a one-replica `true` job) over loopback HTTP, then
//      GET /kiln/v1/{job}:wait until it is SUCCEEDED, N times, one job at a time.
//   3. throughput: 200 `true` jobs created back to back from 4 client threads, until all are final.
//
// Prints medians and percentiles, the overhead (kiln median - bare median) and the ratio, and
// jobs/s. kiln runs in-process on a fresh home with the real store (WAL, synchronous=FULL),
// the real local runtime and kiln-shim.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "app/kiln_app.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "server/http_server.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Stats {
  double p50, p90, p99, min;
};
Stats Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))]; };
  return {at(0.5), at(0.9), at(0.99), v.front()};
}

double BareSpawnMs() {
  char arg0[] = "true";
  char* argv[] = {arg0, nullptr};
  auto start = Clock::now();
  pid_t pid = 0;
  if (posix_spawnp(&pid, "true", nullptr, nullptr, argv, environ) != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return Ms(Clock::now() - start);
}

const char kJob[] =
    R"({"displayName":"bench","jobSpec":{"workerPoolSpecs":[{"machineSpec":{"machineType":"n1-standard-4"},)"
    R"("replicaCount":"1","containerSpec":{"imageUri":"us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest",)"
    R"("command":["true"]}}]}})";

// Creates one job and waits for its final state; returns its state.
std::string RunJob(httplib::Client& client) {
  auto created = client.Post("/v1/projects/bench/locations/us-central1/customJobs", kJob, "application/json");
  if (!created || created->status != 200) return "CREATE_FAILED";
  std::string name = nlohmann::json::parse(created->body)["name"];
  for (int i = 0; i < 10; ++i) {
    auto done = client.Get(absl::StrCat("/kiln/v1/", name, ":wait?timeoutSeconds=30"));
    if (!done || done->status != 200) return "WAIT_FAILED";
    std::string state = nlohmann::json::parse(done->body)["state"];
    if (state != "JOB_STATE_QUEUED" && state != "JOB_STATE_PENDING" && state != "JOB_STATE_RUNNING") return state;
  }
  return "TIMEOUT";
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 100;
  int throughput_jobs = argc > 2 ? std::atoi(argv[2]) : 200;
  std::filesystem::path home = std::filesystem::temp_directory_path() / absl::StrCat("kiln-bench-", getpid());
  std::filesystem::remove_all(home);

  kiln::app::KilnApp::Options options;
  options.home = home.string();
  options.shim_path = KILN_SHIM_PATH;
  auto kiln = kiln::app::KilnApp::Create(std::move(options));
  if (!kiln.ok()) {
    std::fprintf(stderr, "kiln: %s\n", kiln.status().ToString().c_str());
    return 1;
  }
  kiln::server::HttpServer server(&(*kiln)->api());
  kiln::server::HttpServer::Options http;
  http.port = 0;
  auto port = server.Start(http);
  if (!port.ok()) return 1;
  httplib::Client client("127.0.0.1", *port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  client.set_read_timeout(60);

  // Warm up both paths (page cache, first-job set-up).
  for (int i = 0; i < 5; ++i) {
    BareSpawnMs();
    RunJob(client);
  }

  // Interleave the two so machine noise hits both alike.
  std::vector<double> bare, job;
  int failures = 0;
  for (int i = 0; i < n; ++i) {
    bare.push_back(BareSpawnMs());
    auto start = Clock::now();
    std::string state = RunJob(client);
    job.push_back(Ms(Clock::now() - start));
    if (state != "JOB_STATE_SUCCEEDED") ++failures;
  }

  // Throughput: 4 clients, back to back.
  std::atomic<int> next{0}, bad{0};
  auto start = Clock::now();
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      httplib::Client c("127.0.0.1", *port);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      c.set_read_timeout(60);
      while (next.fetch_add(1) < throughput_jobs) {
        if (RunJob(c) != "JOB_STATE_SUCCEEDED") ++bad;
      }
    });
  }
  for (auto& c : clients) c.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  Stats b = Summarize(bare), k = Summarize(job);
  std::printf("runs: %d latency pairs, %d throughput jobs (%d + %d not SUCCEEDED)\n", n, throughput_jobs, failures,
              bad.load());
  std::printf("bare spawn of true      : p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  min %.3f ms\n", b.p50, b.p90, b.p99,
              b.min);
  std::printf("kiln create -> SUCCEEDED: p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  min %.3f ms\n", k.p50, k.p90, k.p99,
              k.min);
  std::printf("overhead (p50 difference): %.3f ms; ratio kiln/bare p50: %.1fx\n", k.p50 - b.p50, k.p50 / b.p50);
  std::printf("throughput: %d jobs in %.2f s = %.1f jobs/s (4 clients)\n", throughput_jobs, seconds,
              throughput_jobs / seconds);
  server.Stop();
  kiln->reset();
  std::filesystem::remove_all(home);
  return failures + bad.load() == 0 ? 0 : 1;
}
