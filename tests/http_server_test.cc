// The HTTP wiring over a real loopback socket: routing through httplib, the raw query,
// the body cap and Google's error JSON for errors httplib raises itself.
#include "server/http_server.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "app/kiln_app.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace kiln {
namespace {

namespace fs = std::filesystem;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() / absl::StrCat("kiln-http-", getpid());
    fs::remove_all(home_);
    app::KilnApp::Options options;
    options.home = home_.string();
    options.run_jobs = false;  // the API alone
    auto kiln = app::KilnApp::Create(std::move(options));
    ASSERT_TRUE(kiln.ok()) << kiln.status();
    kiln_ = *std::move(kiln);
    server_ = std::make_unique<server::HttpServer>(&kiln_->api());
    server::HttpServer::Options http;
    http.port = 0;
    http.max_body_bytes = 4096;
    auto port = server_->Start(http);
    ASSERT_TRUE(port.ok()) << port.status();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
    client_->set_connection_timeout(5);
    client_->set_read_timeout(10);
  }
  void TearDown() override {
    server_->Stop();
    fs::remove_all(home_);
  }

  fs::path home_;
  std::unique_ptr<app::KilnApp> kiln_;
  std::unique_ptr<server::HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpServerTest, CreateAndListOverTheWireWithIntegerEnums) {
  auto created = client_->Post(
      "/v1/projects/p/locations/us-central1/customJobs?alt=json",
      R"({"displayName":"w","jobSpec":{"workerPoolSpecs":[{"replicaCount":"1","containerSpec":{"imageUri":"us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest","command":["true"]}}]}})",
      "application/json");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 200) << created->body;
  auto listed = client_->Get("/v1/projects/p/locations/us-central1/customJobs?%24alt=json%3Benum-encoding%3Dint");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  auto body = nlohmann::json::parse(listed->body);
  EXPECT_EQ(body["customJobs"][0]["state"], 1);
  EXPECT_EQ(listed->get_header_value("Content-Type"), "application/json; charset=UTF-8");
}

TEST_F(HttpServerTest, FormEncodedContentTypeStillReadsTheBodyAsJson) {
  // curl -d without -H sends application/x-www-form-urlencoded; the body is still the JSON request.
  auto res =
      client_->Post("/v1/projects/p/locations/us-central1/customJobs?alt=json",
                    R"({"displayName":"form","jobSpec":{"workerPoolSpecs":[{"replicaCount":"1",)"
                    R"("containerSpec":{"imageUri":"us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest",)"
                    R"("command":["true"]}}]}})",
                    "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

TEST_F(HttpServerTest, OversizedBodyGetsGoogleErrorJson) {
  std::string big = absl::StrCat(R"({"displayName":")", std::string(8192, 'x'), R"("})");
  auto res = client_->Post("/v1/projects/p/locations/us-central1/customJobs", big, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  auto body = nlohmann::json::parse(res->body);
  EXPECT_EQ(body["error"]["code"], 413);
  EXPECT_EQ(body["error"]["status"], "INVALID_ARGUMENT");
  EXPECT_EQ(body["error"]["message"], "Request body exceeds the limit of 4096 bytes.");
}

TEST_F(HttpServerTest, PercentEncodedPathSegmentsAreDecodedBeforeRouting) {
  auto res = client_->Get("/v1/projects/p/locations/us-central1/customJobs/%39%39");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_NE(res->body.find("customJobs/99 not found"), std::string::npos) << res->body;
}

}  // namespace
}  // namespace kiln
