#include "client/client_config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "yaml-cpp/yaml.h"

namespace kiln::client {
namespace {

// A value and where it came from, for error messages ("--project", "KILN_REGION",
// "config file /x/config.yaml").
struct Setting {
  std::string value;
  std::string source;
};

// Settings read from the config file; unset keys are std::nullopt.
struct FileSettings {
  std::optional<std::string> endpoint;
  std::optional<std::string> token;
  std::optional<std::string> token_file;
  std::optional<std::string> project;
  std::optional<std::string> region;
  std::optional<std::string> format;
};

constexpr char kKnownKeys[] = "endpoint, token, token_file, project, region, format";

std::optional<std::string> Env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// flag > environment > config file; std::nullopt when none is set.
std::optional<Setting> Pick(const std::string& flag_value, const char* flag_name, const char* env_name,
                            const std::optional<std::string>& file_value, const std::string& config_path) {
  if (!flag_value.empty()) return Setting{flag_value, flag_name};
  if (std::optional<std::string> env = Env(env_name)) {
    return Setting{*std::move(env), env_name};
  }
  if (file_value.has_value() && !file_value->empty()) {
    return Setting{*file_value, absl::StrCat("config file ", config_path)};
  }
  return std::nullopt;
}

std::string DefaultConfigPath() {
  if (std::optional<std::string> xdg = Env("XDG_CONFIG_HOME")) {
    return absl::StrCat(*xdg, "/kiln/config.yaml");
  }
  if (std::optional<std::string> home = Env("HOME")) {
    return absl::StrCat(*home, "/.config/kiln/config.yaml");
  }
  return "";
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path, absl::string_view source) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read token file ", path, " (named by ", source, ")"));
  }
  std::string token(absl::StripAsciiWhitespace(text.str()));
  if (token.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("token file ", path, " (named by ", source, ") is empty"));
  }
  return token;
}

absl::StatusOr<FileSettings> ParseConfigFile(const std::string& path) {
  FileSettings settings;
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (root.IsNull()) return settings;  // An empty file.
    if (!root.IsMap()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config file ", path, " must be a mapping of keys (", kKnownKeys, ")"));
    }
    for (const auto& entry : root) {
      const std::string key = entry.first.as<std::string>();
      const YAML::Node& node = entry.second;
      std::optional<std::string> value;
      if (!node.IsNull()) {
        if (!node.IsScalar()) {
          return absl::InvalidArgumentError(
              absl::StrCat("key \"", key, "\" in config file ", path, " must have a plain value"));
        }
        value = node.Scalar();
      }
      if (key == "endpoint") {
        settings.endpoint = value;
      } else if (key == "token") {
        settings.token = value;
      } else if (key == "token_file") {
        settings.token_file = value;
      } else if (key == "project") {
        settings.project = value;
      } else if (key == "region") {
        settings.region = value;
      } else if (key == "format") {
        settings.format = value;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown key \"", key, "\" in config file ", path, " (known keys: ", kKnownKeys, ")"));
      }
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read config file ", path, ": ", e.what()));
  }
  // A relative token_file is relative to the config file's folder.
  if (settings.token_file.has_value() && !settings.token_file->empty()) {
    std::filesystem::path token_path(*settings.token_file);
    if (token_path.is_relative()) {
      settings.token_file = (std::filesystem::path(path).parent_path() / token_path).string();
    }
  }
  return settings;
}

// Letters, digits, '-', '_' and '.', so the value is one URL path segment.
absl::Status CheckSegment(absl::string_view what, const Setting& setting) {
  bool ok = !setting.value.empty();
  for (char c : setting.value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      ok = false;
    }
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("invalid ", what, " \"", setting.value, "\" (from ", setting.source,
                                                 "): use only letters, digits, '-', '_' and '.'"));
}

absl::Status BadEndpoint(absl::string_view endpoint) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid endpoint \"", endpoint, "\": expected http://HOST:PORT, for example ", kDefaultEndpoint));
}

}  // namespace

absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view endpoint) {
  constexpr absl::string_view kScheme = "http://";
  if (absl::StartsWithIgnoreCase(endpoint, "https://")) {
    return absl::InvalidArgumentError(absl::StrCat("invalid endpoint \"", endpoint,
                                                   "\": https is not supported (kiln serves plain HTTP); expected "
                                                   "http://HOST:PORT, for example ",
                                                   kDefaultEndpoint));
  }
  if (!absl::StartsWith(endpoint, kScheme)) return BadEndpoint(endpoint);
  absl::string_view rest = endpoint.substr(kScheme.size());
  if (absl::EndsWith(rest, "/")) rest.remove_suffix(1);

  Endpoint parsed;
  absl::string_view port_text;
  if (absl::StartsWith(rest, "[")) {
    size_t close = rest.find(']');
    if (close == absl::string_view::npos || close == 1) {
      return BadEndpoint(endpoint);
    }
    absl::string_view host = rest.substr(1, close - 1);
    for (char c : host) {
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') {
        return BadEndpoint(endpoint);
      }
    }
    parsed.host = std::string(host);
    absl::string_view after = rest.substr(close + 1);
    if (!absl::StartsWith(after, ":")) return BadEndpoint(endpoint);
    port_text = after.substr(1);
  } else {
    size_t colon = rest.find(':');
    if (colon == absl::string_view::npos || colon == 0 || rest.rfind(':') != colon) {
      return BadEndpoint(endpoint);
    }
    absl::string_view host = rest.substr(0, colon);
    for (char c : host) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
        return BadEndpoint(endpoint);
      }
    }
    parsed.host = std::string(host);
    port_text = rest.substr(colon + 1);
  }
  if (port_text.empty() || port_text.size() > 5) return BadEndpoint(endpoint);
  for (char c : port_text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return BadEndpoint(endpoint);
    }
  }
  if (!absl::SimpleAtoi(port_text, &parsed.port) || parsed.port < 1 || parsed.port > 65535) {
    return BadEndpoint(endpoint);
  }
  return parsed;
}

absl::StatusOr<ClientConfig> ResolveClientConfig(const ConfigFlags& flags) {
  ClientConfig config;

  // The config file.
  std::string config_source;
  bool config_required = true;
  if (!flags.config_file.empty()) {
    config.config_path = flags.config_file;
    config_source = "--config-file";
  } else if (std::optional<std::string> env = Env("KILN_CONFIG")) {
    config.config_path = *env;
    config_source = "KILN_CONFIG";
  } else {
    config.config_path = DefaultConfigPath();
    config_required = false;
  }
  FileSettings file;
  if (!config.config_path.empty()) {
    std::error_code error;
    if (std::filesystem::exists(config.config_path, error)) {
      KILN_ASSIGN_OR_RETURN(file, ParseConfigFile(config.config_path));
    } else if (config_required) {
      return absl::FailedPreconditionError(
          absl::StrCat("config file ", config.config_path, " (named by ", config_source, ") does not exist"));
    }
  }

  // Endpoint.
  if (std::optional<Setting> endpoint =
          Pick(flags.endpoint, "--endpoint", "KILN_ENDPOINT", file.endpoint, config.config_path)) {
    absl::StatusOr<Endpoint> parsed = ParseEndpoint(endpoint->value);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(parsed.status().message(), " (from ", endpoint->source, ")"));
    }
    const bool ipv6 = parsed->host.find(':') != std::string::npos;
    config.endpoint = ipv6 ? absl::StrCat("http://[", parsed->host, "]:", parsed->port)
                           : absl::StrCat("http://", parsed->host, ":", parsed->port);
  }

  // Token: KILN_TOKEN > KILN_TOKEN_FILE > file token > file token_file.
  if (std::optional<std::string> token = Env("KILN_TOKEN")) {
    config.token = std::string(absl::StripAsciiWhitespace(*token));
  } else if (std::optional<std::string> token_file = Env("KILN_TOKEN_FILE")) {
    KILN_ASSIGN_OR_RETURN(config.token, ReadTokenFile(*token_file, "KILN_TOKEN_FILE"));
  } else if (file.token.has_value() && !file.token->empty()) {
    config.token = *file.token;
  } else if (file.token_file.has_value() && !file.token_file->empty()) {
    KILN_ASSIGN_OR_RETURN(config.token,
                          ReadTokenFile(*file.token_file, absl::StrCat("token_file in ", config.config_path)));
  }

  // Project and region.
  if (std::optional<Setting> project =
          Pick(flags.project, "--project", "KILN_PROJECT", file.project, config.config_path)) {
    KILN_RETURN_IF_ERROR(CheckSegment("project", *project));
    config.project = project->value;
  }
  if (std::optional<Setting> region = Pick(flags.region, "--region", "KILN_REGION", file.region, config.config_path)) {
    KILN_RETURN_IF_ERROR(CheckSegment("region", *region));
    config.region = region->value;
  }

  // Output format.
  if (std::optional<Setting> format = Pick(flags.format, "--format", "KILN_FORMAT", file.format, config.config_path)) {
    absl::StatusOr<OutputFormat> parsed = ParseOutputFormat(format->value);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(parsed.status().message(), " (from ", format->source, ")"));
    }
    config.format = *parsed;
  }
  return config;
}

absl::StatusOr<std::string> LocationName(const ClientConfig& config) {
  if (config.project.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no project is set. Set one in any of three ways: the --project=PROJECT "
                     "flag, the KILN_PROJECT environment variable, or a \"project: PROJECT\" "
                     "line in the config file (",
                     config.config_path.empty() ? "~/.config/kiln/config.yaml" : config.config_path, ")"));
  }
  return absl::StrCat("projects/", config.project, "/locations/", config.region);
}

}  // namespace kiln::client
