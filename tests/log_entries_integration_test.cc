// Cloud Logging's entries:list over real replicas (POST /v2/entries:list through Api::Handle):
// what entries look like, filters as gcloud writes them, order and paging.

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
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
  // An entry's timestamp (RFC 3339 with 0, 3, 6 or 9 fractional digits: not sortable as text).
  static absl::Time Time(const json& entry) {
    absl::Time t = absl::InfinitePast();
    std::string error;
    EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, entry.value("timestamp", ""), &t, &error)) << error;
    return t;
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
  absl::Time last_time = absl::InfinitePast();
  std::set<std::string> ids;
  for (const json& e : response["entries"]) {
    EXPECT_EQ(e["logName"], "projects/it/logs/workerpool0-0");
    EXPECT_EQ(
        e["resource"],
        json({{"type", "ml_job"}, {"labels", {{"job_id", id}, {"project_id", "it"}, {"task_name", "workerpool0-0"}}}}));
    bool is_err = e["textPayload"].get<std::string>().rfind("err", 0) == 0;
    EXPECT_EQ(e["severity"], is_err ? "ERROR" : "INFO");
    EXPECT_THAT(e.value("insertId", ""), ::testing::StartsWith(absl::StrCat(id, ".workerpool0-0.")));
    EXPECT_EQ(e["timestamp"], e["receiveTimestamp"]);
    absl::Time time = Time(e);
    EXPECT_GE(time, last_time);
    last_time = time;
    ids.insert(e.value("insertId", ""));
  }
  EXPECT_EQ(ids.size(), 6u);
  EXPECT_EQ(response.value("nextPageToken", ""), "");

  // Severity, text and other jobs or projects.
  EXPECT_THAT(Texts(List({{"filter", absl::StrCat("resource.labels.job_id=", id, " severity=ERROR")}})),
              ElementsAre("err 0", "err 1", "err 2"));
  EXPECT_THAT(Texts(List({{"filter", "textPayload:\"out*\" AND textPayload!=\"out 1\""}})),
              ElementsAre("out 0", "out 2"));
  EXPECT_THAT(Texts(List({{"filter", "severity>=WARNING"}})), ElementsAre("err 0", "err 1", "err 2"));
  EXPECT_THAT(Texts(List({{"filter", "severity<ERROR AND severity>DEBUG"}})), ElementsAre("out 0", "out 1", "out 2"));
  EXPECT_THAT(Texts(List({{"filter", "resource.labels.job_id=\"999\""}})), ElementsAre());
  EXPECT_THAT(Texts(List({{"filter", "resource.type=\"gce_instance\""}})), ElementsAre());
  EXPECT_THAT(Texts(List({{"resourceNames", {"projects/other"}}})), ElementsAre());
}

TEST_F(LogEntriesTest, TasksOrderAndPagesAsGcloudUsesThem) {
  Start();
  std::string id =
      RunJob(json::array({Pool({"python3", "-c", kTalk}), Pool({"python3", "-c", "print('worker says hi')"})}));
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
  json after =
      List({{"filter", absl::StrCat(job, " AND ((timestamp=\"", t, "\" AND insertId>\"", insert, "\") OR timestamp>\"",
                                    t, "\") AND timestamp<\"2100-01-01T00:00:00.000000+00:00\"")}});
  std::vector<std::string> texts = Texts(all);
  std::vector<std::string> rest(texts.begin() + 3, texts.end());
  EXPECT_EQ(Texts(after), rest);
  EXPECT_THAT(Texts(List({{"filter", absl::StrCat(job, " AND timestamp<\"2000-01-01T00:00:00Z\"")}})), ElementsAre());
}

TEST_F(LogEntriesTest, ALongLogPagesInBothOrders) {
  Start();
  // 2500 lines over two replicas, many in pieces of their own: each page reads only as far as
  // it needs in each replica, and the pages still join up exactly. The primary ends after the
  // worker (a job's end stops the replicas still running).
  std::string mark = (home_ / "worker-done").string();
  std::string many = "import os, time\nfor i in range(1250):\n  print('line', i, flush=(i % 3 == 0))\n";
  std::string worker = many + "open('" + mark + "', 'w').close()\n";
  std::string primary =
      many + "for _ in range(3000):\n  if os.path.exists('" + mark + "'): break\n  time.sleep(0.01)\n";
  std::string id = RunJob(json::array({Pool({"python3", "-c", primary}), Pool({"python3", "-c", worker})}));
  std::string job = absl::StrCat("resource.labels.job_id=\"", id, "\"");
  for (const char* order : {"timestamp asc", "timestamp desc"}) {
    std::vector<std::pair<absl::Time, std::string>> keys;
    std::string token;
    int pages = 0;
    do {
      json body = {{"filter", job}, {"orderBy", order}, {"pageSize", 1000}};
      if (!token.empty()) body["pageToken"] = token;
      json page = List(body);
      for (const json& e : page.value("entries", json::array())) {
        keys.emplace_back(Time(e), e.value("insertId", ""));
      }
      token = page.value("nextPageToken", "");
      ++pages;
    } while (!token.empty() && pages < 10);
    EXPECT_EQ(pages, 3) << order;
    ASSERT_EQ(keys.size(), 2500u) << order;
    std::set<std::pair<absl::Time, std::string>> distinct(keys.begin(), keys.end());
    EXPECT_EQ(distinct.size(), 2500u) << order;
    // In order: by time, then insertId.
    std::vector<std::pair<absl::Time, std::string>> sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    if (std::string(order) == "timestamp desc") std::reverse(sorted.begin(), sorted.end());
    EXPECT_EQ(keys, sorted) << order;
  }
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
