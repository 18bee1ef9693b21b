// Quality snapshots over HTTP: POST /pools/{id}/aggregate and GET
// /pools/{id}/quality (versions, errors, who may see them), and the
// background aggregation job configured by [jobs] aggregate_interval_seconds.
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/integration/server_fixture.h"

namespace tessera::integration {
namespace {

std::string Path(const char* prefix, int64_t id, const char* suffix = "") {
  return absl::StrCat(prefix, id, suffix);
}

json ClassifyPool() {
  return {{"name", "sentiment"},
          {"task_type", "classify"},
          {"config", {{"labels", {"yes", "no"}}}},
          {"price", {{"amount_minor", 10}, {"currency", "CNY"}}},
          {"overlap", 3}};
}

std::vector<json> TextTasks(int n) {
  std::vector<json> tasks;
  for (int i = 0; i < n; ++i) {
    tasks.push_back({{"data", {{"text", absl::StrCat("review ", i)}}}});
  }
  return tasks;
}

// Claims and submits every task `a` can get from `pool` with `label`;
// returns how many it submitted (fails the test on an unexpected status).
int LabelAll(ApiClient& a, int64_t pool, const std::string& label) {
  int n = 0;
  while (true) {
    auto claim =
        a.Post(Path("/api/v1/pools/", pool, "/claims"), json::object());
    if (claim.status == 204) return n;
    EXPECT_EQ(claim.status, 201) << claim.Describe();
    if (claim.status != 201) return n;
    auto sub = a.Post(Path("/api/v1/claims/",
                           claim.body["claim"]["id"].get<int64_t>(), "/submit"),
                      {{"result", {{"label", label}}}});
    EXPECT_EQ(sub.status, 201) << sub.Describe();
    if (sub.status != 201) return n;
    ++n;
  }
}

TEST_P(IntegrationTest, AggregateAndReadQualitySnapshots) {
  ApiClient requester = CreateUser("req", {"requester"});
  ApiClient other = CreateUser("other", {"requester"});
  std::vector<ApiClient> ann;
  for (int k = 0; k < 3; ++k) {
    ann.push_back(CreateUser(absl::StrCat("ann", k), {"annotator"}));
  }
  const int64_t project = CreateProject(requester, 10'000);
  ASSERT_GT(project, 0);
  const int64_t pool = CreatePool(requester, project, ClassifyPool());
  ASSERT_GT(pool, 0);
  ASSERT_TRUE(AddTasks(requester, pool, TextTasks(4)));
  ASSERT_TRUE(OpenPool(requester, pool));
  const std::string quality = Path("/api/v1/pools/", pool, "/quality");
  const std::string aggregate = Path("/api/v1/pools/", pool, "/aggregate");

  // Nothing yet.
  EXPECT_TRUE(IsApiError(requester.Get(quality), 404, std::nullopt));

  EXPECT_EQ(LabelAll(ann[0], pool, "yes"), 4);
  EXPECT_EQ(LabelAll(ann[1], pool, "yes"), 4);
  EXPECT_EQ(LabelAll(ann[2], pool, "no"), 4);

  auto first = requester.Post(aggregate, json::object());
  ASSERT_EQ(first.status, 201) << first.Describe();
  const json& q = first.body;
  EXPECT_EQ(q["pool_id"], pool);
  EXPECT_EQ(q["version"], 1);
  EXPECT_EQ(q["method"], "dawid_skene_smoothed");
  EXPECT_EQ(q["counts"]["tasks"], 4);
  EXPECT_EQ(q["counts"]["results"], 12);
  ASSERT_EQ(q["tasks"].size(), 4u);
  for (const json& t : q["tasks"]) {
    EXPECT_EQ(t["label"], "yes") << t.dump();
    EXPECT_GT(t["confidence"].get<double>(), 0.5);
  }
  ASSERT_EQ(q["annotators"].size(), 3u);
  for (const json& a : q["annotators"]) {
    EXPECT_TRUE(a["annotator_id"].is_number_integer());
    EXPECT_EQ(a["answers"], 4);
  }
  EXPECT_TRUE(q["agreement"]["krippendorff_alpha"].is_number() ||
              q["agreement"]["krippendorff_alpha"].is_null());
  EXPECT_NEAR(q["agreement"]["percent_agreement"].get<double>(), 1.0 / 3, 1e-6);
  // Annotators appear by id, never by name.
  EXPECT_EQ(first.raw.find("ann0"), std::string::npos) << first.raw;

  // A second run is the next version; GET returns the latest or a chosen one.
  auto second = requester.Post(aggregate, json::object());
  ASSERT_EQ(second.status, 201) << second.Describe();
  EXPECT_EQ(second.body["version"], 2);
  auto latest = requester.Get(quality);
  ASSERT_EQ(latest.status, 200) << latest.Describe();
  EXPECT_EQ(latest.body, second.body);
  auto v1 = requester.Get(quality + "?version=1");
  ASSERT_EQ(v1.status, 200) << v1.Describe();
  EXPECT_EQ(v1.body, first.body);
  EXPECT_TRUE(
      IsApiError(requester.Get(quality + "?version=9"), 404, std::nullopt));
  EXPECT_TRUE(IsApiError(requester.Get(quality + "?version=abc"), 400,
                         std::string("version")));
  EXPECT_TRUE(
      IsApiError(requester.Get(quality + "?version=0"), 400, "version"));

  // Requester-only, and only for the pool's owner (or an admin).
  EXPECT_TRUE(IsApiError(ann[0].Get(quality), 403, std::nullopt));
  EXPECT_TRUE(
      IsApiError(ann[0].Post(aggregate, json::object()), 403, std::nullopt));
  EXPECT_TRUE(IsApiError(other.Get(quality), 404, std::nullopt));
  EXPECT_TRUE(
      IsApiError(other.Post(aggregate, json::object()), 404, std::nullopt));
  auto by_admin = admin().Get(quality);
  EXPECT_EQ(by_admin.status, 200) << by_admin.Describe();
  EXPECT_TRUE(IsApiError(
      requester.Post("/api/v1/pools/999999/aggregate", json::object()), 404,
      std::nullopt));
}

// Polls `target` until `done(body)` holds for a 200 (or ~15 s pass); returns
// the last 200 body seen (null when none).
template <typename Pred>
json WaitFor(ApiClient& client, const std::string& target, Pred done) {
  json last;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = client.Get(target);
    if (r.status == 200) {
      last = r.body;
      if (done(last)) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return last;
}

TEST_P(IntegrationTest, AggregationJobSnapshotsPoolsWhoseWorkChanged) {
  // A second server on the same database runs the job every second.
  {
    std::ofstream config(config_file_, std::ios::app);
    config << "\n[jobs]\naggregate_interval_seconds = 1\n";
  }
  ASSERT_NE(StartServer(), nullptr);
  ApiClient requester = CreateUser("req", {"requester"});
  ApiClient ann0 = CreateUser("ann0", {"annotator"});
  ApiClient ann1 = CreateUser("ann1", {"annotator"});
  const int64_t project = CreateProject(requester, 10'000);
  ASSERT_GT(project, 0);
  json body = ClassifyPool();
  body["overlap"] = 2;
  const int64_t pool = CreatePool(requester, project, body);
  ASSERT_GT(pool, 0);
  ASSERT_TRUE(AddTasks(requester, pool, TextTasks(2)));
  ASSERT_TRUE(OpenPool(requester, pool));
  const std::string quality = Path("/api/v1/pools/", pool, "/quality");

  EXPECT_EQ(LabelAll(ann0, pool, "yes"), 2);
  json q = WaitFor(requester, quality, [](const json& b) {
    return b.value("counts", json::object()).value("results", 0) == 2;
  });
  ASSERT_TRUE(q.is_object()) << "the job wrote no snapshot";
  EXPECT_EQ(q["counts"]["results"], 2);
  const int version = q["version"].get<int>();
  EXPECT_GE(version, 1);

  // New work: a newer snapshot covers it.
  EXPECT_EQ(LabelAll(ann1, pool, "no"), 2);
  q = WaitFor(requester, quality, [](const json& b) {
    return b.value("counts", json::object()).value("results", 0) == 4;
  });
  ASSERT_TRUE(q.is_object());
  EXPECT_EQ(q["counts"]["results"], 4);
  EXPECT_EQ(q["counts"]["annotators"], 2);
  EXPECT_GT(q["version"].get<int>(), version);
}

}  // namespace
}  // namespace tessera::integration
