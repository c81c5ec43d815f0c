#include "app/storage_routes.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "app/kiln_app.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/vertex_routes.h"

namespace kiln::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class StorageRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / absl::StrCat("kiln-storage-routes-", getpid(), "-",
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "storage");
    store_ = std::make_unique<storage::ObjectStore>((dir_ / "storage").string());
    auto router = server::BuildVertexRouter();
    ASSERT_TRUE(router.ok()) << router.status();
    api_ = std::make_unique<server::Api>(*std::move(router), std::nullopt);
    ASSERT_TRUE(RegisterStorageRoutes(*api_, store_.get()).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  server::HttpResponse Call(const std::string& method, const std::string& path, const std::string& body = "",
                            server::QueryParams query = {}) {
    server::HttpRequest request;
    request.method = method;
    request.path = path;
    request.query = std::move(query);
    request.body = body;
    return api_->Handle(request);
  }
  static json Json(const server::HttpResponse& response) { return json::parse(response.body); }
  fs::path Local(const std::string& relative) const { return dir_ / "storage" / relative; }

  fs::path dir_;
  std::unique_ptr<storage::ObjectStore> store_;
  std::unique_ptr<server::Api> api_;
};

TEST_F(StorageRoutesTest, PutGetDeleteRoundTrip) {
  std::string bytes("model\0bytes", 11);
  server::HttpResponse put = Call("PUT", "/kiln/v1/storage/my-bucket/models/v1/model.bin", bytes);
  ASSERT_EQ(put.status, 200) << put.body;
  json answer = Json(put);
  EXPECT_EQ(answer["name"], "gs://my-bucket/models/v1/model.bin");
  EXPECT_EQ(answer["size"], 11);
  EXPECT_EQ(answer["sha256"],
            "44ad66c24dd5d6e2500ff3285abc38af94707b6916ce20c07338405ba1de6e14");  // sha256 of the bytes
  EXPECT_TRUE(fs::is_regular_file(Local("my-bucket/models/v1/model.bin")));
  // No temporary files are left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(Local("my-bucket/models/v1")), fs::directory_iterator()), 1);

  server::HttpResponse get = Call("GET", "/kiln/v1/storage/my-bucket/models/v1/model.bin");
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(get.body, bytes);
  EXPECT_EQ(get.content_type, "application/octet-stream");

  // Overwrite.
  ASSERT_EQ(Call("PUT", "/kiln/v1/storage/my-bucket/models/v1/model.bin", "new").status, 200);
  EXPECT_EQ(Call("GET", "/kiln/v1/storage/my-bucket/models/v1/model.bin").body, "new");

  server::HttpResponse del = Call("DELETE", "/kiln/v1/storage/my-bucket/models/v1/model.bin");
  EXPECT_EQ(del.status, 200) << del.body;
  EXPECT_FALSE(fs::exists(Local("my-bucket/models")));  // emptied folders go too
  EXPECT_TRUE(fs::exists(Local("my-bucket")));
  server::HttpResponse gone = Call("GET", "/kiln/v1/storage/my-bucket/models/v1/model.bin");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(Json(gone)["error"]["message"], "No such object: gs://my-bucket/models/v1/model.bin");
  EXPECT_EQ(Call("DELETE", "/kiln/v1/storage/my-bucket/models/v1/model.bin").status, 404);
}

TEST_F(StorageRoutesTest, EmptyObject) {
  ASSERT_EQ(Call("PUT", "/kiln/v1/storage/bkt/empty", "").status, 200);
  server::HttpResponse get = Call("GET", "/kiln/v1/storage/bkt/empty");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "");
}

TEST_F(StorageRoutesTest, FolderIsNotAnObject) {
  ASSERT_EQ(Call("PUT", "/kiln/v1/storage/bkt/a/b/c.txt", "x").status, 200);
  server::HttpResponse get = Call("GET", "/kiln/v1/storage/bkt/a/b");
  EXPECT_EQ(get.status, 400);
  EXPECT_NE(Json(get)["error"]["message"].get<std::string>().find("gs://bkt/a/b is a folder"), std::string::npos)
      << get.body;
  EXPECT_EQ(Call("DELETE", "/kiln/v1/storage/bkt/a/b").status, 400);
  EXPECT_EQ(Call("PUT", "/kiln/v1/storage/bkt/a/b", "x").status, 400);
  // An object where a folder would have to be.
  server::HttpResponse under_object = Call("PUT", "/kiln/v1/storage/bkt/a/b/c.txt/d", "x");
  EXPECT_EQ(under_object.status, 400) << under_object.body;
  EXPECT_EQ(Json(under_object)["error"]["status"], "FAILED_PRECONDITION");
}

TEST_F(StorageRoutesTest, ListWithAndWithoutDelimiter) {
  for (const char* name : {"a/b/x", "a/b/y", "a/b/sub/z", "a/bc", "a/c", "top"}) {
    ASSERT_EQ(Call("PUT", absl::StrCat("/kiln/v1/storage/bkt/", name), name).status, 200);
  }
  server::HttpResponse listed = Call("GET", "/kiln/v1/storage/bkt", "", {{"prefix", "a/b/"}, {"delimiter", "/"}});
  ASSERT_EQ(listed.status, 200) << listed.body;
  json body = Json(listed);
  ASSERT_EQ(body["objects"].size(), 2u) << body;
  EXPECT_EQ(body["objects"][0]["name"], "gs://bkt/a/b/x");
  EXPECT_EQ(body["objects"][0]["size"], 5);
  EXPECT_TRUE(absl::EndsWith(body["objects"][0]["updateTime"].get<std::string>(), "Z")) << body;
  EXPECT_EQ(body["objects"][1]["name"], "gs://bkt/a/b/y");
  EXPECT_EQ(body["prefixes"], json::array({"gs://bkt/a/b/sub/"}));
  EXPECT_EQ(body["truncated"], false);

  // A prefix that is not a whole folder name matches by string prefix.
  body = Json(Call("GET", "/kiln/v1/storage/bkt", "", {{"prefix", "a/b"}, {"delimiter", "/"}}));
  EXPECT_EQ(body["objects"].size(), 1u) << body;
  EXPECT_EQ(body["objects"][0]["name"], "gs://bkt/a/bc");
  EXPECT_EQ(body["prefixes"], json::array({"gs://bkt/a/b/"}));

  // Recursive (no delimiter): every object, in name order.
  body = Json(Call("GET", "/kiln/v1/storage/bkt", "", {{"prefix", "a/"}}));
  std::vector<std::string> names;
  for (const json& o : body["objects"]) names.push_back(o["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"gs://bkt/a/b/sub/z", "gs://bkt/a/b/x", "gs://bkt/a/b/y", "gs://bkt/a/bc",
                                             "gs://bkt/a/c"}));
  EXPECT_TRUE(body["prefixes"].empty());

  // Whole bucket, top level.
  body = Json(Call("GET", "/kiln/v1/storage/bkt", "", {{"delimiter", "/"}}));
  EXPECT_EQ(body["objects"].size(), 1u);
  EXPECT_EQ(body["prefixes"], json::array({"gs://bkt/a/"}));

  // Nothing under the prefix: an empty list.
  body = Json(Call("GET", "/kiln/v1/storage/bkt", "", {{"prefix", "nothing/here/"}}));
  EXPECT_TRUE(body["objects"].empty());

  EXPECT_EQ(Call("GET", "/kiln/v1/storage/nobucket").status, 404);
  EXPECT_EQ(Call("GET", "/kiln/v1/storage/bkt", "", {{"delimiter", ","}}).status, 400);
}

TEST_F(StorageRoutesTest, ListIsCappedWithTruncatedFlag) {
  fs::create_directories(Local("big"));
  for (size_t i = 0; i < kStorageMaxListEntries + 5; ++i) {
    std::ofstream(Local(absl::StrCat("big/f", 100000 + i)));
  }
  json body = Json(Call("GET", "/kiln/v1/storage/big"));
  EXPECT_EQ(body["objects"].size(), kStorageMaxListEntries);
  EXPECT_EQ(body["truncated"], true);
  EXPECT_EQ(body["objects"][0]["name"], "gs://big/f100000");  // the first names are kept
}

TEST_F(StorageRoutesTest, EscapesAreRefused) {
  for (const char* path :
       {"/kiln/v1/storage/bkt/a/../../etc/passwd", "/kiln/v1/storage/bkt/%2e%2e/x", "/kiln/v1/storage/bkt/a/./b"}) {
    for (const char* method : {"GET", "PUT", "DELETE"}) {
      server::HttpResponse response = Call(method, path, "x");
      EXPECT_EQ(response.status, 400) << method << " " << path << ": " << response.body;
      EXPECT_NE(response.body.find("gs://bkt/"), std::string::npos) << response.body;
    }
  }
  EXPECT_EQ(Call("GET", "/kiln/v1/storage/bkt", "", {{"prefix", "../"}}).status, 400);
  EXPECT_EQ(Call("PUT", "/kiln/v1/storage/Bad_Bucket!/x", "x").status, 400);
  // A symlink out of the bucket.
  fs::create_directories(Local("bkt"));
  fs::create_directories(dir_ / "outside");
  std::ofstream(dir_ / "outside" / "secret") << "secret";
  fs::create_symlink(dir_ / "outside", Local("bkt/link"));
  server::HttpResponse through = Call("GET", "/kiln/v1/storage/bkt/link/secret");
  EXPECT_EQ(through.status, 400) << through.body;
  EXPECT_EQ(Call("PUT", "/kiln/v1/storage/bkt/link/new", "x").status, 400);
  EXPECT_FALSE(fs::exists(dir_ / "outside" / "new"));
  json listed = Json(Call("GET", "/kiln/v1/storage/bkt"));
  EXPECT_TRUE(listed["objects"].empty()) << listed;
}

TEST_F(StorageRoutesTest, RegistryBucketIsReadOnly) {
  fs::create_directories(Local("kiln-registry/models/1"));
  std::ofstream(Local("kiln-registry/models/1/model.pkl")) << "weights";
  for (const char* method : {"PUT", "DELETE"}) {
    server::HttpResponse response = Call(method, "/kiln/v1/storage/kiln-registry/models/1/model.pkl", "x");
    EXPECT_EQ(response.status, 403) << method;
    EXPECT_EQ(Json(response)["error"]["status"], "PERMISSION_DENIED");
    EXPECT_NE(response.body.find("managed by the model registry"), std::string::npos) << response.body;
  }
  EXPECT_EQ(Call("GET", "/kiln/v1/storage/kiln-registry/models/1/model.pkl").body, "weights");
  EXPECT_EQ(Json(Call("GET", "/kiln/v1/storage/kiln-registry", "", {{"prefix", "models/"}}))["objects"].size(), 1u);
}

TEST_F(StorageRoutesTest, OtherMethodsAre405) {
  server::HttpResponse response = Call("POST", "/kiln/v1/storage/bkt/x", "x");
  EXPECT_EQ(response.status, 405);
}

// Through KilnApp: the routes are registered, and writes need a read-write token.
TEST(StorageRoutesAppTest, RegisteredByKilnAppWithAuth) {
  fs::path home = fs::temp_directory_path() / absl::StrCat("kiln-storage-app-", getpid());
  fs::remove_all(home);
  auto tokens = server::TokenAuthorizer::LoadYaml(R"(tokens:
  - {token: rw-token-0123456789, projects: [p], access: read-write, name: writer}
  - {token: ro-token-0123456789, projects: ["*"], access: read-only, name: viewer}
)");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  KilnApp::Options options;
  options.home = home.string();
  options.run_jobs = false;
  options.tokens = *std::move(tokens);
  auto kiln = KilnApp::Create(std::move(options));
  ASSERT_TRUE(kiln.ok()) << kiln.status();
  auto call = [&](const std::string& method, const std::string& token) {
    server::HttpRequest request;
    request.method = method;
    request.path = "/kiln/v1/storage/bkt/data/x.csv";
    request.authorization = token.empty() ? "" : absl::StrCat("Bearer ", token);
    request.body = "a,b\n";
    return (*kiln)->api().Handle(request);
  };
  EXPECT_EQ(call("PUT", "").status, 401);
  EXPECT_EQ(call("PUT", "ro-token-0123456789").status, 403);
  EXPECT_EQ(call("PUT", "rw-token-0123456789").status, 200);
  EXPECT_TRUE(fs::is_regular_file(home / "storage" / "bkt" / "data" / "x.csv"));
  server::HttpResponse get = call("GET", "ro-token-0123456789");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "a,b\n");
  kiln->reset();
  fs::remove_all(home);
}

}  // namespace
}  // namespace kiln::app
