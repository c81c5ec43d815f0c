#include "client/api_client.h"

#include <httplib.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/client_config.h"
#include "client/proto_io.h"
#include "common/errors.h"
#include "common/status_macros.h"

namespace kiln::client {
namespace {

using nlohmann::json;

constexpr char kUserAgent[] = "kiln-cli/0.1";
constexpr size_t kMaxBodyInMessage = 200;

enum class Method { kGet, kPost, kDelete };

absl::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kPost:
      return "POST";
    case Method::kDelete:
      return "DELETE";
  }
  return "GET";
}

// The code whose canonical name is `name` ("NOT_FOUND"), if any.
std::optional<absl::StatusCode> CodeFromName(absl::string_view name) {
  for (int i = 1; i <= 16; ++i) {
    auto code = static_cast<absl::StatusCode>(i);
    if (CanonicalCodeName(code) == name) return code;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusCode StatusCodeForHttp(int http_status) {
  switch (http_status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kAborted;
    case 412:
      return absl::StatusCode::kFailedPrecondition;
    case 416:
      return absl::StatusCode::kOutOfRange;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    case 499:
      return absl::StatusCode::kCancelled;
    case 500:
      return absl::StatusCode::kInternal;
    case 501:
      return absl::StatusCode::kUnimplemented;
    case 503:
      return absl::StatusCode::kUnavailable;
    case 504:
      return absl::StatusCode::kDeadlineExceeded;
    default:
      break;
  }
  if (http_status >= 200 && http_status < 300) return absl::StatusCode::kOk;
  if (http_status >= 400 && http_status < 500) {
    return absl::StatusCode::kFailedPrecondition;
  }
  if (http_status >= 500 && http_status < 600) {
    return absl::StatusCode::kInternal;
  }
  return absl::StatusCode::kUnknown;
}

absl::Status StatusFromErrorResponse(int http_status, absl::string_view body) {
  absl::StatusCode code = StatusCodeForHttp(http_status);
  std::string message;
  json parsed = json::parse(body.begin(), body.end(), nullptr,
                            /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) {
    const json& error = parsed["error"];
    std::optional<absl::StatusCode> named;
    if (error.contains("status") && error["status"].is_string()) {
      named = CodeFromName(error["status"].get<std::string>());
    }
    if (named.has_value()) {
      code = *named;
    } else if (error.contains("code") && error["code"].is_number_integer()) {
      code = StatusCodeForHttp(error["code"].get<int>());
    }
    if (error.contains("message") && error["message"].is_string()) {
      message = error["message"].get<std::string>();
    }
  }
  if (message.empty()) {
    absl::string_view shown = absl::StripAsciiWhitespace(body);
    message = absl::StrCat("HTTP ", http_status);
    if (!shown.empty()) {
      absl::StrAppend(&message, ": ", shown.substr(0, kMaxBodyInMessage));
    }
  }
  if (code == absl::StatusCode::kOk) code = absl::StatusCode::kUnknown;
  return absl::Status(code, message);
}

struct ApiClient::Impl {
  Impl(std::string endpoint_in, const Endpoint& parsed, std::string token_in)
      : endpoint(std::move(endpoint_in)), token(std::move(token_in)), http(parsed.host, parsed.port) {}

  httplib::Headers Headers(absl::string_view accept = "application/json") const {
    httplib::Headers headers = {{"Accept", std::string(accept)}, {"User-Agent", kUserAgent}};
    if (!token.empty()) {
      headers.emplace("Authorization", absl::StrCat("Bearer ", token));
    }
    return headers;
  }

  static absl::StatusOr<std::string> Target(absl::string_view path, const QueryParams& query) {
    if (!absl::StartsWith(path, "/")) {
      return absl::InvalidArgumentError(absl::StrCat("request path must start with '/': ", path));
    }
    std::string target(path);
    if (!query.empty()) {
      httplib::Params params(query.begin(), query.end());
      target = httplib::append_query_params(target, params);
    }
    return target;
  }

  absl::StatusOr<RawResponse> GetRaw(absl::string_view path, const QueryParams& query) {
    KILN_ASSIGN_OR_RETURN(std::string target, Target(path, query));
    httplib::Result result = http.Get(target, Headers("text/plain, */*"));
    if (!result) return TransportError(Method::kGet, path, result.error());
    if (result->status < 200 || result->status >= 300) {
      return StatusFromErrorResponse(result->status, result->body);
    }
    RawResponse raw;
    raw.status = result->status;
    raw.body = std::move(result->body);
    raw.headers.assign(result->headers.begin(), result->headers.end());
    return raw;
  }

  absl::StatusOr<json> Send(Method method, absl::string_view path, const google::protobuf::Message* body,
                            const QueryParams& query) {
    KILN_ASSIGN_OR_RETURN(std::string target, Target(path, query));
    const std::string payload = body != nullptr ? RequestJson(*body) : "";
    httplib::Result result = [&] {
      switch (method) {
        case Method::kPost:
          return http.Post(target, Headers(), payload, "application/json");
        case Method::kDelete:
          return http.Delete(target, Headers());
        case Method::kGet:
          break;
      }
      return http.Get(target, Headers());
    }();
    if (!result) return TransportError(method, path, result.error());

    const int status = result->status;
    const std::string& text = result->body;
    if (status < 200 || status >= 300) {
      return StatusFromErrorResponse(status, text);
    }
    if (absl::StripAsciiWhitespace(text).empty()) return json::object();
    json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      return absl::InternalError(absl::StrCat(
          "the server at ", endpoint, " answered ", MethodName(method), " ", path,
          " with a body that is not JSON: ", absl::StripAsciiWhitespace(text).substr(0, kMaxBodyInMessage)));
    }
    return parsed;
  }

  absl::Status TransportError(Method method, absl::string_view path, httplib::Error error) const {
    if (error == httplib::Error::Connection || error == httplib::Error::ConnectionTimeout) {
      const absl::string_view why =
          error == httplib::Error::Connection ? "connection refused or no route" : "connection timed out";
      return absl::UnavailableError(absl::StrCat("could not reach the kiln server at ", endpoint, " (", why,
                                                 "). Is it running? Start it with `kiln serve`, or point --endpoint "
                                                 "or KILN_ENDPOINT at a running server."));
    }
    return absl::UnavailableError(
        absl::StrCat(MethodName(method), " ", endpoint, path,
                     " failed before an answer arrived (httplib error: ", httplib::to_string(error), ")"));
  }

  std::string endpoint;
  std::string token;
  httplib::Client http;
};

absl::StatusOr<ApiClient> ApiClient::Create(absl::string_view endpoint, absl::string_view token,
                                            const ApiClientOptions& options) {
  KILN_ASSIGN_OR_RETURN(Endpoint parsed, ParseEndpoint(endpoint));
  std::string normalized(endpoint);
  if (absl::EndsWith(normalized, "/")) normalized.pop_back();
  auto impl = std::make_unique<Impl>(std::move(normalized), parsed, std::string(token));
  impl->http.set_connection_timeout(absl::ToChronoMicroseconds(options.connect_timeout));
  impl->http.set_read_timeout(absl::ToChronoMicroseconds(options.read_timeout));
  impl->http.set_write_timeout(absl::ToChronoMicroseconds(options.write_timeout));
  return ApiClient(std::move(impl));
}

ApiClient::ApiClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiClient::ApiClient(ApiClient&&) noexcept = default;
ApiClient& ApiClient::operator=(ApiClient&&) noexcept = default;
ApiClient::~ApiClient() = default;

absl::StatusOr<json> ApiClient::Get(absl::string_view path, const QueryParams& query) {
  return impl_->Send(Method::kGet, path, nullptr, query);
}

absl::StatusOr<json> ApiClient::Post(absl::string_view path, const google::protobuf::Message& body,
                                     const QueryParams& query) {
  return impl_->Send(Method::kPost, path, &body, query);
}

absl::StatusOr<json> ApiClient::Delete(absl::string_view path, const QueryParams& query) {
  return impl_->Send(Method::kDelete, path, nullptr, query);
}

absl::StatusOr<RawResponse> ApiClient::GetRaw(absl::string_view path, const QueryParams& query) {
  return impl_->GetRaw(path, query);
}

std::optional<std::string> RawResponse::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

const std::string& ApiClient::endpoint() const { return impl_->endpoint; }

}  // namespace kiln::client
