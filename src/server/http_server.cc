#include "server/http_server.h"

#include "absl/strings/str_cat.h"
#include "httplib.h"

namespace kiln::server {
namespace {

HttpRequest FromHttplib(const httplib::Request& req) {
  HttpRequest out;
  out.method = req.method;
  out.path = req.path;
  // Query parameters come from the URL only: httplib also merges a form-encoded body into
  // req.params (curl's default Content-Type), which must not bind request fields.
  size_t q = req.target.find('?');
  if (q != std::string::npos) {
    out.raw_query = req.target.substr(q + 1);
    httplib::Params params;
    httplib::detail::parse_query_text(out.raw_query, params);
    for (const auto& [k, v] : params) out.query.emplace_back(k, v);
  }
  out.authorization = req.get_header_value("Authorization");
  out.body = req.body;
  return out;
}

void ToHttplib(const HttpResponse& in, httplib::Response& res) {
  res.status = in.status;
  for (const auto& [k, v] : in.headers) res.set_header(k, v);
  res.set_content(in.body, in.content_type);
}

}  // namespace

HttpServer::HttpServer(const Api* api) : api_(api) {}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<int> HttpServer::Start(const Options& options) {
  server_ = std::make_unique<httplib::Server>();
  server_->set_payload_max_length(options.max_body_bytes);
  // httplib writes headers and body separately; without TCP_NODELAY, Nagle's algorithm and the
  // client's delayed ACK hold small responses ~40 ms.
  server_->set_tcp_nodelay(true);
  auto handle = [this](const httplib::Request& req, httplib::Response& res) {
    ToHttplib(api_->Handle(FromHttplib(req)), res);
  };
  const std::string any = ".*";
  server_->Get(any, handle);
  server_->Post(any, handle);
  server_->Delete(any, handle);
  server_->Patch(any, handle);
  server_->Put(any, handle);
  // Errors httplib answers by itself (413 payload too large, 400 malformed request line) still
  // get Google's error JSON.
  size_t max_body = options.max_body_bytes;
  server_->set_error_handler([max_body](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    absl::Status status =
        res.status == 413
            ? absl::InvalidArgumentError(absl::StrCat("Request body exceeds the limit of ", max_body, " bytes."))
            : absl::InvalidArgumentError("Malformed HTTP request.");
    res.set_content(ErrorJson(status, res.status), "application/json; charset=UTF-8");
  });
  int port = options.port;
  if (port == 0) {
    port = server_->bind_to_any_port(options.host);
    if (port < 0) return absl::UnavailableError(absl::StrCat("cannot bind ", options.host));
  } else if (!server_->bind_to_port(options.host, port)) {
    return absl::UnavailableError(absl::StrCat("cannot bind ", options.host, ":", port, " (in use?)"));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // No wait needed: the socket already listens, so early connections queue in its backlog.
  return port;
}

void HttpServer::Stop() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace kiln::server
