#ifndef KILN_SERVER_HTTP_SERVER_H_
#define KILN_SERVER_HTTP_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/api.h"

namespace httplib {
class Server;
}

namespace kiln::server {

// Serves an Api over HTTP/1.1 with cpp-httplib's thread pool.
// Threading: Start and Stop from one thread; requests run on the pool and call Api::Handle.
class HttpServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 8080;                           // 0 binds a free port
    size_t max_body_bytes = 32 * 1024 * 1024;  // larger bodies get 413 with Google's error JSON
  };

  explicit HttpServer(const Api* api);
  ~HttpServer();

  // Binds and starts serving on a background thread. Returns the bound port.
  absl::StatusOr<int> Start(const Options& options);
  // Stops accepting, waits for in-flight requests. Idempotent.
  void Stop();

 private:
  const Api* api_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace kiln::server

#endif  // KILN_SERVER_HTTP_SERVER_H_
