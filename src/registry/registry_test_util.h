#ifndef KILN_REGISTRY_REGISTRY_TEST_UTIL_H_
#define KILN_REGISTRY_REGISTRY_TEST_UTIL_H_

// A registry over an in-memory store and a temporary storage root, for tests.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "registry/model_registry.h"
#include "storage/object_store.h"
#include "store/store.h"

namespace kiln::registry {

class RegistryFixture : public ::testing::Test {
 protected:
  RegistryFixture() {
    root_ = std::filesystem::temp_directory_path() /
            absl::StrCat("kiln-registry-test-", getpid(), "-",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "storage");
    objects_ = std::make_unique<storage::ObjectStore>((root_ / "storage").string());
    auto store = store::Store::Open(":memory:");
    EXPECT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    registry_ = std::make_unique<ModelRegistry>(store_.get(), objects_.get(), &clock_);
  }
  ~RegistryFixture() override { std::filesystem::remove_all(root_); }

  // Writes gs://<object> (relative to the storage root) with `content`.
  std::filesystem::path Put(const std::string& object, const std::string& content) {
    std::filesystem::path p = root_ / "storage" / object;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::trunc) << content;  // in place: keeps the inode, as a retrained run might
    return p;
  }
  static std::string Read(const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::filesystem::path Local(const std::string& gs_uri) const {
    return root_ / "storage" / gs_uri.substr(5);  // "gs://" + bucket/object
  }

  ModelRegistry::UploadRequest Request(const std::string& display_name, const std::string& artifact_uri) const {
    ModelRegistry::UploadRequest r;
    r.parent = "projects/p/locations/l";
    r.model.set_display_name(display_name);
    r.model.set_artifact_uri(artifact_uri);
    return r;
  }

  std::filesystem::path root_;
  FakeClock clock_;
  std::unique_ptr<storage::ObjectStore> objects_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ModelRegistry> registry_;
};

}  // namespace kiln::registry

#endif  // KILN_REGISTRY_REGISTRY_TEST_UTIL_H_
