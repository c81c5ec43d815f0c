#include "client/storage_client.h"

#include <httplib.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/api_client.h"
#include "client/client_config.h"
#include "common/status_macros.h"

namespace kiln::client {
namespace {

using nlohmann::json;

constexpr char kUserAgent[] = "kiln-cli/0.1";
constexpr absl::string_view kScheme = "gs://";

// "/kiln/v1/storage/BUCKET[/OBJECT]" with each segment percent-encoded, so names holding '?',
// '#', '%' or spaces arrive intact (the server decodes the path).
std::string RoutePath(absl::string_view bucket, absl::string_view object) {
  std::string path = absl::StrCat("/kiln/v1/storage/", httplib::detail::encode_query_param(std::string(bucket)));
  if (object.empty()) return path;
  std::vector<std::string> segments;
  for (absl::string_view segment : absl::StrSplit(object, '/')) {
    segments.push_back(httplib::detail::encode_query_param(std::string(segment)));
  }
  absl::StrAppend(&path, "/", absl::StrJoin(segments, "/"));
  return path;
}

// The server's routes match an object path only when its last segment has no ':' (a ':' there
// reads as a custom method, as in Google's REST APIs).
absl::Status CheckAddressable(const GcsUri& uri) {
  if (uri.object.empty() || absl::EndsWith(uri.object, "/")) {
    return absl::InvalidArgumentError(absl::StrCat(uri.ToString(), " names a folder or a bucket, not an object"));
  }
  absl::string_view last = uri.object;
  if (size_t slash = last.rfind('/'); slash != absl::string_view::npos) last.remove_prefix(slash + 1);
  if (absl::StrContains(last, ':')) {
    return absl::InvalidArgumentError(absl::StrCat(
        uri.ToString(), ": kiln's storage routes cannot address object names whose last segment contains ':'"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string GcsUri::ToString() const {
  return object.empty() ? absl::StrCat(kScheme, bucket) : absl::StrCat(kScheme, bucket, "/", object);
}

bool IsGcsUri(absl::string_view text) { return absl::StartsWith(text, kScheme); }

absl::StatusOr<GcsUri> ParseGcsUri(absl::string_view uri) {
  absl::string_view rest = uri;
  if (!absl::ConsumePrefix(&rest, kScheme)) {
    return absl::InvalidArgumentError(absl::StrCat("'", uri, "' is not a gs:// URI; use gs://BUCKET/PATH"));
  }
  GcsUri parsed;
  size_t slash = rest.find('/');
  parsed.bucket = std::string(rest.substr(0, slash));
  if (slash != absl::string_view::npos) parsed.object = std::string(rest.substr(slash + 1));
  if (parsed.bucket.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("'", uri, "' has no bucket name; use gs://BUCKET/PATH"));
  }
  absl::string_view object = parsed.object;
  absl::ConsumeSuffix(&object, "/");
  if (!object.empty()) {
    for (absl::string_view segment : absl::StrSplit(object, '/')) {
      if (segment.empty() || segment == "." || segment == "..") {
        return absl::InvalidArgumentError(
            absl::StrCat("'", uri, "' has an empty, '.' or '..' path segment; name objects by their full path"));
      }
    }
  }
  return parsed;
}

struct StorageClient::Impl {
  Impl(std::string endpoint_in, const Endpoint& parsed, std::string token_in)
      : endpoint(std::move(endpoint_in)), token(std::move(token_in)), http(parsed.host, parsed.port) {}

  httplib::Headers Headers() const {
    httplib::Headers headers = {{"User-Agent", kUserAgent}};
    if (!token.empty()) headers.emplace("Authorization", absl::StrCat("Bearer ", token));
    return headers;
  }

  // The response of a finished exchange, or the Status for a failed one.
  absl::StatusOr<httplib::Response> Check(absl::string_view method, const std::string& path,
                                          httplib::Result result) const {
    if (!result) {
      const httplib::Error error = result.error();
      if (error == httplib::Error::Connection || error == httplib::Error::ConnectionTimeout) {
        return absl::UnavailableError(absl::StrCat(
            "could not reach the kiln server at ", endpoint,
            ". Is it running? Start it with `kiln serve`, or point --endpoint or KILN_ENDPOINT at a running server."));
      }
      return absl::UnavailableError(
          absl::StrCat(method, " ", endpoint, path,
                       " failed before an answer arrived (httplib error: ", httplib::to_string(error), ")"));
    }
    if (result->status < 200 || result->status >= 300) {
      return StatusFromErrorResponse(result->status, result->body);
    }
    return std::move(*result);
  }

  std::string endpoint;
  std::string token;
  httplib::Client http;
};

absl::StatusOr<StorageClient> StorageClient::Create(absl::string_view endpoint, absl::string_view token,
                                                    const Options& options) {
  KILN_ASSIGN_OR_RETURN(Endpoint parsed, ParseEndpoint(endpoint));
  std::string normalized(endpoint);
  if (absl::EndsWith(normalized, "/")) normalized.pop_back();
  auto impl = std::make_unique<Impl>(std::move(normalized), parsed, std::string(token));
  impl->http.set_url_encode(false);  // RoutePath encodes
  impl->http.set_connection_timeout(absl::ToChronoMicroseconds(options.connect_timeout));
  impl->http.set_read_timeout(absl::ToChronoMicroseconds(options.read_timeout));
  impl->http.set_write_timeout(absl::ToChronoMicroseconds(options.write_timeout));
  return StorageClient(std::move(impl));
}

StorageClient::StorageClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StorageClient::StorageClient(StorageClient&&) noexcept = default;
StorageClient& StorageClient::operator=(StorageClient&&) noexcept = default;
StorageClient::~StorageClient() = default;

const std::string& StorageClient::endpoint() const { return impl_->endpoint; }

absl::StatusOr<json> StorageClient::Upload(const GcsUri& uri, absl::string_view bytes) {
  KILN_RETURN_IF_ERROR(CheckAddressable(uri));
  const std::string path = RoutePath(uri.bucket, uri.object);
  KILN_ASSIGN_OR_RETURN(
      httplib::Response response,
      impl_->Check("PUT", path,
                   impl_->http.Put(path, impl_->Headers(), bytes.data(), bytes.size(), "application/octet-stream")));
  json parsed = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) {
    return absl::InternalError(absl::StrCat("the server at ", impl_->endpoint, " answered PUT ", path,
                                            " with a body that is not a JSON object"));
  }
  return parsed;
}

absl::StatusOr<std::string> StorageClient::Download(const GcsUri& uri) {
  KILN_RETURN_IF_ERROR(CheckAddressable(uri));
  const std::string path = RoutePath(uri.bucket, uri.object);
  KILN_ASSIGN_OR_RETURN(httplib::Response response, impl_->Check("GET", path, impl_->http.Get(path, impl_->Headers())));
  return std::move(response.body);
}

absl::StatusOr<StorageListing> StorageClient::List(absl::string_view bucket, absl::string_view prefix, bool recursive) {
  httplib::Params params;
  if (!prefix.empty()) params.emplace("prefix", std::string(prefix));
  if (!recursive) params.emplace("delimiter", "/");
  const std::string route = RoutePath(bucket, "");
  const std::string path = httplib::append_query_params(route, params);
  KILN_ASSIGN_OR_RETURN(httplib::Response response,
                        impl_->Check("GET", route, impl_->http.Get(path, impl_->Headers())));
  json parsed = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  auto malformed = [&] {
    return absl::InternalError(absl::StrCat("the server at ", impl_->endpoint, " answered GET ", route,
                                            " with a malformed listing: ", response.body.substr(0, 200)));
  };
  if (!parsed.is_object()) return malformed();
  StorageListing listing;
  try {
    for (const json& object : parsed.value("objects", json::array())) {
      listing.objects.push_back({object.at("name").get<std::string>(), object.value("size", int64_t{0}),
                                 object.value("updateTime", std::string())});
    }
    for (const json& p : parsed.value("prefixes", json::array())) listing.prefixes.push_back(p.get<std::string>());
    listing.truncated = parsed.value("truncated", false);
  } catch (const json::exception&) {
    return malformed();
  }
  return listing;
}

absl::Status StorageClient::Delete(const GcsUri& uri) {
  KILN_RETURN_IF_ERROR(CheckAddressable(uri));
  const std::string path = RoutePath(uri.bucket, uri.object);
  return impl_->Check("DELETE", path, impl_->http.Delete(path, impl_->Headers())).status();
}

}  // namespace kiln::client
