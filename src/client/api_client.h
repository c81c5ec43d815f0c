#ifndef KILN_CLIENT_API_CLIENT_H_
#define KILN_CLIENT_API_CLIENT_H_

// A thin JSON-over-HTTP client for kiln's Vertex AI v1 REST surface
// (cpp-httplib underneath; httplib.h stays out of this header). Request
// bodies are protobuf messages, printed by the server's codec (proto_io.h);
// answers come back as JSON, to be printed as received or read into messages
// with ReadAnswer.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

namespace kiln::client {

// Query parameters in order; values are URL-encoded by the client.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// A 2xx answer taken as is (see ApiClient::GetRaw).
struct RawResponse {
  int status = 0;
  std::string body;
  // Response headers as received (names in the server's spelling).
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header named `name` (ASCII case-insensitive), or nullopt.
  std::optional<std::string> Header(absl::string_view name) const;
};

struct ApiClientOptions {
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration read_timeout = absl::Seconds(60);
  absl::Duration write_timeout = absl::Seconds(60);
};

class ApiClient {
 public:
  // `endpoint` must be http://HOST:PORT (see ParseEndpoint). `token`, when not
  // empty, is sent as "Authorization: Bearer <token>" on every request.
  static absl::StatusOr<ApiClient> Create(absl::string_view endpoint, absl::string_view token,
                                          const ApiClientOptions& options = {});

  ApiClient(ApiClient&&) noexcept;
  ApiClient& operator=(ApiClient&&) noexcept;
  ~ApiClient();

  // Each sends one request to `path` (absolute, e.g.
  // "/v1/projects/p/locations/r/customJobs") plus `query`, and returns:
  //  - 2xx: the body parsed as JSON ({} for an empty body; INTERNAL if the body
  //    is not JSON);
  //  - non-2xx: a Status whose code is taken from Google's error JSON
  //    {"error":{"code":404,"message":"...","status":"NOT_FOUND"}} ("status",
  //    else the HTTP code) and whose message is error.message (else the HTTP
  //    status and body);
  //  - no answer: UNAVAILABLE naming the endpoint and suggesting `kiln serve`
  //    (connection refused / timed out), or UNAVAILABLE for a broken exchange.
  absl::StatusOr<nlohmann::json> Get(absl::string_view path, const QueryParams& query = {});
  // `body` is sent as application/json, as RequestJson prints it (a request
  // without fields, e.g. google.protobuf.Empty, is "{}").
  absl::StatusOr<nlohmann::json> Post(absl::string_view path, const google::protobuf::Message& body,
                                      const QueryParams& query = {});
  absl::StatusOr<nlohmann::json> Delete(absl::string_view path, const QueryParams& query = {});

  // GET that does not parse the body: a 2xx answer is returned as raw bytes
  // plus its headers (for text/plain routes such as kiln's log route);
  // non-2xx answers and transport failures are Statuses exactly as for Get.
  absl::StatusOr<RawResponse> GetRaw(absl::string_view path, const QueryParams& query = {});

  // The normalized endpoint ("http://127.0.0.1:8080").
  const std::string& endpoint() const;

 private:
  struct Impl;
  explicit ApiClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The canonical code for an HTTP status (404 -> NOT_FOUND), as Google's REST
// front ends map them.
absl::StatusCode StatusCodeForHttp(int http_status);

// The status a non-2xx answer stands for (see ApiClient::Get).
absl::Status StatusFromErrorResponse(int http_status, absl::string_view body);

}  // namespace kiln::client

#endif  // KILN_CLIENT_API_CLIENT_H_
