#include "common/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <type_traits>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace kiln {
namespace {

static_assert(!std::is_copy_constructible_v<UniqueFd>);
static_assert(!std::is_copy_assignable_v<UniqueFd>);
static_assert(std::is_nothrow_move_constructible_v<UniqueFd>);
static_assert(std::is_nothrow_move_assignable_v<UniqueFd>);

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

int OpenDevNull() {
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  return fd;
}

TEST(UniqueFdTest, DefaultAndNegativeHoldNothing) {
  UniqueFd none;
  EXPECT_EQ(none.get(), -1);
  EXPECT_FALSE(none.valid());
  EXPECT_FALSE(static_cast<bool>(none));
  UniqueFd failed_open(-5);
  EXPECT_EQ(failed_open.get(), -1);
  EXPECT_EQ(failed_open.Close(), 0);
}

TEST(UniqueFdTest, ClosesOnDestruction) {
  int fd = OpenDevNull();
  {
    UniqueFd owner(fd);
    EXPECT_EQ(owner.get(), fd);
    EXPECT_TRUE(owner.valid());
    EXPECT_TRUE(IsOpen(fd));
  }
  EXPECT_FALSE(IsOpen(fd));
}

TEST(UniqueFdTest, ReleaseGivesUpOwnershipWithoutClosing) {
  int fd = OpenDevNull();
  {
    UniqueFd owner(fd);
    EXPECT_EQ(owner.release(), fd);
    EXPECT_EQ(owner.get(), -1);
  }
  EXPECT_TRUE(IsOpen(fd));
  ::close(fd);
}

TEST(UniqueFdTest, ResetClosesTheOldAndTakesTheNew) {
  int first = OpenDevNull();
  int second = OpenDevNull();
  UniqueFd owner(first);
  owner.reset(second);
  EXPECT_FALSE(IsOpen(first));
  EXPECT_EQ(owner.get(), second);
  owner.reset(second);  // the same descriptor again: kept open
  EXPECT_TRUE(IsOpen(second));
  owner.reset();
  EXPECT_FALSE(IsOpen(second));
  EXPECT_EQ(owner.get(), -1);
}

TEST(UniqueFdTest, MovesTransferOwnership) {
  int first = OpenDevNull();
  int second = OpenDevNull();
  UniqueFd a(first);
  UniqueFd b(std::move(a));
  EXPECT_EQ(a.get(), -1);  // NOLINT(bugprone-use-after-move): moved-from is specified as empty
  EXPECT_EQ(b.get(), first);

  UniqueFd c(second);
  c = std::move(b);  // closes what c held
  EXPECT_FALSE(IsOpen(second));
  EXPECT_EQ(c.get(), first);
  EXPECT_EQ(b.get(), -1);  // NOLINT(bugprone-use-after-move)

  UniqueFd& alias = c;
  c = std::move(alias);  // self-move keeps it
  EXPECT_EQ(c.get(), first);
  EXPECT_TRUE(IsOpen(first));

  std::vector<UniqueFd> many;
  many.push_back(std::move(c));
  many.emplace_back(OpenDevNull());
  int last = many.back().get();
  many.clear();
  EXPECT_FALSE(IsOpen(first));
  EXPECT_FALSE(IsOpen(last));
}

TEST(UniqueFdTest, CloseReportsTheResultAndReleases) {
  int fd = OpenDevNull();
  UniqueFd owner(fd);
  EXPECT_EQ(owner.Close(), 0);
  EXPECT_EQ(owner.get(), -1);
  EXPECT_FALSE(IsOpen(fd));

  // A number that is not open: close(2) fails with EBADF, and Close says so.
  UniqueFd stale(fd);
  errno = 0;
  EXPECT_EQ(stale.Close(), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(stale.get(), -1);
}

TEST(UniqueFdTest, ClosingKeepsErrno) {
  UniqueFd owner(OpenDevNull());
  errno = ENOENT;
  owner.reset();
  EXPECT_EQ(errno, ENOENT);
  {
    UniqueFd scoped(OpenDevNull());
    errno = EACCES;
  }
  EXPECT_EQ(errno, EACCES);
}

}  // namespace
}  // namespace kiln
