#ifndef KILN_CONTROL_WORK_LOOP_H_
#define KILN_CONTROL_WORK_LOOP_H_

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/mutex.h"

namespace kiln::control {

// The event loop every reconciler shares: a de-duplicated FIFO of resource names, one worker
// thread that runs `step(name)` for each, deadlines that re-enqueue a name when they pass,
// and a periodic resync that enqueues whatever `resync()` lists (the safety net for a missed
// event). Nothing polls: the worker sleeps until a name is enqueued, a deadline passes or the
// resync is due.
//
// Threading: Enqueue and SetDeadline from any thread; Start and Stop from the owner's thread;
// `step` runs on the worker only, one name at a time.
class WorkLoop {
 public:
  WorkLoop(std::string name, std::function<absl::Status(const std::string&)> step,
           std::function<std::vector<std::string>()> resync, absl::Duration resync_interval);
  ~WorkLoop();

  // Starts the worker and runs an initial resync. Idempotent.
  void Start();
  // Stops the worker after its current step. Idempotent.
  void Stop();

  void Enqueue(const std::string& name);
  // Enqueues `name` when `at` passes (the earliest of several deadlines wins). Wall-clock time.
  void SetDeadline(const std::string& name, absl::Time at);
  void ClearDeadline(const std::string& name);

 private:
  void Run();
  void Resync();

  const std::string name_;
  const std::function<absl::Status(const std::string&)> step_;
  const std::function<std::vector<std::string>()> resync_;
  const absl::Duration resync_interval_;

  Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> queued_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  CondVar wake_;  // signalled when queue_ gains a name or stopping_ is set
  bool started_ = false;
  std::thread worker_;
};

}  // namespace kiln::control

#endif  // KILN_CONTROL_WORK_LOOP_H_
