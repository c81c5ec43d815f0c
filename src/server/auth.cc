#include "server/auth.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "yaml-cpp/yaml.h"

namespace kiln::server {
namespace {

// Compares without an early exit, so response time does not leak how much of a token matched.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

absl::StatusOr<TokenAuthorizer> TokenAuthorizer::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("tokens file ", path, ": cannot be read"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  absl::StatusOr<TokenAuthorizer> result = LoadYaml(buffer.str());
  if (!result.ok()) {
    return absl::Status(result.status().code(), absl::StrCat("tokens file ", path, ": ", result.status().message()));
  }
  return result;
}

absl::StatusOr<TokenAuthorizer> TokenAuthorizer::LoadYaml(absl::string_view yaml) {
  TokenAuthorizer auth;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    YAML::Node tokens = root["tokens"];
    if (!tokens || !tokens.IsSequence() || tokens.size() == 0) {
      return absl::InvalidArgumentError("tokens: must be a non-empty list");
    }
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string where = absl::StrCat("tokens[", i, "]");
      const YAML::Node& entry = tokens[i];
      if (!entry.IsMap()) return absl::InvalidArgumentError(absl::StrCat(where, ": must be a map"));
      Token t;
      t.secret = entry["token"] ? entry["token"].as<std::string>() : "";
      if (t.secret.size() < 16) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".token: must be at least 16 characters"));
      }
      for (const Token& other : auth.tokens_) {
        if (other.secret == t.secret) return absl::InvalidArgumentError(absl::StrCat(where, ".token: duplicate"));
      }
      t.name = entry["name"] ? entry["name"].as<std::string>() : where;
      std::string access = entry["access"] ? entry["access"].as<std::string>() : "read-write";
      if (access == "read-write") {
        t.read_write = true;
      } else if (access != "read-only") {
        return absl::InvalidArgumentError(absl::StrCat(where, ".access: must be read-write or read-only"));
      }
      const YAML::Node& projects = entry["projects"];
      if (!projects || !projects.IsSequence() || projects.size() == 0) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".projects: must be a non-empty list (\"*\" for all)"));
      }
      for (const auto& p : projects) t.projects.push_back(p.as<std::string>());
      auth.tokens_.push_back(std::move(t));
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not valid YAML: ", e.what()));
  }
  return auth;
}

absl::Status TokenAuthorizer::Authorize(absl::string_view header, absl::string_view project, bool is_write) const {
  absl::string_view value = absl::StripAsciiWhitespace(header);
  if (value.empty()) {
    return absl::UnauthenticatedError(
        "Request is missing required authentication credential. Expected an OAuth 2 access token in the "
        "Authorization header (Authorization: Bearer TOKEN).");
  }
  if (!absl::StartsWithIgnoreCase(value, "bearer ")) {
    return absl::UnauthenticatedError("Request had invalid authentication credentials: expected a Bearer token.");
  }
  absl::string_view secret = absl::StripAsciiWhitespace(value.substr(7));
  const Token* found = nullptr;
  for (const Token& t : tokens_) {
    if (ConstantTimeEquals(t.secret, secret)) found = &t;
  }
  if (found == nullptr) {
    return absl::UnauthenticatedError("Request had invalid authentication credentials: unknown token.");
  }
  if (!project.empty()) {
    bool allowed = false;
    for (const std::string& p : found->projects) allowed = allowed || p == "*" || p == project;
    if (!allowed) {
      return absl::PermissionDeniedError(
          absl::StrCat("Permission denied: token '", found->name, "' may not use project '", project, "'."));
    }
  }
  if (is_write && !found->read_write) {
    return absl::PermissionDeniedError(absl::StrCat("Permission denied: token '", found->name, "' is read-only."));
  }
  return absl::OkStatus();
}

}  // namespace kiln::server
