#include "common/callbacks.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

using ::testing::ElementsAre;

TEST(CallbacksTest, NotifiesEveryRegisteredCallbackUntilCancelled) {
  CallbackList<const std::string&> list;
  std::vector<std::string> a, b;
  Subscription sa = list.Add([&](const std::string& s) { a.push_back(s); });
  Subscription sb = list.Add([&](const std::string& s) { b.push_back(s); });
  list.Notify("one");
  sa.Cancel();
  EXPECT_FALSE(sa.active());
  list.Notify("two");
  EXPECT_THAT(a, ElementsAre("one"));
  EXPECT_THAT(b, ElementsAre("one", "two"));
  {
    Subscription moved = std::move(sb);
    EXPECT_FALSE(sb.active());
  }  // destroying the owner cancels
  list.Notify("three");
  EXPECT_THAT(b, ElementsAre("one", "two"));
  EXPECT_TRUE(list.empty());
}

// The property lifetimes rest on: once Cancel returns, the callback is not running and never
// runs again, even when another thread was inside it.
TEST(CallbacksTest, CancelWaitsForACallInFlightOnAnotherThread) {
  CallbackList<> list;
  std::atomic<bool> inside{false}, release{false}, finished{false};
  Subscription s = list.Add([&] {
    inside = true;
    while (!release) std::this_thread::yield();
    finished = true;
  });
  std::thread notifier([&] { list.Notify(); });
  while (!inside) std::this_thread::yield();
  std::atomic<bool> cancelled{false};
  std::thread canceller([&] {
    s.Cancel();
    cancelled = true;
  });
  // The canceller cannot return while the call runs; let the call end, then it returns.
  EXPECT_FALSE(cancelled.load());
  release = true;
  canceller.join();
  EXPECT_TRUE(finished.load()) << "Cancel returned before the call in flight ended";
  notifier.join();
}

TEST(CallbacksTest, ACallbackMayCancelItselfAndOthers) {
  CallbackList<int> list;
  int calls = 0;
  Subscription self, other;
  self = list.Add([&](int) {
    ++calls;
    self.Cancel();   // its own: not waited for
    other.Cancel();  // another, not running: removed before its turn
  });
  other = list.Add([&](int) { ++calls; });
  list.Notify(1);
  list.Notify(2);
  EXPECT_EQ(calls, 1);
}

TEST(CallbacksTest, ASubscriptionMayOutliveItsList) {
  Subscription s;
  {
    CallbackList<> list;
    s = list.Add([] {});
  }
  s.Cancel();  // a no-op, not a use after free
  EXPECT_FALSE(s.active());
}

TEST(CallbacksTest, ConcurrentNotifyAndCancelNeverCallACancelledCallback) {
  for (int round = 0; round < 50; ++round) {
    CallbackList<> list;
    std::atomic<bool> cancelled{false};
    std::atomic<int> late{0};
    Subscription s = list.Add([&] {
      if (cancelled) late.fetch_add(1);
    });
    std::thread notifier([&] {
      for (int i = 0; i < 200; ++i) list.Notify();
    });
    s.Cancel();
    cancelled = true;
    notifier.join();
    EXPECT_EQ(late.load(), 0);
  }
}

}  // namespace
}  // namespace kiln
