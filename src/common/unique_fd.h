#ifndef KILN_COMMON_UNIQUE_FD_H_
#define KILN_COMMON_UNIQUE_FD_H_

// kiln::UniqueFd: sole ownership of one file descriptor, closed when the owner goes away.
//
// Header-only, plain C++ and libc (no Abseil), so every module can use it, including the static
// kiln-shim (src/runtime), which must stay free of Abseil.
//
// Semantics, like std::unique_ptr: move-only; a moved-from UniqueFd holds nothing (-1); reset()
// and the destructor close the held descriptor (a negative one is "nothing" and never closed).
// Closing never retries on EINTR (Linux has released the descriptor by then) and leaves errno as
// it was, so an error path may build its message from errno after a UniqueFd went out of scope
// or was reset. Close() is the one way to learn close(2)'s result (needed where a write error is
// reported only by close, e.g. on NFS).
//
// Threading: one UniqueFd is used by one thread at a time, like any object; descriptors
// themselves are process-wide, so nothing here makes a close safe against another thread still
// using the same number.

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace kiln {

class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  // Takes ownership of `fd` (a negative value means none, e.g. a failed open's -1).
  explicit UniqueFd(int fd) noexcept : fd_(fd < 0 ? -1 : fd) {}
  ~UniqueFd() { reset(); }

  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }

  // The held descriptor, or -1; ownership stays here.
  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }

  // Gives up ownership without closing: returns the descriptor (or -1) and holds nothing.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

  // Closes the held descriptor (if any, and if it is not `fd` itself) and takes `fd`.
  void reset(int fd = -1) noexcept {
    int old = std::exchange(fd_, fd < 0 ? -1 : fd);
    if (old >= 0 && old != fd_) {
      int saved = errno;
      ::close(old);
      errno = saved;
    }
  }

  // Closes now and reports close(2)'s result: 0, or -1 with errno set (the descriptor is released
  // either way). Holding nothing, it returns 0.
  int Close() noexcept {
    int old = release();
    return old < 0 ? 0 : ::close(old);
  }

 private:
  int fd_ = -1;
};

}  // namespace kiln

#endif  // KILN_COMMON_UNIQUE_FD_H_
