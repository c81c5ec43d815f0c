#include "jobs/image_map.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::jobs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(GlobMatchTest, Stars) {
  EXPECT_TRUE(GlobMatch("abc", "abc"));
  EXPECT_FALSE(GlobMatch("abc", "abcd"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a*", "a/b:c"));
  EXPECT_TRUE(GlobMatch("*-docker.pkg.dev/x/*", "us-docker.pkg.dev/x/y:1"));
  EXPECT_FALSE(GlobMatch("*-docker.pkg.dev/x/*", "docker.pkg.dev/x/y"));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "aXbYbZ"));
  EXPECT_TRUE(GlobMatch("**a", "ba"));
}

TEST(ImageMapTest, PrebuiltVertexImagesMapToSystemPython) {
  ImageMap images;
  for (const char* uri : {"us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest",
                          "europe-docker.pkg.dev/vertex-ai/training/pytorch-gpu.1-13:latest",
                          "us-docker.pkg.dev/vertex-ai/training/xgboost-cpu.1-1:latest",
                          "us-docker.pkg.dev/vertex-ai/training/scikit-learn-cpu.0-23:latest",
                          "gcr.io/cloud-aiplatform/training/pytorch-xla.1-11:latest",
                          "eu.gcr.io/cloud-aiplatform/training/scikit-learn-cpu.0-23:latest"}) {
    absl::StatusOr<ImageRuntime> runtime = images.Resolve(uri);
    ASSERT_TRUE(runtime.ok()) << uri << ": " << runtime.status();
    EXPECT_TRUE(runtime->builtin);
    EXPECT_EQ(runtime->image_uri, uri);
    EXPECT_EQ(runtime->python, "/usr/bin/python3");
    EXPECT_THAT(runtime->path_prefix, ElementsAre("/usr/bin", "/bin"));
    EXPECT_THAT(runtime->entrypoint, IsEmpty());
    EXPECT_EQ(runtime->working_dir, "");
  }
}

TEST(ImageMapTest, UnknownImagesAreNotFound) {
  ImageMap images;
  absl::StatusOr<ImageRuntime> runtime = images.Resolve("docker.io/library/ubuntu:22.04");
  ASSERT_FALSE(runtime.ok());
  EXPECT_EQ(runtime.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(runtime.status().message(),
              HasSubstr("image 'docker.io/library/ubuntu:22.04' maps to no local runtime; add "
                        "an image map entry"));
  EXPECT_FALSE(images.Resolve("").ok());
}

TEST(ImageMapTest, UserEntriesComeBeforeDefaults) {
  ImageMap images({{.pattern = "us-docker.pkg.dev/vertex-ai/training/pytorch-*",
                    .path_prefix = {"/opt/torch/bin"},
                    .working_dir = "/opt/torch",
                    .entrypoint = {"python", "-u"},
                    .python = "/opt/torch/bin/python"},
                   {.pattern = "*", .entrypoint = {"never"}}});
  absl::StatusOr<ImageRuntime> torch = images.Resolve("us-docker.pkg.dev/vertex-ai/training/pytorch-gpu.2-0:latest");
  ASSERT_TRUE(torch.ok());
  EXPECT_FALSE(torch->builtin);
  EXPECT_EQ(torch->pattern, "us-docker.pkg.dev/vertex-ai/training/pytorch-*");
  EXPECT_THAT(torch->path_prefix, ElementsAre("/opt/torch/bin"));
  EXPECT_EQ(torch->working_dir, "/opt/torch");
  EXPECT_THAT(torch->entrypoint, ElementsAre("python", "-u"));
  EXPECT_EQ(torch->python, "/opt/torch/bin/python");
  // The catch-all user entry wins over the built-in sklearn default too.
  absl::StatusOr<ImageRuntime> sklearn = images.Resolve("us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest");
  ASSERT_TRUE(sklearn.ok());
  EXPECT_EQ(sklearn->pattern, "*");
  EXPECT_THAT(sklearn->entrypoint, ElementsAre("never"));
}

TEST(ImageMapTest, TensorFlowImagesNeedTensorFlow) {
  const char* uris[] = {"us-docker.pkg.dev/vertex-ai/training/tf-cpu.2-12.py310:latest",
                        "us-docker.pkg.dev/vertex-ai/training/tf-gpu.2-12.py310:latest",
                        "gcr.io/cloud-aiplatform/training/tf2-cpu.2-8:latest"};
  ImageMap without;
  for (const char* uri : uris) {
    absl::StatusOr<ImageRuntime> runtime = without.Resolve(uri);
    ASSERT_FALSE(runtime.ok()) << uri;
    EXPECT_EQ(runtime.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(runtime.status().message(),
                HasSubstr("TensorFlow images need a TensorFlow installation; Debian has none: "
                          "install one"));
    EXPECT_THAT(runtime.status().message(), HasSubstr("tensorflow_available"));
    EXPECT_THAT(runtime.status().message(), HasSubstr("custom image map entry"));
  }
  ImageMap with({}, {.tensorflow_available = true});
  for (const char* uri : uris) {
    absl::StatusOr<ImageRuntime> runtime = with.Resolve(uri);
    ASSERT_TRUE(runtime.ok()) << uri;
    EXPECT_EQ(runtime->python, "/usr/bin/python3");
  }
  // A user entry makes a TensorFlow image usable without the flag.
  ImageMap custom(std::vector<ImageMapEntry>{{.pattern = "*/tf-cpu*", .python = "/opt/tf/bin/python"}});
  EXPECT_EQ(custom.Resolve(uris[0])->python, "/opt/tf/bin/python");
}

}  // namespace
}  // namespace kiln::jobs
