#include "service/model_service.h"

#include "gmock/gmock.h"
#include "google/cloud/aiplatform/v1/operation.pb.h"
#include "gtest/gtest.h"
#include "registry/registry_test_util.h"

namespace kiln::service {
namespace {

namespace v1 = google::cloud::aiplatform::v1;
using ::testing::HasSubstr;

class ModelServiceTest : public registry::RegistryFixture {
 protected:
  ModelServiceTest() : operations_(store_.get()), models_(registry_.get(), &operations_, &clock_) {}

  v1::UploadModelRequest Upload(const std::string& parent_model = "") {
    v1::UploadModelRequest r;
    r.set_parent("projects/p/locations/l");
    r.set_parent_model(parent_model);
    r.mutable_model()->set_display_name("m");
    r.mutable_model()->set_artifact_uri("gs://data/out/");
    return r;
  }

  OperationsService operations_;
  ModelService models_;
};

TEST_F(ModelServiceTest, UploadReturnsADoneOperationWithTheVersion) {
  Put("data/out/model.pkl", "w");
  auto op = models_.UploadModel(Upload());
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_TRUE(op->done());
  EXPECT_THAT(op->name(), HasSubstr("projects/p/locations/l/models/1/operations/"));
  v1::UploadModelResponse response;
  ASSERT_TRUE(op->response().UnpackTo(&response));
  EXPECT_EQ(response.model(), "projects/p/locations/l/models/1");
  EXPECT_EQ(response.model_version_id(), "1");
  v1::UploadModelOperationMetadata metadata;
  ASSERT_TRUE(op->metadata().UnpackTo(&metadata));
  EXPECT_TRUE(metadata.generic_metadata().has_create_time());

  google::longrunning::GetOperationRequest get;
  get.set_name(op->name());
  EXPECT_TRUE(operations_.Get(get).ok());

  auto v2 = models_.UploadModel(Upload("projects/p/locations/l/models/1"));
  ASSERT_TRUE(v2.ok()) << v2.status();
  ASSERT_TRUE(v2->response().UnpackTo(&response));
  EXPECT_EQ(response.model_version_id(), "2");
  v1::ListModelVersionsRequest list;
  list.set_name("projects/p/locations/l/models/1");
  list.mutable_read_mask()->add_paths("version_id");
  auto versions = models_.ListModelVersions(list);
  ASSERT_TRUE(versions.ok()) << versions.status();
  ASSERT_EQ(versions->models_size(), 2);
  EXPECT_EQ(versions->models(1).version_id(), "2");
  EXPECT_EQ(versions->models(1).display_name(), "");  // trimmed by the read mask
}

TEST_F(ModelServiceTest, ErrorsNameTheField) {
  v1::UploadModelRequest r = Upload();
  r.clear_model();
  EXPECT_EQ(models_.UploadModel(r).status().message(), "model: is required");
  r = Upload();
  r.mutable_model()->clear_display_name();
  EXPECT_EQ(models_.UploadModel(r).status().message(), "model.displayName: is required");
  EXPECT_EQ(models_.UploadModel(Upload()).status().code(), absl::StatusCode::kFailedPrecondition);
  v1::ListModelsRequest list;
  list.set_parent("projects/p/locations/l");
  list.set_order_by("display_name");
  EXPECT_THAT(models_.ListModels(list).status().message(), HasSubstr("orderBy"));
}

TEST_F(ModelServiceTest, DeleteVersionAndModelAreOperations) {
  Put("data/out/model.pkl", "w");
  ASSERT_TRUE(models_.UploadModel(Upload()).ok());
  ASSERT_TRUE(models_.UploadModel(Upload("projects/p/locations/l/models/1")).ok());
  v1::DeleteModelVersionRequest del_default;
  del_default.set_name("projects/p/locations/l/models/1@default");
  EXPECT_EQ(models_.DeleteModelVersion(del_default).status().code(), absl::StatusCode::kFailedPrecondition);
  v1::MergeVersionAliasesRequest merge;
  merge.set_name("projects/p/locations/l/models/1@2");
  merge.add_version_aliases("default");
  ASSERT_TRUE(models_.MergeVersionAliases(merge).ok());
  v1::DeleteModelVersionRequest del_v1;
  del_v1.set_name("projects/p/locations/l/models/1@1");
  auto op = models_.DeleteModelVersion(del_v1);
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_THAT(op->name(), HasSubstr("projects/p/locations/l/operations/"));
  v1::DeleteModelRequest del_model;
  del_model.set_name("projects/p/locations/l/models/1");
  ASSERT_TRUE(models_.DeleteModel(del_model).ok());
  v1::GetModelRequest get;
  get.set_name("projects/p/locations/l/models/1");
  EXPECT_EQ(models_.GetModel(get).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace kiln::service
