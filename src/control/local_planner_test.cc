#include "control/local_planner.h"

#include <filesystem>
#include <set>

#include "gtest/gtest.h"

namespace kiln::control {
namespace {

int OpenDescriptors() {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)entry;
    ++count;
  }
  return count;
}

TEST(FreeLoopbackPortsTest, DistinctPortsAndNoDescriptorLeft) {
  const int before = OpenDescriptors();
  absl::StatusOr<std::vector<int>> ports = FreeLoopbackPorts(4);
  ASSERT_TRUE(ports.ok()) << ports.status();
  ASSERT_EQ(ports->size(), 4u);
  EXPECT_EQ(std::set<int>(ports->begin(), ports->end()).size(), 4u);
  for (int port : *ports) {
    EXPECT_GT(port, 0);
    EXPECT_LT(port, 65536);
  }
  EXPECT_EQ(OpenDescriptors(), before);  // the probing sockets are closed again
  EXPECT_TRUE(FreeLoopbackPorts(0).value().empty());
}

}  // namespace
}  // namespace kiln::control
