// Golden request/response tests of the REST surface.
//
// Each tests/golden/*.json file is one case: a list of exchanges run in order against a fresh
// kiln (temporary home, fake clock, so ids and times are deterministic):
//   {"auth": false,                        // true: tokens file with the tokens below
//    "exchanges": [
//      {"request": {"method": "POST", "path": "/v1/...", "query": [["pageSize", "2"]],
//                   "headers": {"Authorization": "Bearer ..."}, "body": {...} | "raw text"},
//       "response": {"status": 200, "headers": {"Allow": "GET"}, "body": {...}}}],
//    "files": {"storage/bucket/path": "content"}}  // optional: written under the home first
// Expected bodies must equal the actual ones, except that the string "<any>" matches any value.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "app/kiln_app.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kTokens[] = R"(
tokens:
  - token: "golden-rw-token-0001"
    projects: ["p"]
  - token: "golden-ro-token-0001"
    projects: ["*"]
    access: read-only
    name: viewer
)";

// Compares with "<any>" wildcards; returns "" when equal, else the JSON path of the first difference.
std::string Diff(const json& expected, const json& actual, const std::string& path) {
  if (expected.is_string() && expected.get<std::string>() == "<any>") return "";
  if (expected.type() != actual.type()) return path.empty() ? "<root>" : path;
  if (expected.is_object()) {
    for (auto it = expected.begin(); it != expected.end(); ++it) {
      if (!actual.contains(it.key())) return absl::StrCat(path, ".", it.key(), " (missing)");
      std::string d = Diff(it.value(), actual[it.key()], absl::StrCat(path, ".", it.key()));
      if (!d.empty()) return d;
    }
    for (auto it = actual.begin(); it != actual.end(); ++it) {
      if (!expected.contains(it.key())) return absl::StrCat(path, ".", it.key(), " (unexpected)");
    }
    return "";
  }
  if (expected.is_array()) {
    if (expected.size() != actual.size()) return absl::StrCat(path, " (length)");
    for (size_t i = 0; i < expected.size(); ++i) {
      std::string d = Diff(expected[i], actual[i], absl::StrCat(path, "[", i, "]"));
      if (!d.empty()) return d;
    }
    return "";
  }
  return expected == actual ? "" : (path.empty() ? "<root>" : path);
}

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> files;
  fs::path dir = fs::path(KILN_SOURCE_DIR) / "tests" / "golden";
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, Matches) {
  std::ifstream in(GetParam());
  ASSERT_TRUE(in) << GetParam();
  json golden = json::parse(in);

  fs::path home =
      fs::temp_directory_path() / absl::StrCat("kiln-golden-", getpid(), "-", fs::path(GetParam()).stem().string());
  fs::remove_all(home);
  FakeClock clock;
  app::KilnApp::Options options;
  options.home = home.string();
  options.run_jobs = false;  // the API alone: jobs stay as created
  options.clock = &clock;
  if (golden.value("auth", false)) {
    auto tokens = server::TokenAuthorizer::LoadYaml(kTokens);
    ASSERT_TRUE(tokens.ok());
    options.tokens = *tokens;
  }
  const json files = golden.value("files", json::object());
  for (const auto& [path, content] : files.items()) {
    fs::create_directories((home / path).parent_path());
    std::ofstream(home / path) << content.get<std::string>();
  }
  auto kiln = app::KilnApp::Create(std::move(options));
  ASSERT_TRUE(kiln.ok()) << kiln.status();

  int step = 0;
  for (const json& exchange : golden.at("exchanges")) {
    SCOPED_TRACE(absl::StrCat(GetParam(), " exchange ", step++));
    const json& req = exchange.at("request");
    server::HttpRequest request;
    request.method = req.at("method");
    request.path = req.at("path");
    std::vector<std::string> raw;
    for (const json& kv : req.value("query", json::array())) {
      request.query.emplace_back(kv[0], kv[1]);
      raw.push_back(absl::StrCat(kv[0].get<std::string>(), "=", kv[1].get<std::string>()));
    }
    for (size_t i = 0; i < raw.size(); ++i) absl::StrAppend(&request.raw_query, i ? "&" : "", raw[i]);
    if (req.contains("headers") && req["headers"].contains("Authorization")) {
      request.authorization = req["headers"]["Authorization"];
    }
    if (req.contains("body"))
      request.body = req["body"].is_string() ? req["body"].get<std::string>() : req["body"].dump();

    server::HttpResponse response = (*kiln)->api().Handle(request);
    const json& want = exchange.at("response");
    EXPECT_EQ(response.status, want.at("status").get<int>()) << response.body;
    const json want_headers = want.value("headers", json::object());
    for (const auto& [k, v] : want_headers.items()) {
      bool found = false;
      for (const auto& [hk, hv] : response.headers) found = found || (hk == k && hv == v.get<std::string>());
      EXPECT_TRUE(found) << "header " << k << ": " << v;
    }
    json actual = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(actual.is_discarded()) << "not JSON: " << response.body;
    if (want.contains("body")) {
      std::string d = Diff(want["body"], actual, "");
      EXPECT_EQ(d, "") << "expected " << want["body"].dump(2) << "\nactual " << actual.dump(2);
    }
  }
  fs::remove_all(home);
}

INSTANTIATE_TEST_SUITE_P(Files, GoldenTest, ::testing::ValuesIn(GoldenFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = fs::path(info.param).stem().string();
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

}  // namespace
}  // namespace kiln
