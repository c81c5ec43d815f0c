#include "client/resources.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace kiln::client {
namespace {

using nlohmann::json;

bool IsIdText(absl::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

// A path segment of a full name: ID characters plus '.', but not "." or "..".
bool IsSegment(absl::string_view text) {
  if (text == "." || text == "..") return false;
  std::string without_dots(text);
  without_dots.erase(std::remove(without_dots.begin(), without_dots.end(), '.'), without_dots.end());
  return !text.empty() && (without_dots.empty() || IsIdText(without_dots));
}

// "123", or "123@VERSION" when versions are allowed.
bool IsId(absl::string_view text, bool allow_version_suffix) {
  size_t at = text.find('@');
  if (at == absl::string_view::npos) return IsIdText(text);
  return allow_version_suffix && IsIdText(text.substr(0, at)) && IsIdText(text.substr(at + 1));
}

// projects/P/locations/L/(COLLECTION/ID/)*{collection}/ID.
bool IsFullName(absl::string_view text, const NameRules& rules) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  if (parts.size() < 6 || parts.size() % 2 != 0) return false;
  if (parts[0] != "projects" || parts[2] != "locations") return false;
  if (parts[parts.size() - 2] != rules.collection) return false;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!IsSegment(parts[i])) return false;
  }
  return IsId(parts.back(), rules.allow_version_suffix);
}

}  // namespace

absl::StatusOr<std::string> ExpandResourceName(const ClientConfig& config, const NameRules& rules,
                                               absl::string_view id_or_name) {
  if (absl::StartsWith(id_or_name, "projects/")) {
    if (IsFullName(id_or_name, rules)) return std::string(id_or_name);
  } else if (IsId(id_or_name, rules.allow_version_suffix)) {
    KILN_ASSIGN_OR_RETURN(std::string parent, LocationName(config));
    return absl::StrCat(parent, "/", rules.collection, "/", id_or_name);
  }
  return absl::InvalidArgumentError(absl::StrCat("\"", id_or_name, "\" is not a valid ", rules.collection,
                                                 " ID or name: expected an ID such as 123 or a name such as "
                                                 "projects/PROJECT/locations/REGION/",
                                                 rules.collection, "/123"));
}

absl::string_view LastSegment(absl::string_view name) {
  size_t slash = name.rfind('/');
  return slash == absl::string_view::npos ? name : name.substr(slash + 1);
}

std::string ResourcePath(absl::string_view name) { return absl::StrCat("/v1/", name); }

std::string MethodPath(absl::string_view name, absl::string_view method) {
  return absl::StrCat("/v1/", name, ":", method);
}

std::string CollectionPath(absl::string_view parent, absl::string_view collection) {
  return absl::StrCat("/v1/", parent, "/", collection);
}

absl::StatusOr<std::vector<json>> ListAll(ApiClient& client, absl::string_view parent, absl::string_view collection,
                                          const ListRequest& request) {
  const std::string path = CollectionPath(parent, collection);
  const std::string key(collection);
  const int page_size = request.page_size > 0 ? request.page_size : std::max(request.limit, 0);
  std::vector<json> items;
  std::set<std::string> seen_tokens;
  std::string page_token;
  for (int page = 0; page < request.max_pages; ++page) {
    QueryParams query;
    if (!request.filter.empty()) query.emplace_back("filter", request.filter);
    if (page_size > 0) query.emplace_back("pageSize", absl::StrCat(page_size));
    if (!page_token.empty()) query.emplace_back("pageToken", page_token);
    KILN_ASSIGN_OR_RETURN(json answer, client.Get(path, query));
    if (!answer.is_object()) {
      return absl::InternalError(absl::StrCat("list ", path, " answered a non-object"));
    }
    if (auto it = answer.find(key); it != answer.end() && !it->is_null()) {
      if (!it->is_array()) {
        return absl::InternalError(absl::StrCat("list ", path, " answered \"", key, "\" that is not a list"));
      }
      for (json& item : *it) {
        if (request.limit > 0 && items.size() >= static_cast<size_t>(request.limit)) {
          break;
        }
        items.push_back(std::move(item));
      }
    }
    if (request.limit > 0 && items.size() >= static_cast<size_t>(request.limit)) {
      return items;
    }
    auto next = answer.find("nextPageToken");
    if (next == answer.end() || next->is_null()) return items;
    if (!next->is_string()) {
      return absl::InternalError(absl::StrCat("list ", path, " answered a non-string nextPageToken"));
    }
    page_token = next->get<std::string>();
    if (page_token.empty()) return items;
    if (!seen_tokens.insert(page_token).second) {
      return absl::InternalError(absl::StrCat("list ", path, " repeated page token \"", page_token, "\""));
    }
  }
  return absl::InternalError(absl::StrCat("list ", path, " returned more than ", request.max_pages, " pages"));
}

}  // namespace kiln::client
