#include "app/config.h"

#include "gtest/gtest.h"

namespace kiln::app {
namespace {

TEST(ConfigTest, ParsesEverySection) {
  auto config = ParseConfig(R"(
accelerators:
  NVIDIA_TESLA_T4: ["0", "1"]
  NVIDIA_L4: "2"
overcommit: {cpu: 2, memory: 0}
images:
  - pattern: "registry.example.com/trainer:*"
    path_prefix: ["/opt/trainer/bin"]
    working_dir: /opt/trainer
    entrypoint: ["python3", "-m", "trainer.task"]
    python: /usr/bin/python3
tensorflow_available: true
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->accelerators.at("NVIDIA_TESLA_T4"), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(config->accelerators.at("NVIDIA_L4"), (std::vector<std::string>{"2"}));
  EXPECT_EQ(config->overcommit.cpu, 2);
  EXPECT_EQ(config->overcommit.memory, 0);
  ASSERT_EQ(config->images.size(), 1u);
  EXPECT_EQ(config->images[0].entrypoint.size(), 3u);
  EXPECT_TRUE(config->tensorflow_available);
}

TEST(ConfigTest, EmptyMeansDefaults) {
  auto config = ParseConfig("");
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->accelerators.empty());
  EXPECT_EQ(config->overcommit.cpu, 8);
}

TEST(ConfigTest, ErrorsNameTheKey) {
  EXPECT_EQ(ParseConfig("acelerators: {}").status().message(),
            "acelerators: unknown key; known: accelerators, images, overcommit, tensorflow_available");
  EXPECT_EQ(ParseConfig("accelerators: {GTX_1080: [\"0\"]}").status().message(),
            "accelerators.GTX_1080: not a Vertex AcceleratorType (e.g. NVIDIA_TESLA_T4, NVIDIA_L4)");
  EXPECT_EQ(ParseConfig("accelerators: {NVIDIA_TESLA_T4: [\"0\"], NVIDIA_L4: [\"0\"]}").status().message(),
            "accelerators.NVIDIA_L4: device id 0 is listed twice");
  EXPECT_EQ(ParseConfig("overcommit: {cpu: -1}").status().message(), "overcommit: factors must be ≥ 0 (0 = unlimited)");
  EXPECT_EQ(ParseConfig("images: [{path_prefix: [/x]}]").status().message(), "images[0].pattern: is required");
  EXPECT_EQ(ParseConfig("images: [{pattern: x, entry: [a]}]").status().message(),
            "images[0].entry: unknown key; known: entrypoint, path_prefix, pattern, python, working_dir");
  EXPECT_FALSE(ParseConfig("[1, 2]").ok());
  EXPECT_EQ(LoadConfigFile("/nonexistent/kiln.yaml").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace kiln::app
