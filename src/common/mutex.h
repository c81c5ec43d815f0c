#ifndef KILN_COMMON_MUTEX_H_
#define KILN_COMMON_MUTEX_H_

// kiln's mutex, scoped lock and condition variable: thin wrappers over std::mutex and
// std::condition_variable that carry clang's thread-safety annotations.
//
//   mutable kiln::Mutex mu_;
//   bool ready_ ABSL_GUARDED_BY(mu_) = false;
//   kiln::CondVar ready_cv_;
//
//   void Set() {
//     kiln::MutexLock lock(&mu_);
//     ready_ = true;
//     ready_cv_.SignalAll();
//   }
//   void AwaitReady() {
//     kiln::MutexLock lock(&mu_);
//     while (!ready_) ready_cv_.Wait(&mu_);
//   }
//
// Why not absl::Mutex: Debian's Abseil is not built with ThreadSanitizer, so TSan cannot see
// absl::Mutex's happens-before edges and reports races on data it guards. std::mutex goes
// through pthread, which TSan intercepts, and clang's -Wthread-safety checks the annotations
// below (GCC ignores them). Unlike absl::Mutex::Await, a CondVar re-checks
// nothing by itself: every change that can make a waiter's condition true signals, and every
// waiter loops on its condition (so clang sees the guarded reads under the lock).
//
// Threading: Mutex and CondVar are thread-safe; a MutexLock belongs to the thread that made
// it. Neither is reentrant: locking a Mutex twice on one thread deadlocks.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace kiln {

class CondVar;

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    mu_.lock();
    owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    owner_.store(std::thread::id(), std::memory_order_relaxed);
    mu_.unlock();
  }
  // Aborts unless the calling thread holds the mutex; tells clang's analysis it does.
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {
    if (owner_.load(std::memory_order_relaxed) != std::this_thread::get_id()) std::abort();
  }

 private:
  friend class CondVar;

  std::mutex mu_;
  // The holder, for AssertHeld only (relaxed: only the holder itself can see its own id).
  std::atomic<std::thread::id> owner_{};
};

// Holds `mu` from construction to destruction, as absl::MutexLock does.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable used with a kiln::Mutex. Every Wait may also return spuriously, so
// callers wait in a loop on their condition:
//
//   while (!done_ && !cv_.WaitWithDeadline(&mu_, deadline)) {}
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases `mu`, blocks until signalled (or spuriously woken), then re-acquires `mu`.
  void Wait(Mutex* mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    mu->owner_.store(std::thread::id(), std::memory_order_relaxed);
    cv_.wait(lock);
    mu->owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    lock.release();  // `mu` stays held, as on entry
  }

  // As Wait, but returns at `deadline` (wall-clock time, as absl::Now()) at the latest.
  // True when the deadline has passed on return (a timeout), false when woken before it.
  // absl::InfiniteFuture() waits without a deadline.
  bool WaitWithDeadline(Mutex* mu, absl::Time deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (deadline == absl::InfiniteFuture()) {
      Wait(mu);
      return false;
    }
    if (absl::Now() >= deadline) return true;
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    mu->owner_.store(std::thread::id(), std::memory_order_relaxed);
    // system_clock: pthread_cond_timedwait on CLOCK_REALTIME, which every sanitizer intercepts.
    cv_.wait_until(lock, absl::ToChronoTime(deadline));
    mu->owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    lock.release();
    return absl::Now() >= deadline;
  }

  // As WaitWithDeadline(mu, absl::Now() + timeout). True on timeout.
  bool WaitFor(Mutex* mu, absl::Duration timeout) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (timeout == absl::InfiniteDuration()) {
      Wait(mu);
      return false;
    }
    return WaitWithDeadline(mu, absl::Now() + timeout);
  }

  // Wakes one waiter (if any). Need not be called with the mutex held.
  void Signal() { cv_.notify_one(); }
  // Wakes every waiter.
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace kiln

#endif  // KILN_COMMON_MUTEX_H_
