#include "control/work_loop.h"

#include "spdlog/spdlog.h"

namespace kiln::control {

WorkLoop::WorkLoop(std::string name, std::function<absl::Status(const std::string&)> step,
                   std::function<std::vector<std::string>()> resync, absl::Duration resync_interval)
    : name_(std::move(name)), step_(std::move(step)), resync_(std::move(resync)), resync_interval_(resync_interval) {}

WorkLoop::~WorkLoop() { Stop(); }

void WorkLoop::Start() {
  if (started_) return;
  started_ = true;
  worker_ = std::thread([this] { Run(); });
  Resync();
}

void WorkLoop::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    wake_.SignalAll();
  }
  if (worker_.joinable()) worker_.join();
}

void WorkLoop::Enqueue(const std::string& name) {
  MutexLock lock(&mu_);
  if (queued_.insert(name).second) {
    queue_.push_back(name);
    wake_.Signal();
  }
}

void WorkLoop::SetDeadline(const std::string& name, absl::Time at) {
  MutexLock lock(&mu_);
  auto [it, inserted] = deadlines_.emplace(name, at);
  if (!inserted) it->second = std::min(it->second, at);
}

void WorkLoop::ClearDeadline(const std::string& name) {
  MutexLock lock(&mu_);
  deadlines_.erase(name);
}

void WorkLoop::Resync() {
  for (const std::string& name : resync_()) Enqueue(name);
}

void WorkLoop::Run() {
  absl::Time next_resync = absl::Now() + resync_interval_;
  while (true) {
    std::string name;
    bool resync = false;
    {
      MutexLock lock(&mu_);
      absl::Time wake = next_resync;
      for (const auto& [n, at] : deadlines_) wake = std::min(wake, at);
      while (!stopping_ && queue_.empty() && !wake_.WaitWithDeadline(&mu_, wake)) {
      }
      if (stopping_) return;
      absl::Time now = absl::Now();
      for (auto it = deadlines_.begin(); it != deadlines_.end();) {
        if (it->second <= now) {
          if (queued_.insert(it->first).second) queue_.push_back(it->first);
          it = deadlines_.erase(it);
        } else {
          ++it;
        }
      }
      if (queue_.empty()) {
        if (now >= next_resync) {
          next_resync = now + resync_interval_;
          resync = true;
        }
      } else {
        name = queue_.front();
        queue_.pop_front();
        queued_.erase(name);
      }
    }
    if (resync) {
      Resync();
      continue;
    }
    if (name.empty()) continue;
    if (absl::Status s = step_(name); !s.ok()) spdlog::warn("{}: {}: {}", name_, name, s.ToString());
  }
}

}  // namespace kiln::control
