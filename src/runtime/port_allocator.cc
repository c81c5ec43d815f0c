#include "runtime/port_allocator.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace kiln::runtime::internal {

bool PortIsFree(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return free;
}

PortAllocator::PortAllocator(int first, int last) : first_(first), last_(last), next_(first) {}

absl::StatusOr<std::vector<int>> PortAllocator::Reserve(const std::string& owner, int count) {
  MutexLock lock(&mu_);
  std::vector<int> chosen;
  int span = last_ - first_ + 1;
  for (int tried = 0; tried < span && static_cast<int>(chosen.size()) < count; ++tried) {
    int port = next_;
    next_ = next_ == last_ ? first_ : next_ + 1;
    if (owner_of_.contains(port) || !PortIsFree(port)) continue;
    chosen.push_back(port);
    owner_of_[port] = owner;
  }
  if (static_cast<int>(chosen.size()) < count) {
    for (int port : chosen) owner_of_.erase(port);
    return absl::ResourceExhaustedError(absl::StrCat("no ", count, " free ports left in kiln's range ", first_, "-",
                                                     last_, " (", owner_of_.size(), " held by running jobs)"));
  }
  return chosen;
}

void PortAllocator::Restore(const std::string& owner, const std::vector<int>& ports) {
  MutexLock lock(&mu_);
  for (int port : ports) owner_of_[port] = owner;
}

void PortAllocator::Release(const std::string& owner) {
  MutexLock lock(&mu_);
  absl::erase_if(owner_of_, [&](const auto& entry) { return entry.second == owner; });
}

int PortAllocator::held() const {
  MutexLock lock(&mu_);
  return static_cast<int>(owner_of_.size());
}

}  // namespace kiln::runtime::internal
