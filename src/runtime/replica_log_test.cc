// ReadLogLines over hand-made files, and kiln-shim's capture (shim_output.h) end to end: streams,
// times, partial and very long lines, the shim's own notes.

#include "runtime/replica_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/replica_files.h"
#include "runtime/replica_layout.h"
#include "runtime/shim_output.h"
#include "runtime/shim_supervisor_test_fixture.h"

namespace kiln::runtime::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::vector<std::string> Texts(const std::vector<LogLine>& lines) {
  std::vector<std::string> out;
  for (const LogLine& line : lines) out.push_back(line.text);
  return out;
}

class ReplicaLogFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/kiln-log-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const char* name, const std::string& content) {
    ASSERT_TRUE(internal::WriteFile(internal::JoinPath(dir_, name), content).ok());
  }
  std::string dir_;
};

TEST_F(ReplicaLogFilesTest, PiecesGiveTimesAndStreamsToTheirLines) {
  absl::Time t1 = absl::FromUnixNanos(1'700'000'000'000'000'001);
  absl::Time t2 = t1 + absl::Milliseconds(5);
  Write(internal::kLogFile, "a\nb\nE1\nhalf");
  Write(internal::kLogIndexFile, internal::FormatIndexLine(0, 4, absl::ToUnixNanos(t1), 'o') +
                                     internal::FormatIndexLine(4, 3, absl::ToUnixNanos(t2), 'e') +
                                     internal::FormatIndexLine(7, 4, absl::ToUnixNanos(t2), 'o'));
  absl::StatusOr<std::vector<LogLine>> lines = ReadLogLines(dir_);
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_THAT(*lines,
              ElementsAre(LogLine{0, t1, LogStream::kStdout, "a"}, LogLine{2, t1, LogStream::kStdout, "b"},
                          LogLine{4, t2, LogStream::kStderr, "E1"}, LogLine{7, t2, LogStream::kStdout, "half"}));
  // `since` skips earlier pieces.
  lines = ReadLogLines(dir_, t2);
  ASSERT_TRUE(lines.ok());
  EXPECT_THAT(Texts(*lines), ElementsAre("E1", "half"));
  lines = ReadLogLines(dir_, t2 + absl::Nanoseconds(1));
  ASSERT_TRUE(lines.ok());
  EXPECT_THAT(*lines, IsEmpty());
}

TEST_F(ReplicaLogFilesTest, VisitGoesEitherWayWithinAWindowAndStopsWhenAsked) {
  Write(internal::kLogFile, "a\nb\nc\nd\n");
  Write(internal::kLogIndexFile, internal::FormatIndexLine(0, 4, 10, 'o') + internal::FormatIndexLine(4, 2, 20, 'e') +
                                     internal::FormatIndexLine(6, 2, 30, 'o'));
  auto visit = [&](const LogReadOptions& options, size_t stop_after) {
    std::vector<std::string> texts;
    absl::Status s = VisitLogLines(dir_, options, [&](LogLine line) {
      texts.push_back(line.text);
      return texts.size() < stop_after;
    });
    EXPECT_TRUE(s.ok()) << s;
    return texts;
  };
  EXPECT_THAT(visit({}, 100), ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(visit({.newest_first = true}, 100), ElementsAre("d", "c", "b", "a"));
  EXPECT_THAT(visit({}, 2), ElementsAre("a", "b"));
  EXPECT_THAT(visit({.newest_first = true}, 3), ElementsAre("d", "c", "b"));
  EXPECT_THAT(visit({.since = absl::FromUnixNanos(20), .until = absl::FromUnixNanos(20)}, 100), ElementsAre("c"));
  EXPECT_THAT(visit({.until = absl::FromUnixNanos(19), .newest_first = true}, 100), ElementsAre("b", "a"));
}

TEST_F(ReplicaLogFilesTest, BytesAndIndexLinesBeingWrittenWait) {
  Write(internal::kLogFile, "one\ntwo\nthr");                                           // "thr" not yet indexed
  Write(internal::kLogIndexFile, internal::FormatIndexLine(0, 4, 1, 'o') + "4 4 2 o");  // no \n
  absl::StatusOr<std::vector<LogLine>> lines = ReadLogLines(dir_);
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_THAT(Texts(*lines), ElementsAre("one"));
  // An empty index: nothing recorded yet.
  Write(internal::kLogIndexFile, "");
  lines = ReadLogLines(dir_);
  ASSERT_TRUE(lines.ok());
  EXPECT_THAT(*lines, IsEmpty());
}

TEST_F(ReplicaLogFilesTest, ALogWithoutIndexReadsAsStdoutAtItsModificationTime) {
  Write(internal::kLogFile, "old\nlog\n");
  struct stat st;
  ASSERT_EQ(::stat(LogPath(dir_).c_str(), &st), 0);
  absl::Time modified = absl::TimeFromTimespec(st.st_mtim);
  absl::StatusOr<std::vector<LogLine>> lines = ReadLogLines(dir_);
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_THAT(*lines, ElementsAre(LogLine{0, modified, LogStream::kStdout, "old"},
                                  LogLine{4, modified, LogStream::kStdout, "log"}));
  lines = ReadLogLines(dir_, modified + absl::Seconds(1));
  ASSERT_TRUE(lines.ok());
  EXPECT_THAT(*lines, IsEmpty());
  // A replica that printed nothing has an empty log and no index.
  Write(internal::kLogFile, "");
  lines = ReadLogLines(dir_);
  ASSERT_TRUE(lines.ok());
  EXPECT_THAT(*lines, IsEmpty());
}

TEST_F(ReplicaLogFilesTest, ErrorsNameTheFileAndTheLine) {
  EXPECT_EQ(ReadLogLines(dir_).status().code(), absl::StatusCode::kNotFound);
  Write(internal::kLogFile, "abc\n");
  for (const char* bad : {"0 4 1 x\n", "0 0 1 o\n", "-1 4 1 o\n", "0 4 o\n", "zero 4 1 o\n"}) {
    Write(internal::kLogIndexFile, bad);
    absl::Status status = ReadLogLines(dir_).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << bad;
    EXPECT_THAT(status.message(), HasSubstr("replica.log.index line 1")) << bad;
  }
  Write(internal::kLogIndexFile, internal::FormatIndexLine(0, 4, 1, 'o') + internal::FormatIndexLine(4, 9, 1, 'o'));
  absl::Status status = ReadLogLines(dir_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("line 2 names bytes 4+9"));
}

TEST_F(ReplicaLogFilesTest, TailGivesTheLastLinesFromTheEndOfTheFileOnly) {
  EXPECT_EQ(ReadLogTail(dir_, 3), "");  // no log
  Write(internal::kLogFile, "");
  EXPECT_EQ(ReadLogTail(dir_, 3), "");
  Write(internal::kLogFile, "one\ntwo\nthree\nfour\n");
  EXPECT_EQ(ReadLogTail(dir_, 2), "three\nfour");
  EXPECT_EQ(ReadLogTail(dir_, 10), "one\ntwo\nthree\nfour");
  EXPECT_EQ(ReadLogTail(dir_, 0), "");
  Write(internal::kLogFile, "no newline at the end");
  EXPECT_EQ(ReadLogTail(dir_, 2), "no newline at the end");
  // Only the last max_bytes are read; a line cut by that window is dropped.
  Write(internal::kLogFile, std::string(100, 'a') + "\nbb\ncc\n");
  EXPECT_EQ(ReadLogTail(dir_, 5, /*max_bytes=*/8), "bb\ncc");
  EXPECT_EQ(ReadLogTail(dir_, 5, /*max_bytes=*/4), "cc");
}

TEST_F(ReplicaLogFilesTest, WaitForLogChangeWakesOnGrowthOrTheExitRecord) {
  constexpr absl::Duration kLong = absl::Seconds(30);  // only reached if no event wakes it
  Write(internal::kLogFile, "abc");
  absl::Time start = absl::Now();
  WaitForLogChange(dir_, 2, kLong);  // already longer than 2 bytes
  EXPECT_LT(absl::Now() - start, kLong);

  std::thread appender([&] {
    absl::SleepFor(absl::Milliseconds(50));
    std::ofstream(LogPath(dir_), std::ios::app) << "more";
  });
  start = absl::Now();
  WaitForLogChange(dir_, 3, kLong);
  appender.join();
  EXPECT_LT(absl::Now() - start, kLong);

  std::thread finisher([&] {
    absl::SleepFor(absl::Milliseconds(50));
    ASSERT_TRUE(internal::WriteFileAtomically(internal::JoinPath(dir_, internal::kExitFile), "{}", false).ok());
  });
  start = absl::Now();
  WaitForLogChange(dir_, 100, kLong);
  finisher.join();
  EXPECT_LT(absl::Now() - start, kLong);

  // Nothing happens: it returns when the timeout passes.
  std::filesystem::remove(internal::JoinPath(dir_, internal::kExitFile));
  start = absl::Now();
  WaitForLogChange(dir_, 100, absl::Milliseconds(50));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
}

// With the real kiln-shim.

using ShimLogTest = ShimSupervisorTest;

std::vector<LogLine> LinesOrDie(const ReplicaHandle& handle) {
  absl::StatusOr<std::vector<LogLine>> lines = ReadLogLines(handle.replica_dir);
  EXPECT_TRUE(lines.ok()) << lines.status();
  return lines.ok() ? *lines : std::vector<LogLine>{};
}

TEST_F(ShimLogTest, EachLineKeepsItsStreamAndTheTimeItWasRead) {
  absl::Time before = absl::Now();
  ReplicaHandle handle = Launch(Spec("r", {"interleave", "5"}));
  ASSERT_TRUE(WaitForExit(handle));
  std::vector<LogLine> lines = LinesOrDie(handle);
  ASSERT_THAT(lines, SizeIs(10));
  std::vector<std::string> out, err;
  for (size_t i = 0; i < lines.size(); ++i) {
    (lines[i].stream == LogStream::kStdout ? out : err).push_back(lines[i].text);
    EXPECT_GE(lines[i].time, before);
    EXPECT_LE(lines[i].time, absl::Now());
    if (i > 0) {
      EXPECT_GT(lines[i].offset, lines[i - 1].offset);
      EXPECT_GE(lines[i].time, lines[i - 1].time);
    }
  }
  EXPECT_THAT(out, ElementsAre("out 0", "out 1", "out 2", "out 3", "out 4"));
  EXPECT_THAT(err, ElementsAre("err 0", "err 1", "err 2", "err 3", "err 4"));
  // The 20 ms between rounds show in the times.
  EXPECT_GE(lines.back().time - lines.front().time, absl::Milliseconds(60));
  // Byte readers see the same bytes.
  std::string raw = Log(handle);
  for (const LogLine& line : lines) EXPECT_EQ(raw.substr(line.offset, line.text.size()), line.text);
}

TEST_F(ShimLogTest, APartialLineShowsWhileTheReplicaWaitsAndItsEndFollows) {
  std::string go = internal::JoinPath(root_, "go");
  ReplicaHandle handle = Launch(Spec("r", {"partial", go}));
  // After kLogFlushMs the shim appends "50%" without its newline. (Until the shim has opened
  // the log, there is none: NOT_FOUND.)
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<std::vector<LogLine>> lines = ReadLogLines(handle.replica_dir);
    return lines.ok() && lines->size() == 1;
  }));
  EXPECT_EQ(LinesOrDie(handle)[0].text, "50%");
  EXPECT_EQ(Log(handle), "50%");
  ASSERT_TRUE(internal::WriteFile(go, "").ok());
  ASSERT_TRUE(WaitForExit(handle));
  EXPECT_THAT(Texts(LinesOrDie(handle)), ElementsAre("50%", " 100%"));
  EXPECT_EQ(Log(handle), "50% 100%\n");
}

TEST_F(ShimLogTest, AVeryLongLineArrivesWholeInBoundedPieces) {
  constexpr int kLength = 300 * 1000;
  ReplicaHandle handle = Launch(Spec("r", {"long-line", std::to_string(kLength)}));
  ASSERT_TRUE(WaitForExit(handle));
  std::vector<LogLine> lines = LinesOrDie(handle);
  ASSERT_GE(lines.size(), 2u);  // more than one piece
  std::string joined;
  for (const LogLine& line : lines) {
    EXPECT_LE(line.text.size(), internal::kLogPieceBytes + 16 * 1024);
    joined += line.text;
  }
  EXPECT_EQ(joined, std::string(kLength, 'x'));
  EXPECT_EQ(Log(handle), std::string(kLength, 'x') + "\n");
}

TEST_F(ShimLogTest, AReplicaThatPrintsNothingGetsNoIndex) {
  ReplicaHandle handle = Launch(Spec("r", {"exit", "0"}));
  ASSERT_TRUE(WaitForExit(handle));
  EXPECT_FALSE(std::filesystem::exists(internal::JoinPath(handle.replica_dir, internal::kLogIndexFile)));
  EXPECT_THAT(LinesOrDie(handle), IsEmpty());
}

TEST_F(ShimLogTest, WhatCannotStartIsAStderrLine) {
  ReplicaSpec spec = Spec("r", {});
  spec.argv = {"/no/such/program"};
  ReplicaHandle handle = Launch(spec);
  ASSERT_TRUE(WaitForExit(handle));
  std::vector<LogLine> lines = LinesOrDie(handle);
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_EQ(lines[0].stream, LogStream::kStderr);
  EXPECT_THAT(lines[0].text, HasSubstr("kiln-shim: cannot run '/no/such/program'"));
}

TEST_F(ShimLogTest, AppendsToTheLogOfAFolderInUse) {
  ReplicaHandle first = Launch(Spec("r", {"write-both", "first"}));
  ASSERT_TRUE(WaitForExit(first));
  ReplicaHandle second = Launch(Spec("r", {"write-both", "second"}));
  ASSERT_TRUE(WaitForExit(second, /*count=*/2));
  std::vector<LogLine> lines = LinesOrDie(second);
  EXPECT_THAT(Texts(lines), ElementsAre("out:first", "err:first", "out:second", "err:second"));
  EXPECT_THAT(lines, ::testing::Each(Field(&LogLine::time, ::testing::Gt(absl::UnixEpoch()))));
}

}  // namespace
}  // namespace kiln::runtime::testing
