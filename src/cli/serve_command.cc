#include "cli/serve_command.h"

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "app/kiln_app.h"
#include "server/http_server.h"
#include "spdlog/spdlog.h"

namespace kiln::cli {
namespace {

struct ServeFlags {
  int port = 8080;
  std::string host = "127.0.0.1";
  std::string home;
  std::string tokens_file;
  std::string config_file;
  size_t max_body_mb = 32;
};

std::string DefaultHome() {
  if (const char* env = std::getenv("KILN_HOME"); env != nullptr && *env != '\0') return env;
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : ".", "/.kiln");
}

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

int Serve(const ServeFlags& flags) {
  std::string home = flags.home.empty() ? DefaultHome() : flags.home;
  app::KilnApp::Options options;
  options.home = home;

  std::string tokens_file = flags.tokens_file;
  if (tokens_file.empty() && std::filesystem::exists(absl::StrCat(home, "/tokens.yaml"))) {
    tokens_file = absl::StrCat(home, "/tokens.yaml");
  }
  if (!tokens_file.empty()) {
    absl::StatusOr<server::TokenAuthorizer> tokens = server::TokenAuthorizer::LoadFile(tokens_file);
    if (!tokens.ok()) {
      std::cerr << "kiln serve: " << tokens.status().message() << "\n";
      return 2;
    }
    spdlog::info("auth: {} token(s) from {}", tokens->size(), tokens_file);
    options.tokens = *std::move(tokens);
  } else if (!IsLoopback(flags.host)) {
    std::cerr << "kiln serve: refusing to listen on " << flags.host
              << " without a tokens file: anyone who reaches it could run code on this machine. "
                 "Pass --tokens-file (or create "
              << home << "/tokens.yaml), or listen on 127.0.0.1.\n";
    return 2;
  } else {
    std::cerr << "\n*** WARNING: kiln is OPEN: no tokens file, so every request is accepted without "
                 "authentication.\n*** It listens on "
              << flags.host << " only. Add " << home << "/tokens.yaml or --tokens-file to require tokens.\n\n";
  }

  std::string config_file = flags.config_file;
  if (config_file.empty() && std::filesystem::exists(absl::StrCat(home, "/config.yaml"))) {
    config_file = absl::StrCat(home, "/config.yaml");
  }
  if (!config_file.empty()) {
    absl::StatusOr<app::KilnConfig> config = app::LoadConfigFile(config_file);
    if (!config.ok()) {
      std::cerr << "kiln serve: " << config.status().message() << "\n";
      return 2;
    }
    spdlog::info("config: {} ({} accelerator type(s), {} image map entr(ies))", config_file,
                 config->accelerators.size(), config->images.size());
    options.config = *std::move(config);
  }

  absl::StatusOr<std::unique_ptr<app::KilnApp>> kiln = app::KilnApp::Create(std::move(options));
  if (!kiln.ok()) {
    std::cerr << "kiln serve: " << kiln.status().message() << "\n";
    return 1;
  }

  // Block the stop signals in every thread; this one waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  server::HttpServer http(&(*kiln)->api());
  server::HttpServer::Options http_options;
  http_options.host = flags.host;
  http_options.port = flags.port;
  http_options.max_body_bytes = flags.max_body_mb * 1024 * 1024;
  absl::StatusOr<int> port = http.Start(http_options);
  if (!port.ok()) {
    std::cerr << "kiln serve: " << port.status().message() << "\n";
    return 1;
  }
  std::string host = flags.host.find(':') != std::string::npos ? absl::StrCat("[", flags.host, "]") : flags.host;
  std::cout << "kiln listening on http://" << host << ":" << *port << " (home " << home << ")" << std::endl;

  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("received signal {}, stopping", received);
  http.Stop();
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* serve = app.add_subcommand("serve", "Run the kiln server in the foreground");
  serve->add_option("--port", flags->port, "Port to listen on; 0 picks a free one")->capture_default_str();
  serve->add_option("--host", flags->host, "Address to listen on (non-loopback needs a tokens file)")
      ->capture_default_str();
  serve->add_option("--home", flags->home, "Where kiln keeps its data (default $KILN_HOME or ~/.kiln)");
  serve->add_option("--tokens-file", flags->tokens_file,
                    "YAML file of bearer tokens (default <home>/tokens.yaml when it exists)");
  serve->add_option("--config", flags->config_file,
                    "kiln's YAML configuration: accelerators, overcommit, image map (default <home>/config.yaml)");
  serve->add_option("--max-body-mb", flags->max_body_mb, "Largest request body accepted, in MiB")
      ->capture_default_str();
  serve->callback([flags, exit_code] { *exit_code = Serve(*flags); });
}

}  // namespace kiln::cli
