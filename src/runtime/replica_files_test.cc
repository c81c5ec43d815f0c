#include "runtime/replica_files.h"

#include <unistd.h>

#include <stdlib.h>

#include <cstdlib>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/runtime.h"
#include "runtime/shim.h"

namespace kiln::runtime {
namespace {

using ::testing::HasSubstr;

TEST(ReplicaHandleTest, SerializeRoundTrips) {
  ReplicaHandle handle{.replica_dir = "/home/k/jobs/1/workerpool0-0",
                       .shim_pid = 4242,
                       .shim_start_ticks = 987654321,
                       .boot_id = "0b7c6f3e-aaaa-bbbb-cccc-1234567890ab"};
  absl::StatusOr<ReplicaHandle> parsed = ReplicaHandle::Parse(handle.Serialize());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, handle);
}

TEST(ReplicaHandleTest, ParseRejectsMalformedText) {
  for (const char* text :
       {"", "not json", "[]", R"({"shim_pid": 1, "shim_start_ticks": 1})",
        R"({"replica_dir": "/d", "shim_pid": 0, "shim_start_ticks": 1})",
        R"({"replica_dir": "/d", "shim_pid": "1", "shim_start_ticks": 1})", R"({"replica_dir": "/d", "shim_pid": 1})",
        R"({"replica_dir": "/d", "shim_pid": 1, "shim_start_ticks": 1,
                               "boot_id": 7})"}) {
    absl::StatusOr<ReplicaHandle> parsed = ReplicaHandle::Parse(text);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(parsed.status().message(), HasSubstr("replica handle: ")) << text;
  }
}

TEST(ReplicaHandleTest, BootIdIsOptional) {
  absl::StatusOr<ReplicaHandle> parsed =
      ReplicaHandle::Parse(R"({"replica_dir": "/d", "shim_pid": 5, "shim_start_ticks": 6})");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->boot_id, "");
  EXPECT_EQ(parsed->shim_pid, 5);
  EXPECT_EQ(parsed->shim_start_ticks, 6);
}

TEST(ReplicaFilesTest, SpecRoundTrips) {
  ReplicaSpec spec{.replica_dir = "/not/serialized",
                   .argv = {"python3", "-c", "print('$(x)')", ""},
                   .env = {"PATH=/usr/bin", "A=b=c"},
                   .working_dir = "/tmp"};
  ReplicaHandle shim{.replica_dir = "/d", .shim_pid = 42, .shim_start_ticks = 7, .boot_id = "b"};
  std::string json = internal::SpecToJson(spec, shim);
  ShimSpec parsed;
  std::string error;
  ASSERT_TRUE(ParseShimSpec(json, &parsed, &error)) << error;
  EXPECT_EQ(parsed.argv, spec.argv);
  EXPECT_EQ(parsed.env, spec.env);
  EXPECT_EQ(parsed.working_dir, spec.working_dir);
  EXPECT_EQ(parsed.shim_pid, 42);
  absl::StatusOr<ReplicaHandle> named = internal::ShimOfSpec(json, "/d");
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(*named, shim);
}

TEST(ReplicaFilesTest, ShimOfSpecNeedsAWellFormedShim) {
  EXPECT_EQ(internal::ShimOfSpec(R"({"argv": []})", "/d").status().code(), absl::StatusCode::kNotFound);
  for (const char* text : {"", "[]", R"({"shim": 1})", R"({"shim": {"pid": 0, "start_ticks": 1}})",
                           R"({"shim": {"pid": 1}})", R"({"shim": {"pid": 1, "start_ticks": 1, "boot_id": 2}})"}) {
    EXPECT_EQ(internal::ShimOfSpec(text, "/d").status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

TEST(ReplicaFilesTest, ExitTimesAreUtcWithNanoseconds) {
  // Days before 1970 and a leap day, formatted without the time zone database.
  EXPECT_THAT(FormatExitJson(0, 0, false, 951782400000000001),
              ::testing::HasSubstr(R"("end_time":"2000-02-29T00:00:00.000000001+00:00")"));
  EXPECT_THAT(FormatExitJson(0, 0, false, -1),
              ::testing::HasSubstr(R"("end_time":"1969-12-31T23:59:59.999999999+00:00")"));
}

TEST(ReplicaFilesTest, ParseShimSpecRejectsBadShapes) {
  for (const char* text :
       {"{", R"({"argv": "x", "env": []})", R"({"argv": [1], "env": []})", R"({"argv": []})",
        R"({"argv": [], "env": [], "working_dir": 3})", R"({"argv": [], "env": [], "shim": {"pid": "1"}})",
        R"({"argv": [], "env": [], "shim": 3})"}) {
    ShimSpec spec;
    std::string error;
    EXPECT_FALSE(ParseShimSpec(text, &spec, &error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(ReplicaFilesTest, ExitRecordRoundTrips) {
  std::string json = FormatExitJson(3, 9, true, 1767225600123456789);
  EXPECT_EQ(json, R"({"end_time":"2026-01-01T00:00:00.123456789+00:00","exit_code":3,"signal":9,)"
                  R"("stopped_by_kiln":true})"
                  "\n");
  absl::StatusOr<internal::ExitRecord> parsed = internal::ExitRecordFromJson(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->exit_code, 3);
  EXPECT_EQ(parsed->signal, 9);
  EXPECT_TRUE(parsed->stopped_by_kiln);
  EXPECT_EQ(parsed->end_time, absl::FromUnixNanos(1767225600123456789));
  parsed = internal::ExitRecordFromJson(FormatExitJson(0, 0, false, 1767225600000000000));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->end_time, absl::FromUnixSeconds(1767225600));
  EXPECT_FALSE(internal::ExitRecordFromJson(R"({"exit_code": 1})").ok());
}

TEST(ReplicaFilesTest, WriteFileAtomicallyReplacesContent) {
  std::string dir = internal::JoinPath(::testing::TempDir(), "kiln-atomic-XXXXXX");
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  std::string path = internal::JoinPath(dir, "file");
  ASSERT_TRUE(internal::WriteFileAtomically(path, "one", /*durable=*/true).ok());
  ASSERT_TRUE(internal::WriteFileAtomically(path, "two", /*durable=*/false).ok());
  absl::StatusOr<std::string> content = internal::ReadFile(path);
  ASSERT_TRUE(content.ok()) << content.status();
  EXPECT_EQ(*content, "two");
  EXPECT_TRUE(absl::IsNotFound(internal::ReadFile(path + ".tmp").status()));
  ::unlink(path.c_str());
  EXPECT_TRUE(absl::IsNotFound(internal::ReadFile(path).status()));
  ::rmdir(dir.c_str());
}

TEST(ReplicaFilesTest, ReadProcStatDescribesThisProcess) {
  absl::StatusOr<internal::ProcStat> stat = internal::ReadProcStat(::getpid());
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_GT(stat->start_ticks, 0);
  EXPECT_EQ(stat->parent_pid, ::getppid());
  EXPECT_FALSE(stat->zombie);
  EXPECT_TRUE(absl::IsNotFound(internal::ReadProcStat(0).status()));
  EXPECT_FALSE(internal::BootId().empty());
}

TEST(ReplicaFilesTest, JoinPath) {
  EXPECT_EQ(internal::JoinPath("/a", "b"), "/a/b");
  EXPECT_EQ(internal::JoinPath("/a/", "b"), "/a/b");
}

}  // namespace
}  // namespace kiln::runtime
