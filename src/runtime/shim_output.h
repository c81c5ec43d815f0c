#ifndef KILN_RUNTIME_SHIM_OUTPUT_H_
#define KILN_RUNTIME_SHIM_OUTPUT_H_

// Internal to kiln-shim: captures a replica's stdout and stderr through two pipes and appends
// them to replica.log in pieces, each recorded in replica.log.index with the time it was read
// and its stream (replica_layout.h). That record is what lets kiln serve log entries with
// timestamps and severities (Cloud Logging's entries:list), as a container runtime's log
// driver does. Dependency-free like the rest of the shim; single-threaded.
//
//   ShimOutput output;
//   output.Open(dir);                   // replica.log, replica.log.index, the pipes
//   fork: child dup2s ChildStdout()/ChildStderr() onto 1 and 2 (every other end is O_CLOEXEC)
//   output.CloseChildEnds();            // in the shim, after the fork
//   loop: FillPollFds, poll (timeout ≤ TimeoutMs()), OnReadable
//   output.Drain();                     // once the replica's group is gone

#include <poll.h>
#include <time.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace kiln::runtime::internal {

// The shim's small helpers, shared by shim.cc and shim_output.cc.
// Clock readings in nanoseconds (CLOCK_REALTIME, CLOCK_MONOTONIC, ...), and CLOCK_MONOTONIC in ms.
int64_t NowNanos(clockid_t clock);
int64_t MonotonicMillis();
// "<dir>/<name>" (no doubled slash).
std::string JoinPath(const std::string& dir, const char* name);
// Writes all of `size` bytes, retrying on EINTR and short writes. False (errno set) on error.
bool WriteAll(int fd, const char* data, size_t size);
inline bool WriteAll(int fd, const std::string& content) { return WriteAll(fd, content.data(), content.size()); }

// Formats one replica.log.index line: "<offset> <length> <unix_nanos> <o|e>\n".
std::string FormatIndexLine(int64_t offset, int64_t length, int64_t unix_nanos, char stream);

class ShimOutput {
 public:
  ShimOutput() = default;
  ShimOutput(const ShimOutput&) = delete;
  ShimOutput& operator=(const ShimOutput&) = delete;
  ~ShimOutput();

  // Opens <dir>/replica.log and <dir>/replica.log.index for appending and makes the pipes.
  // False (errno set) on failure; nothing is then captured.
  bool Open(const std::string& dir);

  // replica.log, opened for appending (O_CLOEXEC); -1 before Open.
  int log_fd() const { return log_fd_; }
  // The pipes' write ends, for the child to dup2 onto 1 and 2 before exec.
  int ChildStdout() const { return out_.write_fd; }
  int ChildStderr() const { return err_.write_fd; }
  // Closes the write ends in the shim (after the fork), so end of file means "no writer left".
  void CloseChildEnds();

  // Fills `fds` with the read ends to poll (fd -1 once at end of file: poll ignores it).
  static constexpr int kPollFdCount = 2;
  void FillPollFds(pollfd fds[kPollFdCount]) const;
  // Reads what poll reported readable in `fds` (as filled by FillPollFds), appends whole lines,
  // and appends partial lines that waited kLogFlushMs or reached kLogPieceBytes.
  void OnReadable(const pollfd fds[kPollFdCount]);
  // How long poll may sleep before a partial line is due (-1: none waits).
  int TimeoutMs() const;

  // Reads whatever the pipes still hold without blocking (a process outside the replica's
  // group may keep a write end open forever; at most 4 MiB a stream) and appends every
  // partial line.
  void Drain();

  // Appends the shim's own message ("kiln-shim: <message>\n") as a stderr piece.
  void Note(const std::string& message);

 private:
  struct Stream {
    explicit Stream(char t) : tag(t) {}
    char tag;  // 'o' or 'e' in the index
    int read_fd = -1;
    int write_fd = -1;
    std::string pending;           // bytes read and not yet appended (no newline yet)
    int64_t pending_nanos = 0;     // CLOCK_REALTIME when its first byte was read
    int64_t pending_since_ms = 0;  // CLOCK_MONOTONIC, for the flush timer
  };

  // Reads once from `stream` (non-blocking); false at end of file or when nothing was there.
  bool ReadOnce(Stream& stream);
  // Appends the whole lines of `stream.pending` (all of it when `all`).
  void AppendLines(Stream& stream, bool all);
  // Appends one piece to the log, then its index line.
  void Append(const char* data, size_t size, int64_t unix_nanos, char tag);

  Stream out_{'o'};
  Stream err_{'e'};
  int log_fd_ = -1;
  int index_fd_ = -1;  // opened (created) by the first Append
  std::string index_path_;
};

}  // namespace kiln::runtime::internal

#endif  // KILN_RUNTIME_SHIM_OUTPUT_H_
