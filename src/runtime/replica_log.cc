#include "runtime/replica_log.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "runtime/replica_files.h"
#include "runtime/replica_layout.h"

namespace kiln::runtime {
namespace {

struct Piece {
  int64_t offset = 0;
  int64_t length = 0;
  absl::Time time;
  LogStream stream = LogStream::kStdout;
};

absl::StatusOr<Piece> ParsePiece(absl::string_view line, const std::string& path, int number) {
  std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
  Piece piece;
  int64_t nanos = 0;
  if (fields.size() != 4 || !absl::SimpleAtoi(fields[0], &piece.offset) ||
      !absl::SimpleAtoi(fields[1], &piece.length) || !absl::SimpleAtoi(fields[2], &nanos) || piece.offset < 0 ||
      piece.length <= 0 || (fields[3] != "o" && fields[3] != "e")) {
    return absl::DataLossError(
        absl::StrCat(path, " line ", number, " is not \"<offset> <length> <unix_nanos> <o|e>\": \"", line, "\""));
  }
  piece.time = absl::FromUnixNanos(nanos);
  piece.stream = fields[3] == "e" ? LogStream::kStderr : LogStream::kStdout;
  return piece;
}

// Splits `bytes` (starting at `offset` of the log) into lines; a last line without its newline
// is a line too.
void AppendLines(absl::string_view bytes, int64_t offset, absl::Time time, LogStream stream,
                 std::vector<LogLine>& out) {
  size_t begin = 0;
  while (begin < bytes.size()) {
    size_t end = bytes.find('\n', begin);
    size_t stop = end == absl::string_view::npos ? bytes.size() : end;
    out.push_back({.offset = offset + static_cast<int64_t>(begin),
                   .time = time,
                   .stream = stream,
                   .text = std::string(bytes.substr(begin, stop - begin))});
    begin = stop + 1;
  }
}

class LogFile {
 public:
  ~LogFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  absl::Status Open(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0 || ::fstat(fd_, &stat_) != 0) return absl::ErrnoToStatus(errno, path);
    return absl::OkStatus();
  }
  // Reads the size and modification time again (the log only grows).
  absl::Status Restat(const std::string& path) {
    if (::fstat(fd_, &stat_) != 0) return absl::ErrnoToStatus(errno, path);
    return absl::OkStatus();
  }
  int64_t size() const { return static_cast<int64_t>(stat_.st_size); }
  absl::Time modified() const { return absl::TimeFromTimespec(stat_.st_mtim); }
  absl::StatusOr<std::string> Read(int64_t offset, int64_t length, const std::string& path) const {
    std::string bytes(static_cast<size_t>(length), '\0');
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::pread(fd_, bytes.data() + done, bytes.size() - done,
                          static_cast<off_t>(offset + static_cast<int64_t>(done)));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return absl::ErrnoToStatus(errno, path);
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    bytes.resize(done);
    return bytes;
  }

 private:
  int fd_ = -1;
  struct stat stat_ = {};
};

}  // namespace

std::string LogPath(absl::string_view replica_dir) { return internal::JoinPath(replica_dir, internal::kLogFile); }

void WaitForLogChange(absl::string_view replica_dir, int64_t offset, absl::Duration timeout) {
  const std::string dir(replica_dir);
  const std::string log = LogPath(dir);
  const std::string exit_file = internal::JoinPath(dir, internal::kExitFile);
  auto changed = [&] {
    struct stat st;
    return (::stat(log.c_str(), &st) == 0 && static_cast<int64_t>(st.st_size) > offset) ||
           ::access(exit_file.c_str(), F_OK) == 0;
  };
  absl::Time deadline = absl::Now() + timeout;
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  // Appends to the log, the shim's rename of exit.json into place, or the folder going away.
  if (fd < 0 || ::inotify_add_watch(fd, dir.c_str(), IN_MODIFY | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF) < 0) {
    if (fd >= 0) ::close(fd);
    if (!changed()) absl::SleepFor(timeout);
    return;
  }
  // Checked after the watch is in place, so a change between the two is not missed.
  while (!changed()) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    pollfd pfd = {fd, POLLIN, 0};
    int rc = ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (rc < 0 && errno != EINTR) break;
    char events[4096];
    while (::read(fd, events, sizeof(events)) > 0) {
    }
    if (rc > 0 && ::access(dir.c_str(), F_OK) != 0) break;  // the folder was deleted
  }
  ::close(fd);
}

std::string ReadLogTail(absl::string_view replica_dir, int max_lines, int64_t max_bytes) {
  const std::string path = LogPath(replica_dir);
  LogFile log;
  if (max_lines <= 0 || !log.Open(path).ok()) return "";
  int64_t from = std::max<int64_t>(0, log.size() - max_bytes);
  absl::StatusOr<std::string> bytes = log.Read(from, log.size() - from, path);
  if (!bytes.ok()) return "";
  absl::string_view text = *bytes;
  if (from > 0) {  // the first line is cut: drop it unless it is all there is
    size_t newline = text.find('\n');
    if (newline != absl::string_view::npos) text.remove_prefix(newline + 1);
  }
  if (absl::EndsWith(text, "\n")) text.remove_suffix(1);
  if (text.empty()) return "";
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  size_t first = lines.size() > static_cast<size_t>(max_lines) ? lines.size() - max_lines : 0;
  return absl::StrJoin(lines.begin() + static_cast<std::ptrdiff_t>(first), lines.end(), "\n");
}

absl::Status VisitLogLines(absl::string_view replica_dir, const LogReadOptions& options,
                           const std::function<bool(LogLine)>& visit) {
  const std::string log_path = LogPath(replica_dir);
  const std::string index_path = internal::JoinPath(replica_dir, internal::kLogIndexFile);
  // The shim creates the index before it appends its first piece. So: the log's size first;
  // then the index, absent only if nothing was appended by this kind of shim at that size.
  LogFile log;
  if (absl::Status s = log.Open(log_path); !s.ok()) return s;
  absl::StatusOr<std::string> index = internal::ReadFile(index_path);
  std::vector<Piece> pieces;
  if (!index.ok()) {
    if (index.status().code() != absl::StatusCode::kNotFound) return index.status();
    // No output yet, or a log written by an older shim: all of it, as stdout, timed at its
    // last modification.
    if (log.size() > 0) pieces.push_back({0, log.size(), log.modified(), LogStream::kStdout});
  } else {
    // Every piece the index names was wholly appended before its line: within the size now.
    if (absl::Status s = log.Restat(log_path); !s.ok()) return s;
    // Only whole index lines: the last one may be being written.
    absl::string_view text = *index;
    text = text.substr(0, text.rfind('\n') == absl::string_view::npos ? 0 : text.rfind('\n') + 1);
    int number = 0;
    for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
      ++number;
      absl::StatusOr<Piece> piece = ParsePiece(line, index_path, number);
      if (!piece.ok()) return piece.status();
      if (piece->offset + piece->length > log.size()) {
        return absl::DataLossError(absl::StrCat(index_path, " line ", number, " names bytes ", piece->offset, "+",
                                                piece->length, " of ", log_path, ", which has ", log.size()));
      }
      pieces.push_back(*piece);
    }
  }

  if (options.newest_first) std::reverse(pieces.begin(), pieces.end());
  std::vector<LogLine> lines;
  for (const Piece& piece : pieces) {
    if (piece.time < options.since || piece.time > options.until) continue;
    absl::StatusOr<std::string> bytes = log.Read(piece.offset, piece.length, log_path);
    if (!bytes.ok()) return bytes.status();
    lines.clear();
    AppendLines(*bytes, piece.offset, piece.time, piece.stream, lines);
    if (options.newest_first) std::reverse(lines.begin(), lines.end());
    for (LogLine& line : lines) {
      if (!visit(std::move(line))) return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<LogLine>> ReadLogLines(absl::string_view replica_dir, absl::Time since) {
  std::vector<LogLine> lines;
  absl::Status s = VisitLogLines(replica_dir, {.since = since}, [&](LogLine line) {
    lines.push_back(std::move(line));
    return true;
  });
  if (!s.ok()) return s;
  return lines;
}

namespace {

class ReplicaLogReader final : public LogReader {
 public:
  explicit ReplicaLogReader(std::string dir) : dir_(std::move(dir)), path_(LogPath(dir_)) {}

  absl::StatusOr<std::string> Read(int64_t offset, int64_t max_bytes) override {
    if (offset < 0 || max_bytes < 0) return absl::InvalidArgumentError("log read: negative offset or length");
    LogFile log;
    absl::Status opened = log.Open(path_);
    if (absl::IsNotFound(opened)) return std::string();  // nothing written yet
    if (!opened.ok()) return opened;
    if (offset >= log.size()) return std::string();
    return log.Read(offset, std::min(max_bytes, log.size() - offset), path_);
  }
  int64_t Size() override {
    struct stat st;
    return ::stat(path_.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
  }
  std::string Tail(int max_lines) override { return ReadLogTail(dir_, max_lines); }
  absl::Status VisitLines(const LogReadOptions& options, const std::function<bool(LogLine)>& visit) override {
    absl::Status s = VisitLogLines(dir_, options, visit);
    return absl::IsNotFound(s) ? absl::OkStatus() : s;  // no log yet: no lines
  }
  void WaitForChange(int64_t offset, absl::Duration timeout) override { WaitForLogChange(dir_, offset, timeout); }

 private:
  const std::string dir_;
  const std::string path_;
};

}  // namespace

std::unique_ptr<LogReader> NewReplicaLogReader(std::string replica_dir) {
  return std::make_unique<ReplicaLogReader>(std::move(replica_dir));
}

}  // namespace kiln::runtime
