// Paired A/B of two kiln-shim builds under the same ShimSupervisor (LocalRuntime's replica layer), in one process:
// Launch of `true` → exit callback, alternating A and B launch by launch (the order flips every round), so the
// machine's slow and fast moments hit both alike. What job_latency_bench's spaced runs cannot separate from the file
// system's noise (bench/README.md), this can.
//
//   build/bench/shim_ab_bench SHIM_A SHIM_B [ROUNDS=200]

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "runtime/shim_supervisor.h"

namespace {

using kiln::runtime::ReplicaHandle;
using kiln::runtime::ReplicaSpec;
using kiln::runtime::internal::ShimSupervisor;

struct Side {
  std::string name;
  std::unique_ptr<ShimSupervisor> runtime;
  std::mutex mu;
  std::condition_variable cv;
  int exits = 0;
  std::vector<double> ms;
};

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SHIM_A SHIM_B [ROUNDS=200]\n", argv[0]);
    return 2;
  }
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 200;
  char pattern[] = "/tmp/kiln-shim-ab-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) return 1;
  const std::string root = pattern;

  Side sides[2];
  for (int i = 0; i < 2; ++i) {
    Side& side = sides[i];
    side.name = argv[1 + i];
    auto runtime =
        ShimSupervisor::Create({.shim_path = side.name, .slot_root = absl::StrCat(root, "/slots", i), .warm = 1});
    if (!runtime.ok()) {
      std::fprintf(stderr, "%s\n", runtime.status().ToString().c_str());
      return 1;
    }
    side.runtime = *std::move(runtime);
    side.runtime->SetExitCallback([&side](const ReplicaHandle&) {
      std::lock_guard<std::mutex> lock(side.mu);
      ++side.exits;
      side.cv.notify_all();
    });
  }
  absl::SleepFor(absl::Milliseconds(200));  // pools filled

  for (int round = 0; round < rounds; ++round) {
    for (int k = 0; k < 2; ++k) {
      Side& side = sides[(round + k) % 2];
      ReplicaSpec spec;
      spec.replica_dir = absl::StrCat(root, "/jobs/", &side == &sides[0] ? "a" : "b", round, "/r");
      std::filesystem::create_directories(std::filesystem::path(spec.replica_dir).parent_path());
      spec.argv = {"/bin/true"};
      spec.env = {"PATH=/usr/bin:/bin"};
      int before;
      {
        std::lock_guard<std::mutex> lock(side.mu);
        before = side.exits;
      }
      absl::Time start = absl::Now();
      if (!side.runtime->Launch(spec).ok()) return 1;
      std::unique_lock<std::mutex> lock(side.mu);
      if (!side.cv.wait_for(lock, std::chrono::seconds(10), [&] { return side.exits > before; })) return 1;
      side.ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
      lock.unlock();
      absl::SleepFor(absl::Milliseconds(20));  // both pools refill before the next launch
    }
  }
  for (Side& side : sides) {
    std::printf("%-60s p50 %.3f ms  p90 %.3f ms  min %.3f ms\n", side.name.c_str(), Percentile(side.ms, 0.5),
                Percentile(side.ms, 0.9), Percentile(side.ms, 0.0));
  }
  std::printf("ratio B/A p50: %.3f\n", Percentile(sides[1].ms, 0.5) / Percentile(sides[0].ms, 0.5));
  for (Side& side : sides) side.runtime.reset();
  std::filesystem::remove_all(root);
  return 0;
}
