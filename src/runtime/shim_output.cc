#include "runtime/shim_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>

#include "runtime/replica_layout.h"

namespace kiln::runtime::internal {
namespace {

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

int64_t NowNanos(clockid_t clock) {
  timespec ts;
  ::clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * 1000 * 1000 * 1000 + ts.tv_nsec;
}

int64_t MonotonicMillis() { return NowNanos(CLOCK_MONOTONIC) / (1000 * 1000); }

std::string JoinPath(const std::string& dir, const char* name) {
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

bool WriteAll(int fd, const char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string FormatIndexLine(int64_t offset, int64_t length, int64_t unix_nanos, char stream) {
  char line[96];
  int n =
      std::snprintf(line, sizeof(line), "%" PRId64 " %" PRId64 " %" PRId64 " %c\n", offset, length, unix_nanos, stream);
  return std::string(line, static_cast<size_t>(n));
}

ShimOutput::~ShimOutput() {
  for (Stream* s : {&out_, &err_}) {
    CloseFd(s->read_fd);
    CloseFd(s->write_fd);
  }
  CloseFd(log_fd_);
  CloseFd(index_fd_);
}

bool ShimOutput::Open(const std::string& dir) {
  constexpr int kAppend = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
  log_fd_ = ::open(JoinPath(dir, kLogFile).c_str(), kAppend, 0644);
  if (log_fd_ < 0) return false;
  // The index is created with the first piece (Append): a replica that prints nothing costs no
  // file creation, which is the most expensive step on some file systems (replica_layout.h).
  index_path_ = JoinPath(dir, kLogIndexFile);
  for (Stream* s : {&out_, &err_}) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) return false;
    s->read_fd = ends[0];
    s->write_fd = ends[1];
    // Only the shim's end stays non-blocking: the replica blocks when the shim falls behind.
    if (::fcntl(s->write_fd, F_SETFL, O_WRONLY) != 0) return false;
  }
  return true;
}

void ShimOutput::CloseChildEnds() {
  CloseFd(out_.write_fd);
  CloseFd(err_.write_fd);
}

void ShimOutput::FillPollFds(pollfd fds[kPollFdCount]) const {
  fds[0] = {out_.read_fd, POLLIN, 0};
  fds[1] = {err_.read_fd, POLLIN, 0};
}

void ShimOutput::OnReadable(const pollfd fds[kPollFdCount]) {
  Stream* streams[] = {&out_, &err_};
  for (int i = 0; i < kPollFdCount; ++i) {
    if (fds[i].fd >= 0 && fds[i].fd == streams[i]->read_fd && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      ReadOnce(*streams[i]);
    }
  }
  int64_t now_ms = MonotonicMillis();
  for (Stream* s : streams) {
    if (!s->pending.empty() && now_ms - s->pending_since_ms >= kLogFlushMs) AppendLines(*s, true);
  }
}

int ShimOutput::TimeoutMs() const {
  int64_t due = INT64_MAX;
  for (const Stream* s : {&out_, &err_}) {
    if (!s->pending.empty()) due = std::min(due, s->pending_since_ms + kLogFlushMs);
  }
  if (due == INT64_MAX) return -1;
  return static_cast<int>(std::clamp<int64_t>(due - MonotonicMillis(), 0, kLogFlushMs));
}

bool ShimOutput::ReadOnce(Stream& stream) {
  if (stream.read_fd < 0) return false;
  char buffer[16 * 1024];
  ssize_t n;
  do {
    n = ::read(stream.read_fd, buffer, sizeof(buffer));
  } while (n < 0 && errno == EINTR);
  if (n == 0 || (n < 0 && errno != EAGAIN)) {
    CloseFd(stream.read_fd);  // no writer left (or a broken pipe): keep what was read
    AppendLines(stream, true);
    return false;
  }
  if (n < 0) return false;
  if (stream.pending.empty()) {
    stream.pending_nanos = NowNanos(CLOCK_REALTIME);
    stream.pending_since_ms = MonotonicMillis();
  }
  stream.pending.append(buffer, static_cast<size_t>(n));
  AppendLines(stream, false);
  if (stream.pending.size() >= kLogPieceBytes) AppendLines(stream, true);  // one very long line
  return true;
}

void ShimOutput::AppendLines(Stream& stream, bool all) {
  if (stream.pending.empty()) return;
  size_t size = stream.pending.size();
  if (!all) {
    size_t last = stream.pending.rfind('\n');
    if (last == std::string::npos) return;
    size = last + 1;
  }
  Append(stream.pending.data(), size, stream.pending_nanos, stream.tag);
  stream.pending.erase(0, size);
  if (!stream.pending.empty()) {
    // The rest is the start of a new line, read just now.
    stream.pending_nanos = NowNanos(CLOCK_REALTIME);
    stream.pending_since_ms = MonotonicMillis();
  }
}

void ShimOutput::Drain() {
  // Bounded (4 MiB a stream): a process that escaped the replica's group could keep writing.
  constexpr int kMaxDrainReads = 256;
  for (Stream* s : {&out_, &err_}) {
    for (int reads = 0; reads < kMaxDrainReads && ReadOnce(*s); ++reads) {
    }
    AppendLines(*s, true);
  }
}

void ShimOutput::Note(const std::string& message) {
  std::string line = "kiln-shim: " + message + "\n";
  if (log_fd_ < 0) {  // not set up: the shim's stderr is all there is
    WriteAll(STDERR_FILENO, line);
    return;
  }
  Append(line.data(), line.size(), NowNanos(CLOCK_REALTIME), 'e');
}

void ShimOutput::Append(const char* data, size_t size, int64_t unix_nanos, char tag) {
  if (index_fd_ < 0) {
    // Before the first byte reaches the log: readers take a log without an index for one
    // written by an older shim (replica_log.h).
    index_fd_ = ::open(index_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (index_fd_ < 0) return;  // the piece is dropped rather than left without its record
  }
  if (!WriteAll(log_fd_, data, size)) return;  // e.g. a full disk: the piece is lost
  // O_APPEND: the file offset is now the end of this piece, wherever the log ended before.
  off_t end = ::lseek(log_fd_, 0, SEEK_CUR);
  if (end < 0) return;
  WriteAll(index_fd_, FormatIndexLine(static_cast<int64_t>(end) - static_cast<int64_t>(size),
                                      static_cast<int64_t>(size), unix_nanos, tag));
}

}  // namespace kiln::runtime::internal
