// Cloud Logging's entries:list over real replicas (POST /v2/entries:list through Api::Handle):
// what entries look like, filters as gcloud writes them, order and paging.

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kiln_fixture.h"
#include "nlohmann/json.hpp"

namespace kiln {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using LogEntriesIntegrationTest = testing::KilnFixture;

constexpr char kTalk[] =
    "import sys, time\n"
    "for i in range(3):\n"
    "  print('out', i, flush=True)\n"
    "  print('err', i, file=sys.stderr, flush=True)\n"
    "  time.sleep(0.05)\n";

class LogEntriesTest : public LogEntriesIntegrationTest {
 protected:
  // Runs a job to success; its numeric id.
  std::string RunJob(const json& pools) {
    std::string name = Create({{"displayName", "talk"}, {"jobSpec", {{"workerPoolSpecs", pools}}}});
    json done = WaitFinal(name);
    EXPECT_EQ(done.value("state", ""), "JOB_STATE_SUCCEEDED") << done.dump(2);
    return name.substr(name.rfind('/') + 1);
  }
  json List(json body, int expect_status = 200) {
    if (!body.contains("resourceNames")) body["resourceNames"] = {"projects/it"};
    server::HttpResponse r = Call("POST", "/v2/entries:list", body.dump());
    EXPECT_EQ(r.status, expect_status) << r.body;
    return json::parse(r.body);
  }
  static std::vector<std::string> Texts(const json& response) {
    std::vector<std::string> texts;
    for (const json& e : response.value("entries", json::array())) texts.push_back(e.value("textPayload", ""));
    return texts;
  }
};

TEST_F(LogEntriesTest, EachLineIsAnEntryAsVertexWritesThem) {
  Start();
  std::string id = RunJob(json::array({Pool({"python3", "-c", kTalk})}));
  json response = List({{"filter", absl::StrCat("resource.type=\"ml_job\" AND resource.labels.job_id=\"", id, "\"")}});
  EXPECT_THAT(Texts(response), ElementsAre("out 0", "err 0", "out 1", "err 1", "out 2", "err 2"));
  std::string last_time;
  std::set<std::string> ids;
  for (const json& e : response["entries"]) {
    EXPECT_EQ(e["logName"], "projects/it/logs/workerpool0-0");
    EXPECT_EQ(e["resource"], json({{"type", "ml_job"},
                                   {"labels", {{"job_id", id}, {"project_id", "it"}, {"task_name", "workerpool0-0"}}}}));
    bool is_err = e["textPayload"].get<std::string>().rfind("err", 0) == 0;
    EXPECT_EQ(e["severity"], is_err ? "ERROR" : "INFO");
    EXPECT_THAT(e.value("insertId", ""), ::testing::StartsWith(absl::StrCat(id, ".workerpool0-0.")));
    EXPECT_EQ(e["timestamp"], e["receiveTimestamp"]);
    std::string time = e.value("timestamp", "");
    EXPECT_GE(time, last_time);  // RFC 3339 UTC strings of one form sort as times
    last_time = time;
    ids.insert(e.value("insertId", ""));
  }
  EXPECT_EQ(ids.size(), 6u);
  EXPECT_EQ(response.value("nextPageToken", ""), "");

  // Severity, text and other jobs or projects.
  EXPECT_THAT(Texts(List({{"filter", absl::StrCat("resource.labels.job_id=", id, " severity=ERROR")}})),
              ElementsAre("err 0", "err 1", "err 2"));
  EXPECT_THAT(Texts(List({{"filter", "textPayload:\"out*\" AND textPayload!=\"out 1\""}})), ElementsAre("out 0", "out 2"));
  EXPECT_THAT(Texts(List({{"filter", "severity>=WARNING"}})), ElementsAre("err 0", "err 1", "err 2"));
  EXPECT_THAT(Texts(List({{"filter", "severity<ERROR AND severity>DEBUG"}})), ElementsAre("out 0", "out 1", "out 2"));
  EXPECT_THAT(Texts(List({{"filter", "resource.labels.job_id=\"999\""}})), ElementsAre());
  EXPECT_THAT(Texts(List({{"filter", "resource.type=\"gce_instance\""}})), ElementsAre());
  EXPECT_THAT(Texts(List({{"resourceNames", {"projects/other"}}})), ElementsAre());
}

TEST_F(LogEntriesTest, TasksOrderAndPagesAsGcloudUsesThem) {
  Start();
  std::string id = RunJob(json::array({Pool({"python3", "-c", kTalk}), Pool({"python3", "-c", "print('worker says hi')"})}));
  std::string job = absl::StrCat("resource.labels.job_id=\"", id, "\"");

  EXPECT_THAT(Texts(List({{"filter", absl::StrCat(job, " AND resource.labels.task_name=\"workerpool1-0\"")}})),
              ElementsAre("worker says hi"));
  json all = List({{"filter", job}});
  ASSERT_EQ(all["entries"].size(), 7u);
  json newest_first = List({{"filter", job}, {"orderBy", "timestamp desc"}});
  std::vector<std::string> reversed = Texts(all);
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(Texts(newest_first), reversed);

  // Pages of 2 give every entry once, in order; a token is bound to its query.
  for (const char* order : {"timestamp asc", "timestamp desc"}) {
    std::vector<std::string> paged;
    std::string token;
    int pages = 0;
    do {
      json body = {{"filter", job}, {"orderBy", order}, {"pageSize", 2}};
      if (!token.empty()) body["pageToken"] = token;
      json page = List(body);
      EXPECT_LE(page.value("entries", json::array()).size(), 2u);
      for (const std::string& t : Texts(page)) paged.push_back(t);
      token = page.value("nextPageToken", "");
      ++pages;
    } while (!token.empty() && pages < 10);
    EXPECT_EQ(paged, std::string(order) == "timestamp asc" ? Texts(all) : reversed) << order;
    EXPECT_EQ(pages, 4) << order;
  }
  json first = List({{"filter", job}, {"pageSize", 2}});
  json wrong = List({{"filter", "severity=ERROR"}, {"pageSize", 2}, {"pageToken", first["nextPageToken"]}}, 400);
  EXPECT_THAT(wrong["error"].value("message", ""), HasSubstr("pageToken"));

  // gcloud stream-logs' position filter: after (timestamp, insertId) of an entry, before a bound.
  const json& third = all["entries"][2];
  std::string t = third["timestamp"], insert = third["insertId"];
  json after = List({{"filter", absl::StrCat(job, " AND ((timestamp=\"", t, "\" AND insertId>\"", insert,
                                             "\") OR timestamp>\"", t, "\") AND timestamp<\"2100-01-01T00:00:00.000000+00:00\"")}});
  std::vector<std::string> texts = Texts(all);
  std::vector<std::string> rest(texts.begin() + 3, texts.end());
  EXPECT_EQ(Texts(after), rest);
  EXPECT_THAT(Texts(List({{"filter", absl::StrCat(job, " AND timestamp<\"2000-01-01T00:00:00Z\"")}})), ElementsAre());
}

TEST_F(LogEntriesTest, BadRequestsGetGoogleErrors) {
  Start();
  json missing = List({{"resourceNames", json::array()}}, 400);
  EXPECT_EQ(missing["error"].value("status", ""), "INVALID_ARGUMENT");
  EXPECT_THAT(missing["error"].value("message", ""), HasSubstr("resourceNames"));
  json filter = List({{"filter", "resource.labels.job_id="}}, 400);
  EXPECT_THAT(filter["error"].value("message", ""), HasSubstr("filter"));
}

}  // namespace
}  // namespace kiln
