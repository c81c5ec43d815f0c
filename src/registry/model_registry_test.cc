#include "registry/model_registry.h"

#include <sys/stat.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "registry/registry_test_util.h"
#include "registry/snapshot.h"

namespace kiln::registry {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

class ModelRegistryTest : public RegistryFixture {
 protected:
  ModelRegistry::UploadResult MustUpload(const ModelRegistry::UploadRequest& r) {
    auto result = registry_->Upload(r);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : ModelRegistry::UploadResult{};
  }
  std::string FirstModel() {
    Put("data/out/model.pkl", "weights-1");
    return MustUpload(Request("m", "gs://data/out/")).model.name();
  }
  ModelRegistry::UploadRequest NewVersion(const std::string& model) {
    ModelRegistry::UploadRequest r = Request("m", "gs://data/out/");
    r.parent_model = model;
    return r;
  }
  std::vector<std::string> Aliases(const std::string& name) {
    auto m = registry_->Get(name);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? std::vector<std::string>(m->version_aliases().begin(), m->version_aliases().end())
                  : std::vector<std::string>{};
  }
  bool StagingEmpty() { return fs::is_empty(root_ / "storage/kiln-registry/.staging"); }
};

TEST_F(ModelRegistryTest, FirstUploadGetsDefaultAliasAndAReadOnlySnapshot) {
  Put("data/out/model.pkl", "weights");
  Put("data/out/sub/vocab.txt", "a b c");
  ModelRegistry::UploadRequest r = Request("my model", "gs://data/out/");
  r.training_pipeline = "projects/p/locations/l/trainingPipelines/9";
  r.model.set_name("ignored");
  ModelRegistry::UploadResult got = MustUpload(r);
  EXPECT_EQ(got.version_id, "1");
  EXPECT_EQ(got.model.name(), "projects/p/locations/l/models/1");
  EXPECT_THAT(got.model.version_aliases(), ElementsAre("default"));
  EXPECT_EQ(got.model.training_pipeline(), "projects/p/locations/l/trainingPipelines/9");
  EXPECT_EQ(got.model.artifact_uri(), "gs://kiln-registry/projects/p/locations/l/models/1/versions/1/");
  EXPECT_TRUE(got.model.has_create_time());
  EXPECT_TRUE(got.model.has_version_create_time());
  fs::path snap = Local(got.model.artifact_uri());
  EXPECT_EQ(Read(snap / "model.pkl"), "weights");
  EXPECT_EQ(Read(snap / "sub/vocab.txt"), "a b c");
  struct stat st;
  ASSERT_EQ(stat((snap / "model.pkl").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);

  auto digest = registry_->Digest(got.model.name());
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_THAT(*digest, HasSubstr("sha256:"));
  EXPECT_EQ(*digest, *DigestTree(snap.string()));
  EXPECT_EQ(Read(snap / kDigestFile), *digest + "\n");
  EXPECT_TRUE(StagingEmpty());
}

TEST_F(ModelRegistryTest, SnapshotIsImmuneToLaterWritesOfTheSource) {
  fs::path source = Put("data/out/model.pkl", "weights-1");
  ModelRegistry::UploadResult got = MustUpload(Request("m", "gs://data/out"));
  std::string digest = *registry_->Digest(got.model.name());
  Put("data/out/model.pkl", "weights-2, longer");  // O_TRUNC: same inode
  Put("data/out/new.bin", "x");
  fs::path snap = Local(got.model.artifact_uri());
  EXPECT_EQ(Read(snap / "model.pkl"), "weights-1");
  EXPECT_FALSE(fs::exists(snap / "new.bin"));
  EXPECT_EQ(*DigestTree(snap.string()), digest);
  EXPECT_EQ(*registry_->Digest(got.model.name()), digest);
}

TEST_F(ModelRegistryTest, NewVersionKeepsDefaultOnTheFirst) {
  std::string model = FirstModel();
  ModelRegistry::UploadResult v2 = MustUpload(NewVersion(model));
  EXPECT_EQ(v2.version_id, "2");
  EXPECT_EQ(v2.model.name(), model);
  EXPECT_THAT(v2.model.version_aliases(), IsEmpty());
  EXPECT_EQ(registry_->Get(model)->version_id(), "1");
  EXPECT_EQ(registry_->Get(model + "@2")->version_id(), "2");
  auto versions = registry_->ListVersions({.parent = model});
  ASSERT_TRUE(versions.ok()) << versions.status();
  ASSERT_EQ(versions->models.size(), 2u);
  EXPECT_EQ(versions->models[1].version_id(), "2");
}

TEST_F(ModelRegistryTest, UploadWithDefaultMovesIt) {
  std::string model = FirstModel();
  ModelRegistry::UploadRequest r = NewVersion(model);
  r.model.add_version_aliases("default");
  r.model.add_version_aliases("candidate");
  MustUpload(r);
  EXPECT_EQ(registry_->Get(model)->version_id(), "2");
  EXPECT_THAT(Aliases(model + "@1"), IsEmpty());
  EXPECT_THAT(Aliases(model + "@candidate"), UnorderedElementsAre("default", "candidate"));
}

TEST_F(ModelRegistryTest, AliasesAreUniqueAndMove) {
  std::string model = FirstModel();
  ModelRegistry::UploadRequest r = NewVersion(model);
  r.model.add_version_aliases("prod");
  MustUpload(r);
  EXPECT_EQ(registry_->Get(model + "@prod")->version_id(), "2");
  auto merged = registry_->MergeVersionAliases(model + "@1", {"prod", "golden"});
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_THAT(merged->version_aliases(), UnorderedElementsAre("default", "prod", "golden"));
  EXPECT_THAT(Aliases(model + "@2"), IsEmpty());
  EXPECT_EQ(registry_->Get(model + "@prod")->version_id(), "1");
}

TEST_F(ModelRegistryTest, MergeAddsRemovesAndKeepsDefault) {
  std::string model = FirstModel();
  MustUpload(NewVersion(model));
  ASSERT_TRUE(registry_->MergeVersionAliases(model + "@2", {"a1", "b2"}).ok());
  auto merged = registry_->MergeVersionAliases(model + "@2", {"-a1", "c3", "-c3"});
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_THAT(merged->version_aliases(), ElementsAre("b2"));
  EXPECT_EQ(registry_->MergeVersionAliases(model + "@1", {"-default"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(registry_->MergeVersionAliases(model + "@1", {"Bad"}).status().message(),
              HasSubstr("versionAliases[0]: \"Bad\" must match"));
  // Moving default is allowed; the model then shows the new default.
  ASSERT_TRUE(registry_->MergeVersionAliases(model + "@2", {"default"}).ok());
  EXPECT_EQ(registry_->Get(model)->version_id(), "2");
  EXPECT_THAT(Aliases(model + "@1"), IsEmpty());
  auto listed = registry_->ListModels({.parent = "projects/p/locations/l"});
  ASSERT_EQ(listed->models.size(), 1u);
  EXPECT_EQ(listed->models[0].version_id(), "2");
}

TEST_F(ModelRegistryTest, DeleteVersionRefusesTheDefaultAndRemovesTheSnapshot) {
  std::string model = FirstModel();
  ModelRegistry::UploadResult v2 = MustUpload(NewVersion(model));
  EXPECT_EQ(registry_->DeleteVersion(model + "@1").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->DeleteVersion(model).code(), absl::StatusCode::kInvalidArgument);
  fs::path snap = Local(v2.model.artifact_uri());
  ASSERT_TRUE(fs::exists(snap));
  ASSERT_TRUE(registry_->DeleteVersion(model + "@2").ok());
  EXPECT_FALSE(fs::exists(snap));
  EXPECT_EQ(registry_->Get(model + "@2").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->DeleteVersion(model + "@2").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(MustUpload(NewVersion(model)).version_id, "3");  // ids are never reused
  EXPECT_TRUE(StagingEmpty());
}

TEST_F(ModelRegistryTest, DeleteModelRemovesEverything) {
  Put("data/out/model.pkl", "w");
  ModelRegistry::UploadRequest r = Request("m", "gs://data/out/");
  r.model_id = "my-model";
  std::string model = MustUpload(r).model.name();
  MustUpload(NewVersion(model));
  ASSERT_TRUE(registry_->DeleteModel(model).ok());
  EXPECT_FALSE(fs::exists(root_ / "storage/kiln-registry" / model));
  EXPECT_EQ(registry_->Get(model).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(registry_->ListModels({.parent = "projects/p/locations/l"})->models, IsEmpty());
  EXPECT_EQ(MustUpload(r).version_id, "1");  // the id is free again
  EXPECT_TRUE(StagingEmpty());
}

TEST_F(ModelRegistryTest, IdempotencyKeyReturnsTheSameVersion) {
  std::string model = FirstModel();
  ModelRegistry::UploadRequest r = NewVersion(model);
  r.idempotency_key = "projects/p/locations/l/trainingPipelines/4";
  ModelRegistry::UploadResult first = MustUpload(r);
  ModelRegistry::UploadResult again = MustUpload(r);
  EXPECT_EQ(first.version_id, "2");
  EXPECT_EQ(again.version_id, "2");
  EXPECT_EQ(registry_->ListVersions({.parent = model})->models.size(), 2u);
  EXPECT_TRUE(StagingEmpty());
  ASSERT_TRUE(registry_->DeleteVersion(model + "@2").ok());
  EXPECT_EQ(MustUpload(r).version_id, "3");  // its version was deleted: uploaded anew
  EXPECT_EQ(MustUpload(r).version_id, "3");
}

TEST_F(ModelRegistryTest, FailedUploadsLeaveNothingBehind) {
  auto missing = registry_->Upload(Request("m", "gs://data/none/"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.status().message(), HasSubstr("no model artifacts at gs://data/none/"));
  fs::create_directories(root_ / "storage/data/empty/sub");
  EXPECT_EQ(registry_->Upload(Request("m", "gs://data/empty")).status().code(), absl::StatusCode::kFailedPrecondition);

  Put("data/out/model.pkl", "w");
  auto failed = registry_->Upload(Request("m", "gs://data/out/"),
                                  [](store::Transaction&, const auto&) { return absl::InternalError("hook failed"); });
  EXPECT_EQ(failed.status().message(), "hook failed");
  EXPECT_FALSE(fs::exists(root_ / "storage/kiln-registry/projects"));
  EXPECT_THAT(registry_->ListModels({.parent = "projects/p/locations/l"})->models, IsEmpty());
  EXPECT_TRUE(StagingEmpty());

  ModelRegistry::UploadRequest r = Request("m", "gs://data/out/");
  r.parent_model = "projects/p/locations/l/models/77";
  EXPECT_EQ(registry_->Upload(r).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(StagingEmpty());
}

TEST_F(ModelRegistryTest, ModelIdRules) {
  Put("data/out/model.pkl", "w");
  for (const char* bad : {"1abc", "-abc", "Abc", "a.b", ""}) {
    ModelRegistry::UploadRequest r = Request("m", "gs://data/out/");
    r.model_id = bad;
    if (r.model_id.empty()) r.model_id = std::string(64, 'a');
    auto got = registry_->Upload(r);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(got.status().message(), HasSubstr("modelId:"));
  }
  ModelRegistry::UploadRequest r = Request("m", "gs://data/out/");
  r.model_id = "my_model-2";
  EXPECT_EQ(MustUpload(r).model.name(), "projects/p/locations/l/models/my_model-2");
  EXPECT_EQ(registry_->Upload(r).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(StagingEmpty());
}

TEST_F(ModelRegistryTest, ValidationNamesTheField) {
  EXPECT_EQ(registry_->Upload(Request("", "")).status().message(), "model.displayName: is required");
  ModelRegistry::UploadRequest r = Request("m", "");
  r.model.add_version_aliases("Bad");
  EXPECT_THAT(registry_->Upload(r).status().message(),
              HasSubstr("model.versionAliases[0]: \"Bad\" must match [a-z][a-zA-Z0-9-]{0,126}[a-z0-9]"));
  r = Request("m", "");
  r.parent = "projects/p";
  EXPECT_THAT(registry_->Upload(r).status().message(), HasSubstr("parent:"));
  r = Request("m", "s3://x/y");
  EXPECT_THAT(registry_->Upload(r).status().message(), HasSubstr("model.artifactUri"));
}

TEST_F(ModelRegistryTest, UploadWithoutArtifactsIsAllowed) {
  ModelRegistry::UploadResult got = MustUpload(Request("container only", ""));
  EXPECT_EQ(got.model.artifact_uri(), "");
  EXPECT_EQ(*registry_->Digest(got.model.name()), "");
}

TEST_F(ModelRegistryTest, ListFiltersAndPages) {
  for (const char* name : {"a", "b", "c"}) {
    ModelRegistry::UploadRequest r = Request(name, "");
    (*r.model.mutable_labels())["team"] = std::string(name) == "b" ? "x" : "y";
    MustUpload(r);
    clock_.Advance(absl::Seconds(1));
  }
  auto page = registry_->ListModels({.parent = "projects/p/locations/l", .page_size = 2});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->models.size(), 2u);
  ASSERT_FALSE(page->next_page_token.empty());
  auto next =
      registry_->ListModels({.parent = "projects/p/locations/l", .page_size = 2, .page_token = page->next_page_token});
  ASSERT_EQ(next->models.size(), 1u);
  EXPECT_EQ(next->models[0].display_name(), "c");
  EXPECT_EQ(registry_->ListModels({.parent = "projects/p/locations/l", .filter = "labels.team=y"})->models.size(), 2u);
  EXPECT_EQ(registry_->ListModels({.parent = "projects/p/locations/l", .filter = "display_name=\"b\""})->models.size(),
            1u);
  EXPECT_EQ(
      registry_->ListModels({.parent = "projects/p/locations/l", .filter = "create_time>\"2026-01-01T00:00:00Z\""})
          ->models.size(),
      2u);
  EXPECT_EQ(registry_->ListModels({.parent = "projects/p/locations/l", .filter = "nope=1"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->ListVersions({.parent = "projects/p/locations/l/models/99"}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ModelRegistryTest, UpdateModelAndVersion) {
  std::string model = FirstModel();
  MustUpload(NewVersion(model));
  google::cloud::aiplatform::v1::Model m;
  m.set_name(model);
  m.set_display_name("renamed");
  (*m.mutable_labels())["k"] = "v";
  google::protobuf::FieldMask mask;
  mask.add_paths("display_name");
  mask.add_paths("labels");
  auto updated = registry_->UpdateModel(m, mask);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->display_name(), "renamed");
  EXPECT_EQ(updated->labels().at("k"), "v");
  EXPECT_EQ(registry_->Get(model + "@2")->display_name(), "renamed");  // model-level
  EXPECT_TRUE(registry_->Get(model + "@2")->labels().empty());         // version-level
  m.set_name(model + "@2");
  m.set_version_description("second");
  mask.Clear();
  mask.add_paths("version_description");
  EXPECT_EQ(registry_->UpdateModel(m, mask)->version_description(), "second");
  mask.add_paths("display_name");
  EXPECT_EQ(registry_->UpdateModel(m, mask).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::registry
