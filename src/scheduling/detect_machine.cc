// Ledger::DetectMachine: this machine's CPUs and memory.

#include <sched.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "scheduling/ledger.h"

namespace kiln::scheduling {
namespace {

constexpr double kBytesPerGib = 1024.0 * 1024.0 * 1024.0;

double DetectCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? n : 1;
}

// MemTotal from /proc/meminfo in GiB, or 0 when unreadable.
double MemTotalGib() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemTotal:", 0) != 0) continue;
    std::istringstream fields(line.substr(9));
    double kib = 0;
    std::string unit;
    if (fields >> kib >> unit && unit == "kB" && kib > 0) return kib * 1024.0 / kBytesPerGib;
    return 0;
  }
  return 0;
}

double DetectMemoryGib() {
  if (const double gib = MemTotalGib(); gib > 0) return gib;
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page_size > 0) {
    return static_cast<double>(pages) * static_cast<double>(page_size) / kBytesPerGib;
  }
  return 1.0;
}

}  // namespace

Capacity Ledger::DetectMachine() {
  Capacity c;
  c.cpus = DetectCpus();
  c.memory_gib = DetectMemoryGib();
  return c;
}

}  // namespace kiln::scheduling
