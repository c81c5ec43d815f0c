#ifndef KILN_COMMON_CALLBACKS_H_
#define KILN_COMMON_CALLBACKS_H_

// Registrations that can be undone: every place that calls back into another object (a store's
// commit listeners, a runtime's job events, a planner's wake-ups) hands out a Subscription, and
// the owner of the callback cancels it before it goes away.
//
//   CallbackList<const std::string&> events;
//   Subscription s = events.Add([this](const std::string& name) { loop_.Enqueue(name); });
//   events.Notify("projects/p/locations/l/customJobs/1");   // from any thread
//   s.Cancel();  // no call of that callback is running or will start once this returns
//
// Threading: CallbackList is thread-safe; Notify may run on many threads at once and callbacks
// may Add or Cancel (their own or others') from inside a call. Cancel waits for the calls in
// flight on other threads; a call on the cancelling thread itself (a callback cancelling its own
// subscription) is not waited for, so that cannot deadlock.

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace kiln {

// Undoes one registration when cancelled or destroyed. Move-only; a default-constructed or
// moved-from Subscription is empty and cancels nothing.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& other) noexcept : cancel_(std::exchange(other.cancel_, nullptr)) {}
  Subscription& operator=(Subscription&& other) noexcept {
    if (this != &other) {
      Cancel();
      cancel_ = std::exchange(other.cancel_, nullptr);
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { Cancel(); }

  // Unregisters and waits for calls in flight (see the file comment). Idempotent.
  void Cancel() {
    if (auto cancel = std::exchange(cancel_, nullptr)) cancel();
  }
  bool active() const { return cancel_ != nullptr; }

 private:
  std::function<void()> cancel_;
};

template <typename... Args>
class CallbackList {
 public:
  using Callback = std::function<void(Args...)>;

  CallbackList() : state_(std::make_shared<State>()) {}
  // Pending subscriptions become no-ops; must not run while Notify runs on another thread.
  ~CallbackList() = default;
  CallbackList(const CallbackList&) = delete;
  CallbackList& operator=(const CallbackList&) = delete;

  // Registers `callback` until the returned Subscription is cancelled or destroyed.
  [[nodiscard]] Subscription Add(Callback callback) {
    auto entry = std::make_shared<Entry>();
    entry->callback = std::move(callback);
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->entries.push_back(entry);
    }
    std::weak_ptr<State> weak = state_;
    return Subscription([weak, entry] {
      if (std::shared_ptr<State> state = weak.lock()) state->Remove(entry);
    });
  }

  // Calls every registered callback with `args`, on this thread, in registration order.
  void Notify(Args... args) const {
    std::vector<std::shared_ptr<Entry>> entries;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      entries = state_->entries;
    }
    for (const auto& e : entries) {
      {
        std::lock_guard<std::mutex> lock(state_->mu);
        if (e->removed) continue;  // cancelled since the snapshot: its call does not start
        ++e->in_flight;
      }
      Calling().push_back(e.get());
      e->callback(args...);
      Calling().pop_back();
      std::lock_guard<std::mutex> lock(state_->mu);
      if (--e->in_flight == 0 && e->removed) state_->idle.notify_all();
    }
  }

  bool empty() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->entries.empty();
  }

 private:
  struct Entry {
    Callback callback;
    int in_flight = 0;     // calls running now; guarded by State::mu
    bool removed = false;  // guarded by State::mu
  };
  // The entries this thread is calling right now (a callback may notify another list).
  static std::vector<const Entry*>& Calling() {
    thread_local std::vector<const Entry*> calling;
    return calling;
  }
  struct State {
    std::mutex mu;
    std::condition_variable idle;
    std::vector<std::shared_ptr<Entry>> entries;  // guarded by mu

    void Remove(const std::shared_ptr<Entry>& entry) {
      const std::vector<const Entry*>& calling = Calling();
      int own = static_cast<int>(std::count(calling.begin(), calling.end(), entry.get()));
      std::unique_lock<std::mutex> lock(mu);
      entry->removed = true;
      entries.erase(std::remove(entries.begin(), entries.end(), entry), entries.end());
      idle.wait(lock, [&] { return entry->in_flight <= own; });
    }
  };
  std::shared_ptr<State> state_;
};

}  // namespace kiln

#endif  // KILN_COMMON_CALLBACKS_H_
