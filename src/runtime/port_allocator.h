#ifndef KILN_RUNTIME_PORT_ALLOCATOR_H_
#define KILN_RUNTIME_PORT_ALLOCATOR_H_

// Internal to kiln_runtime: the ports LocalRuntime hands to replicas (CLUSTER_SPEC, TF_CONFIG,
// MASTER_PORT). Ports come from a range of kiln's own, outside the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 here), so the kernel never hands one
// to another program's outgoing connection or bind(0) between the choice and the replica's
// bind; Slurm's MpiParams=ports works the same way. A port is handed to one job at a time, and
// is checked free (bind on the wildcard address) when chosen, so a program that listens on it
// already is skipped. The race left is with another program binding that very port on purpose
// between the check and the replica's bind.
//
// Threading: thread-safe.

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/mutex.h"

namespace kiln::runtime::internal {

class PortAllocator {
 public:
  // Hands out ports in [first, last], round robin (a port just released is the last reused).
  PortAllocator(int first, int last);

  // `count` distinct ports for `owner`, each free right now; nothing when there are not enough
  // (RESOURCE_EXHAUSTED naming the range). An owner may hold several reservations.
  absl::StatusOr<std::vector<int>> Reserve(const std::string& owner, int count);
  // Records ports chosen before a restart as held by `owner` (no check: its replicas may be
  // listening on them).
  void Restore(const std::string& owner, const std::vector<int>& ports);
  // Frees every port `owner` holds. Idempotent.
  void Release(const std::string& owner);

  int held() const;

 private:
  const int first_;
  const int last_;
  mutable Mutex mu_;
  absl::flat_hash_map<int, std::string> owner_of_ ABSL_GUARDED_BY(mu_);
  int next_ ABSL_GUARDED_BY(mu_);
};

// Whether nothing is bound to `port` on this machine right now (TCP, any address).
bool PortIsFree(int port);

}  // namespace kiln::runtime::internal

#endif  // KILN_RUNTIME_PORT_ALLOCATOR_H_
