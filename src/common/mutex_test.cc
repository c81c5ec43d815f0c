#include "common/mutex.h"

#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

// A waiter thread and the state the test shares with it. `Waiting()` returns once the waiter
// is blocked inside the CondVar: it set `waiting_` and released the mutex only by waiting.
class Handshake {
 public:
  void MarkWaiting() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    ++waiting_;
    waiting_cv_.SignalAll();
  }
  void AwaitWaiters(int n) {
    MutexLock lock(&mu);
    while (waiting_ < n) waiting_cv_.Wait(&mu);
  }

  Mutex mu;
  bool ready ABSL_GUARDED_BY(mu) = false;
  CondVar cv;

 private:
  int waiting_ ABSL_GUARDED_BY(mu) = 0;
  CondVar waiting_cv_;
};

TEST(MutexTest, GuardsACounterAcrossThreads) {
  Mutex mu;
  int counter = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        MutexLock lock(&mu);
        ++counter;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  MutexLock lock(&mu);
  EXPECT_EQ(counter, 40000);
}

TEST(MutexTest, AssertHeldPassesForTheHolder) {
  Mutex mu;
  MutexLock lock(&mu);
  mu.AssertHeld();
}

TEST(MutexDeathTest, AssertHeldAbortsWhenNotHeld) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Mutex mu;
  EXPECT_DEATH(mu.AssertHeld(), "");
  // Held by another thread is not held by this one.
  std::thread holder;
  Handshake h;
  {
    MutexLock lock(&h.mu);
    holder = std::thread([&] {
      MutexLock inner(&mu);
      MutexLock hl(&h.mu);
      h.MarkWaiting();
      while (!h.ready) h.cv.Wait(&h.mu);
    });
  }
  h.AwaitWaiters(1);  // `holder` holds mu now
  EXPECT_DEATH(mu.AssertHeld(), "");
  {
    MutexLock lock(&h.mu);
    h.ready = true;
    h.cv.Signal();
  }
  holder.join();
}

TEST(CondVarTest, WaitWithDeadlineReturnsTrueOnTimeout) {
  Mutex mu;
  CondVar cv;
  MutexLock lock(&mu);
  EXPECT_TRUE(cv.WaitWithDeadline(&mu, absl::Now() - absl::Seconds(1)));  // already passed
  const absl::Time deadline = absl::Now() + absl::Milliseconds(1);
  // Nobody signals: a spurious wake-up (false) may come first, a timeout must come.
  while (!cv.WaitWithDeadline(&mu, deadline)) {
  }
  EXPECT_GE(absl::Now(), deadline);
  mu.AssertHeld();  // re-acquired
}

TEST(CondVarTest, WaitForReturnsTrueOnTimeout) {
  Mutex mu;
  CondVar cv;
  MutexLock lock(&mu);
  EXPECT_TRUE(cv.WaitFor(&mu, absl::ZeroDuration()));
  EXPECT_TRUE(cv.WaitFor(&mu, -absl::Seconds(1)));
  const absl::Time start = absl::Now();
  while (!cv.WaitFor(&mu, absl::Milliseconds(1))) {
  }
  EXPECT_GE(absl::Now(), start + absl::Milliseconds(1));
  mu.AssertHeld();
}

TEST(CondVarTest, SignalWakesAWaiter) {
  Handshake h;
  std::thread waiter([&] {
    MutexLock lock(&h.mu);
    h.MarkWaiting();
    while (!h.ready) h.cv.Wait(&h.mu);
    h.mu.AssertHeld();
  });
  h.AwaitWaiters(1);  // blocked in Wait: only the Signal below can end this test
  {
    MutexLock lock(&h.mu);
    h.ready = true;
    h.cv.Signal();
  }
  waiter.join();
}

TEST(CondVarTest, SignalEndsAWaitWithDeadlineBeforeTheDeadline) {
  for (absl::Time deadline : {absl::Now() + absl::Hours(1), absl::InfiniteFuture()}) {
    Handshake h;
    bool timed_out = true;
    std::thread waiter([&] {
      MutexLock lock(&h.mu);
      h.MarkWaiting();
      bool t = false;
      while (!h.ready && !(t = h.cv.WaitWithDeadline(&h.mu, deadline))) {
      }
      timed_out = t;
    });
    h.AwaitWaiters(1);
    {
      MutexLock lock(&h.mu);
      h.ready = true;
      h.cv.Signal();
    }
    waiter.join();
    EXPECT_FALSE(timed_out) << deadline;
  }
}

TEST(CondVarTest, SignalAllWakesEveryWaiter) {
  constexpr int kWaiters = 3;
  Handshake h;
  std::vector<std::thread> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&] {
      MutexLock lock(&h.mu);
      h.MarkWaiting();
      while (!h.ready) h.cv.Wait(&h.mu);
    });
  }
  h.AwaitWaiters(kWaiters);
  {
    MutexLock lock(&h.mu);
    h.ready = true;
    h.cv.SignalAll();
  }
  for (std::thread& t : waiters) t.join();
}

}  // namespace
}  // namespace kiln
