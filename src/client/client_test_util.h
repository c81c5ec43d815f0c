#ifndef KILN_CLIENT_CLIENT_TEST_UTIL_H_
#define KILN_CLIENT_CLIENT_TEST_UTIL_H_

// Test-only helpers: a fake HTTP server and an isolated client environment.

#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"

namespace kiln::client {

// An httplib::Server on 127.0.0.1 (a free port) running on its own thread for
// the lifetime of the object.
class FakeServer {
 public:
  // `routes` registers the handlers before the server starts.
  explicit FakeServer(const std::function<void(httplib::Server&)>& routes) {
    routes(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~FakeServer() {
    server_.stop();
    thread_.join();
  }
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  bool ok() const { return port_ > 0 && server_.is_running(); }
  int port() const { return port_; }
  std::string endpoint() const { return absl::StrCat("http://127.0.0.1:", port_); }

 private:
  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
};

// Sets `res` to a JSON body.
inline void ReplyJson(httplib::Response& res, const std::string& body, int status = 200) {
  res.status = status;
  res.set_content(body, "application/json");
}

// Sets `res` to a text/plain body plus `headers` (kiln's log route).
inline void ReplyText(httplib::Response& res, const std::string& body,
                      const std::vector<std::pair<std::string, std::string>>& headers = {}, int status = 200) {
  res.status = status;
  for (const auto& [name, value] : headers) res.set_header(name, value);
  res.set_content(body, "text/plain");
}

// A loopback port that is bound but not listening, so connecting to it is
// refused (deterministically: nothing else can take the port meanwhile).
class RefusingPort {
 public:
  RefusingPort() {
    fd_.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd_.valid() && bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      port_ = ntohs(address.sin_port);
    }
  }

  int port() const { return port_; }
  std::string endpoint() const { return absl::StrCat("http://127.0.0.1:", port_); }

 private:
  UniqueFd fd_;
  int port_ = 0;
};

// For its lifetime: the KILN_* variables are unset, XDG_CONFIG_HOME points at
// a fresh empty folder (so no real user config is read), and everything is
// restored afterwards.
class ScopedClientEnv {
 public:
  ScopedClientEnv() {
    for (const char* name : {"KILN_ENDPOINT", "KILN_TOKEN", "KILN_TOKEN_FILE", "KILN_PROJECT", "KILN_REGION",
                             "KILN_FORMAT", "KILN_CONFIG", "XDG_CONFIG_HOME"}) {
      const char* value = getenv(name);
      saved_.emplace_back(name, value == nullptr ? std::nullopt : std::optional<std::string>(value));
      unsetenv(name);
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "kiln-client-test-XXXXXX").string();
    const char* made = mkdtemp(pattern.data());
    dir_ = made != nullptr ? made : pattern;
    setenv("XDG_CONFIG_HOME", dir_.c_str(), 1);
  }
  ~ScopedClientEnv() {
    for (const auto& [name, value] : saved_) {
      if (value.has_value()) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  ScopedClientEnv(const ScopedClientEnv&) = delete;
  ScopedClientEnv& operator=(const ScopedClientEnv&) = delete;

  // The temporary folder (also XDG_CONFIG_HOME).
  const std::string& dir() const { return dir_; }

  // The default config path: $XDG_CONFIG_HOME/kiln/config.yaml.
  std::string DefaultConfigPath() const { return dir_ + "/kiln/config.yaml"; }

  // Writes `text` to `path` (creating folders) and returns `path`.
  static std::string WriteFile(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
    return path;
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
  std::string dir_;
};

}  // namespace kiln::client

#endif  // KILN_CLIENT_CLIENT_TEST_UTIL_H_
