#include "client/storage_verbs.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/client_test_util.h"
#include "client/command_support.h"
#include "client/storage_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::client {
namespace {

namespace fs = std::filesystem;
using ::nlohmann::json;
using ::testing::HasSubstr;

// A fake kiln with the storage routes over an in-memory map "bucket/object" → bytes.
class StorageVerbsTest : public ::testing::Test {
 protected:
  StorageVerbsTest()
      : server_([this](httplib::Server& s) {
          s.Put(R"(/kiln/v1/storage/([^/]+)/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard<std::mutex> lock(mu_);
            authorizations_.insert(req.get_header_value("Authorization"));
            if (req.matches[1] == "kiln-registry") {
              ReplyJson(
                  res,
                  R"({"error":{"code":403,"message":"managed by the model registry","status":"PERMISSION_DENIED"}})",
                  403);
              return;
            }
            objects_[absl::StrCat(req.matches[1].str(), "/", req.matches[2].str())] = req.body;
            ReplyJson(res, json{{"name", absl::StrCat("gs://", req.matches[1].str(), "/", req.matches[2].str())},
                                {"size", req.body.size()}}
                               .dump());
          });
          s.Get(R"(/kiln/v1/storage/([^/]+)/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard<std::mutex> lock(mu_);
            auto it = objects_.find(absl::StrCat(req.matches[1].str(), "/", req.matches[2].str()));
            if (it == objects_.end()) {
              ReplyJson(res, R"({"error":{"code":404,"message":"No such object","status":"NOT_FOUND"}})", 404);
              return;
            }
            res.set_content(it->second, "application/octet-stream");
          });
          s.Delete(R"(/kiln/v1/storage/([^/]+)/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard<std::mutex> lock(mu_);
            if (objects_.erase(absl::StrCat(req.matches[1].str(), "/", req.matches[2].str())) == 0) {
              ReplyJson(res, R"({"error":{"code":404,"message":"No such object: x","status":"NOT_FOUND"}})", 404);
              return;
            }
            ReplyJson(res, "{}");
          });
          s.Get(R"(/kiln/v1/storage/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard<std::mutex> lock(mu_);
            const std::string bucket = req.matches[1];
            const std::string prefix = req.get_param_value("prefix");
            const bool delimited = req.get_param_value("delimiter") == "/";
            json objects = json::array();
            std::set<std::string> prefixes;
            bool bucket_exists = false;
            for (const auto& [key, bytes] : objects_) {
              if (!absl::StartsWith(key, bucket + "/")) continue;
              bucket_exists = true;
              std::string object = key.substr(bucket.size() + 1);
              if (!absl::StartsWith(object, prefix)) continue;
              size_t slash = object.find('/', prefix.size());
              if (delimited && slash != std::string::npos) {
                prefixes.insert(absl::StrCat("gs://", bucket, "/", object.substr(0, slash + 1)));
              } else {
                objects.push_back({{"name", absl::StrCat("gs://", key)},
                                   {"size", bytes.size()},
                                   {"updateTime", "2024-05-01T10:00:00Z"}});
              }
            }
            if (!bucket_exists) {
              ReplyJson(res, R"({"error":{"code":404,"message":"The bucket does not exist","status":"NOT_FOUND"}})",
                        404);
              return;
            }
            ReplyJson(res, json{{"objects", objects}, {"prefixes", prefixes}, {"truncated", false}}.dump());
          });
        }) {}

  void SetUp() override {
    ASSERT_TRUE(server_.ok());
    dir_ = fs::path(env_.dir()) / "work";
    fs::create_directories(dir_);
    setenv("KILN_TOKEN", "secret-token-0123456789", 1);
  }

  ConfigFlags Flags() const {
    ConfigFlags flags;
    flags.endpoint = server_.endpoint();
    return flags;
  }
  std::string Local(const std::string& relative) const { return (dir_ / relative).string(); }
  void WriteLocal(const std::string& relative, const std::string& text) {
    fs::create_directories(fs::path(Local(relative)).parent_path());
    std::ofstream(Local(relative), std::ios::binary) << text;
  }
  static std::string ReadLocal(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  std::map<std::string, std::string> Objects() {
    std::lock_guard<std::mutex> lock(mu_);
    return objects_;
  }
  void Put(const std::string& key, const std::string& bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    objects_[key] = bytes;
  }
  void Reset() {
    out_.str("");
    err_.str("");
  }

  ScopedClientEnv env_;
  std::mutex mu_;
  std::map<std::string, std::string> objects_;
  std::set<std::string> authorizations_;
  FakeServer server_;
  fs::path dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(StorageVerbsTest, CopyLocalFileUp) {
  WriteLocal("model.bin", std::string("ab\0cd", 5));
  EXPECT_EQ(RunStorageCopy(Flags(), Local("model.bin"), "gs://bkt/models/", false, out_, err_), kExitOk) << err_.str();
  EXPECT_EQ(RunStorageCopy(Flags(), Local("model.bin"), "gs://bkt/renamed.bin", false, out_, err_), kExitOk);
  EXPECT_EQ(RunStorageCopy(Flags(), Local("model.bin"), "gs://other", false, out_, err_), kExitOk);
  auto objects = Objects();
  EXPECT_EQ(objects["bkt/models/model.bin"], std::string("ab\0cd", 5));
  EXPECT_TRUE(objects.count("bkt/renamed.bin"));
  EXPECT_TRUE(objects.count("other/model.bin"));
  EXPECT_THAT(err_.str(), HasSubstr(absl::StrCat("Copying ", Local("model.bin"), " to gs://bkt/models/model.bin")));
  EXPECT_EQ(authorizations_, std::set<std::string>{"Bearer secret-token-0123456789"});
}

TEST_F(StorageVerbsTest, CopyLocalFolderUpRecursively) {
  WriteLocal("run/a.txt", "a");
  WriteLocal("run/sub/b.txt", "b");
  EXPECT_EQ(RunStorageCopy(Flags(), Local("run"), "gs://bkt/out/", false, out_, err_), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("ERROR: (kiln.storage.cp) INVALID_ARGUMENT: "));
  EXPECT_THAT(err_.str(), HasSubstr("is a folder; copy it with -r"));
  EXPECT_EQ(RunStorageCopy(Flags(), Local("run"), "gs://bkt/out/", true, out_, err_), kExitOk) << err_.str();
  EXPECT_EQ(RunStorageCopy(Flags(), Local("run/"), "gs://bkt/renamed", true, out_, err_), kExitOk) << err_.str();
  auto objects = Objects();
  EXPECT_EQ(objects["bkt/out/run/a.txt"], "a");
  EXPECT_EQ(objects["bkt/out/run/sub/b.txt"], "b");
  EXPECT_EQ(objects["bkt/renamed/a.txt"], "a");
  EXPECT_EQ(objects["bkt/renamed/sub/b.txt"], "b");
}

TEST_F(StorageVerbsTest, CopyDownAndBetweenBuckets) {
  Put("bkt/data/x.csv", "1,2\n");
  Put("bkt/data/deep/y.csv", "3,4\n");
  EXPECT_EQ(RunStorageCopy(Flags(), "gs://bkt/data/x.csv", Local("x-copy.csv"), false, out_, err_), kExitOk)
      << err_.str();
  EXPECT_EQ(ReadLocal(Local("x-copy.csv")), "1,2\n");
  fs::create_directories(Local("into"));
  EXPECT_EQ(RunStorageCopy(Flags(), "gs://bkt/data/x.csv", Local("into"), false, out_, err_), kExitOk);
  EXPECT_EQ(ReadLocal(Local("into/x.csv")), "1,2\n");
  EXPECT_EQ(RunStorageCopy(Flags(), "gs://bkt/data", Local("tree/"), true, out_, err_), kExitOk) << err_.str();
  EXPECT_EQ(ReadLocal(Local("tree/data/deep/y.csv")), "3,4\n");
  EXPECT_EQ(RunStorageCopy(Flags(), "gs://bkt/data/", Local("flat"), true, out_, err_), kExitOk) << err_.str();
  EXPECT_EQ(ReadLocal(Local("flat/x.csv")), "1,2\n");
  EXPECT_EQ(RunStorageCopy(Flags(), "gs://bkt/data/", "gs://copy/backup/", true, out_, err_), kExitOk);
  EXPECT_EQ(RunStorageCopy(Flags(), "gs://bkt/data/x.csv", "gs://copy/one.csv", false, out_, err_), kExitOk);
  auto objects = Objects();
  EXPECT_EQ(objects["copy/backup/data/deep/y.csv"], "3,4\n");
  EXPECT_EQ(objects["copy/one.csv"], "1,2\n");
  // -r on a single object copies that object.
  EXPECT_EQ(RunStorageCopy(Flags(), "gs://bkt/data/x.csv", Local("single.csv"), true, out_, err_), kExitOk);
  EXPECT_EQ(ReadLocal(Local("single.csv")), "1,2\n");
}

TEST_F(StorageVerbsTest, CopyErrors) {
  EXPECT_EQ(RunStorageCopy(Flags(), Local("a"), Local("b"), false, out_, err_), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("one of SRC and DST must be a gs:// URI"));
  Reset();
  EXPECT_EQ(RunStorageCopy(Flags(), Local("missing"), "gs://bkt/", false, out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), HasSubstr("ERROR: (kiln.storage.cp) NOT_FOUND: "));
  Reset();
  EXPECT_EQ(RunStorageCopy(Flags(), "gs://bkt/none", Local("x"), false, out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), HasSubstr("NOT_FOUND: No such object"));
  Reset();
  EXPECT_EQ(RunStorageCopy(Flags(), "gs://bkt/a/../b", Local("x"), false, out_, err_), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("INVALID_ARGUMENT"));
  Reset();
  WriteLocal("w.bin", "w");
  EXPECT_EQ(RunStorageCopy(Flags(), Local("w.bin"), "gs://kiln-registry/x", false, out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), HasSubstr("PERMISSION_DENIED: managed by the model registry"));
  Reset();
  RefusingPort refusing;
  ConfigFlags away;
  away.endpoint = refusing.endpoint();
  EXPECT_EQ(RunStorageCopy(away, Local("w.bin"), "gs://bkt/x", false, out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), HasSubstr("UNAVAILABLE: could not reach the kiln server"));
}

TEST_F(StorageVerbsTest, SpecialCharactersSurviveTheRoundTrip) {
  const std::string name = "odd names/a b?c#d%20e+f&g=h.txt";
  WriteLocal("plain.txt", "odd");
  ASSERT_EQ(RunStorageCopy(Flags(), Local("plain.txt"), "gs://bkt/" + name, false, out_, err_), kExitOk) << err_.str();
  EXPECT_TRUE(Objects().count("bkt/" + name)) << testing::PrintToString(Objects());
  EXPECT_EQ(RunStorageCat(Flags(), "gs://bkt/" + name, out_, err_), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "odd");
  Reset();
  EXPECT_EQ(RunStorageList(Flags(), "gs://bkt/odd names/", false, out_, err_), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("gs://bkt/" + name));
  // A ':' in the last segment cannot be routed; the client says so.
  Reset();
  EXPECT_EQ(RunStorageCopy(Flags(), Local("plain.txt"), "gs://bkt/ckpt:1", false, out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), HasSubstr("contains ':'"));
}

TEST_F(StorageVerbsTest, ListTableAndFormats) {
  Put("bkt/a/x", "12345");
  Put("bkt/a/sub/y", "1");
  Put("bkt/top", "");
  ASSERT_EQ(RunStorageList(Flags(), "gs://bkt/a", false, out_, err_), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(),
            "SIZE  UPDATED               NAME\n"
            "                            gs://bkt/a/sub/\n"
            "5     2024-05-01T10:00:00Z  gs://bkt/a/x\n");
  Reset();
  ASSERT_EQ(RunStorageList(Flags(), "gs://bkt", true, out_, err_), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("gs://bkt/a/sub/y"));
  EXPECT_THAT(out_.str(), HasSubstr("gs://bkt/top"));
  Reset();
  ConfigFlags flags = Flags();
  flags.format = "json";
  ASSERT_EQ(RunStorageList(flags, "gs://bkt/a/x", false, out_, err_), kExitOk) << err_.str();
  json listed = json::parse(out_.str());
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["name"], "gs://bkt/a/x");
  EXPECT_EQ(listed[0]["size"], 5);
  Reset();
  EXPECT_EQ(RunStorageList(Flags(), "gs://bkt/a/nothing", false, out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), HasSubstr("ERROR: (kiln.storage.ls) NOT_FOUND: One or more URLs matched no objects"));
  Reset();
  EXPECT_EQ(RunStorageList(Flags(), "gs://nobucket", false, out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), HasSubstr("NOT_FOUND"));
  Reset();
  EXPECT_EQ(RunStorageList(Flags(), "/not/a/uri", false, out_, err_), kExitUsage);
}

TEST_F(StorageVerbsTest, CatAndRemove) {
  Put("bkt/a/x", "xx");
  Put("bkt/a/sub/y", "yy");
  Put("bkt/b", "bb");
  EXPECT_EQ(RunStorageCat(Flags(), "gs://bkt/a/x", out_, err_), kExitOk);
  EXPECT_EQ(out_.str(), "xx");
  EXPECT_EQ(RunStorageCat(Flags(), "gs://bkt/a/", out_, err_), kExitApiError);

  EXPECT_EQ(RunStorageRemove(Flags(), "gs://bkt/a", false, out_, err_), kExitApiError);  // a is no object
  EXPECT_EQ(RunStorageRemove(Flags(), "gs://bkt/a/", false, out_, err_), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("remove what it holds with -r"));
  Reset();
  EXPECT_EQ(RunStorageRemove(Flags(), "gs://bkt/a", true, out_, err_), kExitOk) << err_.str();
  EXPECT_THAT(err_.str(), HasSubstr("Removing gs://bkt/a/sub/y"));
  EXPECT_EQ(Objects(), (std::map<std::string, std::string>{{"bkt/b", "bb"}}));
  EXPECT_EQ(RunStorageRemove(Flags(), "gs://bkt/b", false, out_, err_), kExitOk);
  EXPECT_TRUE(Objects().empty());
  Reset();
  EXPECT_EQ(RunStorageRemove(Flags(), "gs://bkt/b", false, out_, err_), kExitApiError);
  EXPECT_THAT(err_.str(), HasSubstr("ERROR: (kiln.storage.rm) NOT_FOUND: "));
}

TEST(GcsUriTest, Parse) {
  auto uri = ParseGcsUri("gs://b/a/c/");
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(uri->bucket, "b");
  EXPECT_EQ(uri->object, "a/c/");
  EXPECT_EQ(uri->ToString(), "gs://b/a/c/");
  EXPECT_EQ(ParseGcsUri("gs://b")->object, "");
  EXPECT_EQ(ParseGcsUri("gs://b/")->ToString(), "gs://b");
  for (const char* bad : {"gs://", "gs:///x", "s3://b/x", "gs://b/a//c", "gs://b/./c", "gs://b/.."}) {
    EXPECT_FALSE(ParseGcsUri(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace kiln::client
