#include "client/api_client.h"

#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/client_test_util.h"
#include "gmock/gmock.h"
#include "google/cloud/aiplatform/v1/job_service.pb.h"
#include "gtest/gtest.h"

namespace kiln::client {
namespace {

using ::nlohmann::json;
using ::testing::HasSubstr;

// What the fake server saw of the last request.
struct Seen {
  std::mutex mu;
  std::string method;
  std::string path;
  std::string authorization;
  std::string content_type;
  std::string body;
  std::string filter;
  std::string page_size;
};

void Record(Seen& seen, const httplib::Request& req) {
  std::lock_guard<std::mutex> lock(seen.mu);
  seen.method = req.method;
  seen.path = req.path;
  seen.authorization = req.get_header_value("Authorization");
  seen.content_type = req.get_header_value("Content-Type");
  seen.body = req.body;
  seen.filter = req.get_param_value("filter");
  seen.page_size = req.get_param_value("pageSize");
}

class ApiClientTest : public ::testing::Test {
 protected:
  ApiClientTest()
      : server_([this](httplib::Server& s) {
          s.Get("/v1/ok", [this](const httplib::Request& req, httplib::Response& res) {
            Record(seen_, req);
            ReplyJson(res, R"({"hello":"world"})");
          });
          s.Get("/v1/missing", [](const httplib::Request&, httplib::Response& res) {
            ReplyJson(res,
                      R"({"error":{"code":404,"message":"CustomJob 9 )"
                      R"(not found.","status":"NOT_FOUND"}})",
                      404);
          });
          s.Get("/v1/precondition", [](const httplib::Request&, httplib::Response& res) {
            ReplyJson(res,
                      R"({"error":{"code":400,"message":"job is done",)"
                      R"("status":"FAILED_PRECONDITION"}})",
                      400);
          });
          s.Get("/v1/code-only", [](const httplib::Request&, httplib::Response& res) {
            ReplyJson(res, R"({"error":{"code":409,"message":"dup"}})", 409);
          });
          s.Get("/v1/plain-503", [](const httplib::Request&, httplib::Response& res) {
            res.status = 503;
            res.set_content("overloaded", "text/plain");
          });
          s.Get("/v1/not-json",
                [](const httplib::Request&, httplib::Response& res) { res.set_content("<html>", "text/html"); });
          s.Post(R"(/v1/jobs/1:cancel)", [this](const httplib::Request& req, httplib::Response& res) {
            Record(seen_, req);
            ReplyJson(res, R"({"received":true})");
          });
          s.Delete("/v1/jobs/1", [this](const httplib::Request& req, httplib::Response& res) {
            Record(seen_, req);
            res.status = 200;  // An empty body.
          });
        }) {}

  ApiClient Client(absl::string_view token = "") {
    absl::StatusOr<ApiClient> client = ApiClient::Create(server_.endpoint(), token);
    EXPECT_TRUE(client.ok()) << client.status();
    return *std::move(client);
  }

  Seen seen_;
  FakeServer server_;
};

TEST_F(ApiClientTest, GetReturnsJsonAndSendsBearerToken) {
  ASSERT_TRUE(server_.ok());
  ApiClient client = Client("secret-token");
  absl::StatusOr<json> answer = client.Get("/v1/ok");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(*answer, json({{"hello", "world"}}));
  std::lock_guard<std::mutex> lock(seen_.mu);
  EXPECT_EQ(seen_.authorization, "Bearer secret-token");
}

TEST_F(ApiClientTest, NoTokenMeansNoAuthorizationHeader) {
  ApiClient client = Client();
  ASSERT_TRUE(client.Get("/v1/ok").ok());
  std::lock_guard<std::mutex> lock(seen_.mu);
  EXPECT_EQ(seen_.authorization, "");
}

TEST_F(ApiClientTest, QueryParamsAreEncoded) {
  ApiClient client = Client();
  ASSERT_TRUE(client
                  .Get("/v1/ok", {{"filter",
                                   "state=\"JOB_STATE_RUNNING\" AND "
                                   "display_name=a+b&c"},
                                  {"pageSize", "5"}})
                  .ok());
  std::lock_guard<std::mutex> lock(seen_.mu);
  EXPECT_EQ(seen_.filter, "state=\"JOB_STATE_RUNNING\" AND display_name=a+b&c");
  EXPECT_EQ(seen_.page_size, "5");
}

TEST_F(ApiClientTest, ErrorJsonBecomesStatusWithCodeAndMessage) {
  ApiClient client = Client();
  absl::StatusOr<json> answer = client.Get("/v1/missing");
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(answer.status().message(), "CustomJob 9 not found.");

  // The "status" name wins over the HTTP code (400 alone would be
  // INVALID_ARGUMENT).
  answer = client.Get("/v1/precondition");
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(answer.status().message(), "job is done");

  answer = client.Get("/v1/code-only");
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(answer.status().message(), "dup");
}

TEST_F(ApiClientTest, NonJsonErrorUsesTheHttpStatus) {
  ApiClient client = Client();
  absl::StatusOr<json> answer = client.Get("/v1/plain-503");
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(answer.status().message(), "HTTP 503: overloaded");

  answer = client.Get("/v1/no-such-route");  // httplib's bare 404.
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ApiClientTest, NonJsonSuccessIsInternal) {
  ApiClient client = Client();
  absl::StatusOr<json> answer = client.Get("/v1/not-json");
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(answer.status().message(), HasSubstr("not JSON"));
}

TEST_F(ApiClientTest, PostSendsJsonBody) {
  ApiClient client = Client("t");
  absl::StatusOr<json> answer =
      client.Post("/v1/jobs/1:cancel", google::cloud::aiplatform::v1::CancelCustomJobRequest());
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(*answer, json({{"received", true}}));
  std::lock_guard<std::mutex> lock(seen_.mu);
  EXPECT_EQ(seen_.method, "POST");
  EXPECT_EQ(seen_.body, "{}");
  EXPECT_EQ(seen_.content_type, "application/json");
  EXPECT_EQ(seen_.authorization, "Bearer t");
}

TEST_F(ApiClientTest, DeleteWithEmptyAnswerGivesEmptyObject) {
  ApiClient client = Client();
  absl::StatusOr<json> answer = client.Delete("/v1/jobs/1");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(*answer, json::object());
  std::lock_guard<std::mutex> lock(seen_.mu);
  EXPECT_EQ(seen_.method, "DELETE");
}

TEST(ApiClientStandaloneTest, ConnectionRefusedIsUnavailableNamingEndpoint) {
  RefusingPort port;
  ASSERT_GT(port.port(), 0);
  const std::string endpoint = port.endpoint();
  absl::StatusOr<ApiClient> client = ApiClient::Create(endpoint, "");
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<json> answer = client->Get("/v1/anything");
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(answer.status().message(), HasSubstr(endpoint));
  EXPECT_THAT(answer.status().message(), HasSubstr("kiln serve"));
}

TEST(ApiClientStandaloneTest, CreateRejectsBadEndpoint) {
  EXPECT_EQ(ApiClient::Create("localhost", "").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StatusFromErrorResponseTest, MapsCodesAndMessages) {
  absl::Status status = StatusFromErrorResponse(404, R"({"error":{"code":404,"message":"gone","status":"NOT_FOUND"}})");
  EXPECT_EQ(status, absl::NotFoundError("gone"));
  EXPECT_EQ(StatusFromErrorResponse(401, ""), absl::UnauthenticatedError("HTTP 401"));
  EXPECT_EQ(StatusFromErrorResponse(500, R"({"error":{"status":"BOGUS","message":"m"}})"), absl::InternalError("m"));
  EXPECT_EQ(StatusCodeForHttp(429), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusCodeForHttp(418), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusCodeForHttp(502), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace kiln::client
