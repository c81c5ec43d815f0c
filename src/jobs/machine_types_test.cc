#include "jobs/machine_types.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::jobs {
namespace {

using ::testing::HasSubstr;

TEST(MachineTypesTest, GeneralPurposeShapes) {
  absl::StatusOr<MachineShape> shape = LookupMachineType("n1-standard-4");
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->name, "n1-standard-4");
  EXPECT_DOUBLE_EQ(shape->vcpus, 4);
  EXPECT_DOUBLE_EQ(shape->memory_gib, 15);
  EXPECT_EQ(shape->implied_accelerator_count, 0);
  EXPECT_EQ(shape->implied_accelerator_type, "");

  EXPECT_DOUBLE_EQ(LookupMachineType("n1-highmem-2")->memory_gib, 13);
  EXPECT_DOUBLE_EQ(LookupMachineType("n1-highcpu-16")->memory_gib, 14.4);
  EXPECT_DOUBLE_EQ(LookupMachineType("n2-standard-128")->memory_gib, 512);
  EXPECT_DOUBLE_EQ(LookupMachineType("e2-standard-32")->vcpus, 32);
  EXPECT_DOUBLE_EQ(LookupMachineType("c2-standard-60")->memory_gib, 240);
  EXPECT_DOUBLE_EQ(LookupMachineType("n2-highmem-8")->memory_gib, 64);
  EXPECT_EQ(std::string(kDefaultMachineType), "n1-standard-4");
}

TEST(MachineTypesTest, AcceleratorOptimizedShapesImplyGpus) {
  absl::StatusOr<MachineShape> a2 = LookupMachineType("a2-highgpu-2g");
  ASSERT_TRUE(a2.ok());
  EXPECT_DOUBLE_EQ(a2->vcpus, 24);
  EXPECT_DOUBLE_EQ(a2->memory_gib, 170);
  EXPECT_EQ(a2->implied_accelerator_type, "NVIDIA_TESLA_A100");
  EXPECT_EQ(a2->implied_accelerator_count, 2);
  EXPECT_EQ(LookupMachineType("a2-highgpu-8g")->implied_accelerator_count, 8);
  EXPECT_EQ(LookupMachineType("a2-ultragpu-4g")->implied_accelerator_type, "NVIDIA_A100_80GB");
  EXPECT_EQ(LookupMachineType("g2-standard-4")->implied_accelerator_type, "NVIDIA_L4");
  EXPECT_EQ(LookupMachineType("g2-standard-48")->implied_accelerator_count, 4);
}

TEST(MachineTypesTest, UnknownTypeListsKnownOnes) {
  absl::StatusOr<MachineShape> shape = LookupMachineType("n1-standard-3");
  ASSERT_FALSE(shape.ok());
  EXPECT_EQ(shape.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(shape.status().message(), HasSubstr("unknown machine type 'n1-standard-3'; known: n1-standard-4, "
                                                  "n1-standard-8"));
  EXPECT_FALSE(LookupMachineType("N1-STANDARD-4").ok());
  EXPECT_FALSE(LookupMachineType("").ok());
}

TEST(MachineTypesTest, NamesAreUnique) {
  const std::vector<std::string>& names = KnownMachineTypes();
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  for (const std::string& name : names) EXPECT_TRUE(LookupMachineType(name).ok()) << name;
}

}  // namespace
}  // namespace kiln::jobs
