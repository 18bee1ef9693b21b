// Quality snapshots through service::Service with a fake clock: truth
// inference on a classify pool with a spammer, box merging, bias-corrected
// ratings, free-text pools, versioning, the stale-pool job, racing writers,
// and who may see snapshots. Built on SQLite (service_quality_test) and, with
// TESSERA_SERVICE_TEST_POSTGRES, on PostgreSQL (service_quality_pgtest).
#include "tessera/service/quality.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tessera/base/clock.h"
#include "tessera/base/status.h"
#include "tessera/service/auth.h"
#include "tessera/service/service.h"
#include "tessera/service/service_test_base.h"
#include "tessera/store/store_conformance.h"

namespace tessera::service {
namespace {

using store::Tx;

// True when `j` has an object key named `key` at any depth.
bool HasKeyAnywhere(const json& j, const std::string& key) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == key || HasKeyAnywhere(v, key)) return true;
    }
  } else if (j.is_array()) {
    for (const json& v : j) {
      if (HasKeyAnywhere(v, key)) return true;
    }
  }
  return false;
}

// The element of `list` whose `key` equals `id` (null when none).
json ById(const json& list, const char* key, int64_t id) {
  for (const json& e : list) {
    if (e.value(key, int64_t{-1}) == id) return e;
  }
  return nullptr;
}

class QualityTest : public ServiceTestBase {
 protected:
  // An open pool of `type` in a new project of `owner`, with `tasks` (each
  // a task's data).
  absl::StatusOr<PoolId> OpenPool(const Principal& owner,
                                  const std::string& type, json config,
                                  int overlap, const std::vector<json>& tasks) {
    TS_ASSIGN_OR_RETURN(
        json project,
        svc().CreateProject(
            owner,
            {{"name", "quality"},
             {"budget", {{"amount_minor", 1'000'000}, {"currency", "CNY"}}}}));
    TS_ASSIGN_OR_RETURN(
        json pool, svc().CreatePool(
                       owner, ProjectId(project["id"].get<int64_t>()),
                       {{"name", type},
                        {"task_type", type},
                        {"config", config},
                        {"price", {{"amount_minor", 10}, {"currency", "CNY"}}},
                        {"overlap", overlap},
                        {"max_rounds", 3}}));
    PoolId id(pool["id"].get<int64_t>());
    json list = json::array();
    for (const json& data : tasks) list.push_back({{"data", data}});
    TS_RETURN_IF_ERROR(svc().AddTasks(owner, id, {{"tasks", list}}).status());
    TS_RETURN_IF_ERROR(svc().OpenPool(owner, id).status());
    return id;
  }

  // Claims and submits up to `limit` tasks of `pool` as `a`, the result of
  // each computed from its data. Returns the submission ids.
  absl::StatusOr<std::vector<SubmissionId>> Work(
      const Principal& a, PoolId pool,
      const std::function<json(const json& data)>& result, int limit = 1000) {
    std::vector<SubmissionId> out;
    for (int i = 0; i < limit; ++i) {
      TS_ASSIGN_OR_RETURN(auto claim, svc().Claim(a, pool));
      if (!claim) break;
      const json& body = claim->body;
      TS_ASSIGN_OR_RETURN(
          json sub,
          svc().Submit(a, ClaimId(body["claim"]["id"].get<int64_t>()),
                       {{"result", result(body["task"]["data"])}}, ""));
      out.emplace_back(sub["id"].get<int64_t>());
    }
    return out;
  }
};

// Three careful annotators (each wrong on a tenth of the tasks) and one who
// answers at random, on 30 three-class tasks.
TEST_P(QualityTest, ClassifySpammerIsOutvotedAndRatedLow) {
  const std::vector<std::string> kClasses = {"cat", "dog", "bird"};
  const int kTasks = 30;
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(std::vector<Principal> good,
                          NewAnnotators("good", 3));
  TS_ASSERT_OK_AND_ASSIGN(Principal spammer, NewUser("spam", {"annotator"}));

  std::mt19937 rng(7);  // mt19937's output is fixed by the standard
  std::vector<int> truth(kTasks), spam(kTasks);
  std::vector<json> tasks;
  for (int i = 0; i < kTasks; ++i) {
    truth[i] = i % 3;
    spam[i] = static_cast<int>(rng() % 3);
    tasks.push_back({{"text", absl::StrCat("item ", i)}, {"n", i}});
  }
  TS_ASSERT_OK_AND_ASSIGN(
      PoolId pool, OpenPool(req, "classify", {{"labels", kClasses}}, 4, tasks));
  // Good annotator k errs on tasks with n % 10 == 3k + 1, never choosing the
  // spammer's answer, so the truth always has a strict majority.
  for (int k = 0; k < 3; ++k) {
    auto answer = [&, k](const json& data) {
      const int n = data["n"].get<int>();
      int label = truth[n];
      if (n % 10 == 3 * k + 1) {
        label = (truth[n] + 1) % 3;
        if (label == spam[n]) label = (truth[n] + 2) % 3;
      }
      return json{{"label", kClasses[label]}};
    };
    TS_ASSERT_OK_AND_ASSIGN(auto subs, Work(good[k], pool, answer));
    ASSERT_EQ(subs.size(), size_t(kTasks));
  }
  TS_ASSERT_OK_AND_ASSIGN(
      auto spam_subs, Work(spammer, pool, [&](const json& data) {
        return json{{"label", kClasses[spam[data["n"].get<int>()]]}};
      }));
  ASSERT_EQ(spam_subs.size(), size_t(kTasks));

  TS_ASSERT_OK_AND_ASSIGN(json q, svc().Aggregate(req, pool));
  EXPECT_EQ(q["pool_id"], pool.value);
  EXPECT_EQ(q["version"], 1);
  EXPECT_EQ(q["method"], "dawid_skene_smoothed");
  EXPECT_EQ(q["task_type"], "classify");
  EXPECT_EQ(q["inference"], true);
  EXPECT_EQ(q["submissions_seen"], spam_subs.back().value);
  EXPECT_EQ(
      q["counts"],
      (json{
          {"tasks", 30}, {"annotators", 4}, {"results", 120}, {"skipped", 0}}));
  ASSERT_EQ(q["tasks"].size(), size_t(kTasks));

  // Map task ids back to n: tasks were created in order.
  const int64_t first_task = q["tasks"][0]["task_id"].get<int64_t>();
  int outvoted = 0;
  for (const json& t : q["tasks"]) {
    const int n = static_cast<int>(t["task_id"].get<int64_t>() - first_task);
    ASSERT_GE(n, 0);
    ASSERT_LT(n, kTasks);
    EXPECT_EQ(t["label"], kClasses[truth[n]]) << t.dump();
    EXPECT_GT(t["confidence"].get<double>(), 0.5) << t.dump();
    EXPECT_EQ(t["answers"], 4);
    double total = 0;
    for (const auto& [label, p] : t["posterior"].items()) {
      total += p.get<double>();
    }
    EXPECT_NEAR(total, 1.0, 1e-5);
    if (spam[n] != truth[n]) {
      EXPECT_NE(t["label"], kClasses[spam[n]]);
      ++outvoted;
    }
  }
  EXPECT_GT(outvoted, 10);  // the spammer was wrong often, and lost each time

  const json s = ById(q["annotators"], "annotator_id", spammer.id.value);
  ASSERT_TRUE(s.is_object()) << q["annotators"].dump();
  EXPECT_EQ(s["answers"], kTasks);
  EXPECT_LT(s["accuracy"].get<double>(), 0.6) << s.dump();
  for (const Principal& g : good) {
    const json a = ById(q["annotators"], "annotator_id", g.id.value);
    ASSERT_TRUE(a.is_object());
    EXPECT_GT(a["accuracy"].get<double>(), 0.8) << a.dump();
    EXPECT_GT(a["accuracy"].get<double>(), s["accuracy"].get<double>() + 0.3);
    EXPECT_NEAR(a["agreement_with_inferred"].get<double>(), 0.9, 1e-9);
  }
  const json& agreement = q["agreement"];
  EXPECT_EQ(agreement["level"], "nominal");
  EXPECT_GT(agreement["krippendorff_alpha"].get<double>(), 0.0);
  EXPECT_LT(agreement["krippendorff_alpha"].get<double>(), 1.0);
  EXPECT_GT(agreement["percent_agreement"].get<double>(), 0.3);
  EXPECT_LT(agreement["percent_agreement"].get<double>(), 1.0);
  // Annotators appear by id only.
  EXPECT_FALSE(HasKeyAnywhere(q, "username"));
  EXPECT_EQ(q.dump().find("good0"), std::string::npos);

  // GET returns what POST stored.
  TS_ASSERT_OK_AND_ASSIGN(json got, svc().GetQuality(req, pool));
  EXPECT_EQ(got, q);
}

TEST_P(QualityTest, VersionsIncrementAndTheJobSnapshotsOnlyStalePools) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal other, NewUser("other", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal admin, NewUser("root", {"admin"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal a0, NewUser("a0", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal a1, NewUser("a1", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal rev, NewUser("rev", {"reviewer"}));
  TS_ASSERT_OK_AND_ASSIGN(
      PoolId pool, OpenPool(req, "classify", {{"labels", {"yes", "no"}}}, 2,
                            {json{{"text", "a"}}, json{{"text", "b"}}}));
  auto yes = [](const json&) { return json{{"label", "yes"}}; };

  // No submissions: nothing to snapshot, nothing to show.
  EXPECT_EQ(svc().GetQuality(req, pool).status().code(),
            absl::StatusCode::kNotFound);
  TS_ASSERT_OK_AND_ASSIGN(int written, svc().AggregateStalePools());
  EXPECT_EQ(written, 0);

  // A submission makes the pool stale; the job snapshots it once.
  TS_ASSERT_OK_AND_ASSIGN(auto first, Work(a0, pool, yes, 1));
  ASSERT_EQ(first.size(), 1u);
  TS_ASSERT_OK_AND_ASSIGN(written, svc().AggregateStalePools());
  EXPECT_EQ(written, 1);
  TS_ASSERT_OK_AND_ASSIGN(json v1, svc().GetQuality(req, pool));
  EXPECT_EQ(v1["version"], 1);
  EXPECT_EQ(v1["submissions_seen"], first[0].value);
  EXPECT_EQ(v1["counts"]["results"], 1);
  TS_ASSERT_OK_AND_ASSIGN(written, svc().AggregateStalePools());
  EXPECT_EQ(written, 0);

  // A requester may snapshot at any time; versions count up per pool.
  clock_.Advance(absl::Minutes(1));
  TS_ASSERT_OK_AND_ASSIGN(json v2, svc().Aggregate(req, pool));
  EXPECT_EQ(v2["version"], 2);
  EXPECT_EQ(v2["created_at"], Rfc3339(clock_.Now()));
  TS_ASSERT_OK_AND_ASSIGN(written, svc().AggregateStalePools());
  EXPECT_EQ(written, 0);

  // More work: stale again.
  TS_ASSERT_OK_AND_ASSIGN(auto rest, Work(a0, pool, yes));
  TS_ASSERT_OK_AND_ASSIGN(auto more, Work(a1, pool, yes));
  ASSERT_EQ(rest.size() + more.size(), 3u);
  TS_ASSERT_OK_AND_ASSIGN(written, svc().AggregateStalePools());
  EXPECT_EQ(written, 1);
  TS_ASSERT_OK_AND_ASSIGN(json v3, svc().GetQuality(req, pool));
  EXPECT_EQ(v3["version"], 3);
  EXPECT_EQ(v3["counts"]["results"], 4);
  EXPECT_EQ(v3["counts"]["annotators"], 2);

  // Leasing a review and accepting change no input; a rejection does.
  auto review = [&](const char* verdict) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto lease, svc().ClaimReview(rev, pool));
    if (!lease) return absl::NotFoundError("nothing to review");
    SubmissionId id((*lease)["submission"]["id"].get<int64_t>());
    TS_ASSIGN_OR_RETURN(written, svc().AggregateStalePools());
    EXPECT_EQ(written, 0) << "a review lease made the pool stale";
    return svc()
        .Review(rev, id,
                {{"verdict", verdict}, {"comments", {{{"text", "why"}}}}})
        .status();
  };
  TS_ASSERT_OK(review("accept"));
  TS_ASSERT_OK_AND_ASSIGN(written, svc().AggregateStalePools());
  EXPECT_EQ(written, 0);
  TS_ASSERT_OK(review("reject"));
  TS_ASSERT_OK_AND_ASSIGN(written, svc().AggregateStalePools());
  EXPECT_EQ(written, 1);
  TS_ASSERT_OK_AND_ASSIGN(json v4, svc().GetQuality(req, pool));
  EXPECT_EQ(v4["version"], 4);
  EXPECT_EQ(v4["counts"]["results"], 3);  // the rejected one is left out

  // Older versions stay readable.
  TS_ASSERT_OK_AND_ASSIGN(json old, svc().GetQuality(req, pool, 1));
  EXPECT_EQ(old, v1);
  EXPECT_EQ(svc().GetQuality(req, pool, 99).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc().GetQuality(req, pool, 0).status().code(),
            absl::StatusCode::kInvalidArgument);

  // Who may see and run it: the owner and admins only.
  EXPECT_EQ(svc().GetQuality(a0, pool).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc().Aggregate(a0, pool).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc().GetQuality(other, pool).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc().Aggregate(other, pool).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc().Aggregate(req, PoolId(pool.value + 100)).status().code(),
            absl::StatusCode::kNotFound);
  TS_ASSERT_OK_AND_ASSIGN(json by_admin, svc().Aggregate(admin, pool));
  EXPECT_EQ(by_admin["version"], 5);

  // Every snapshot is audited.
  int audited = 0;
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto records, tx.ListAudit("pool", pool.value));
    for (const auto& r : records) audited += r.action == "quality.snapshot";
    return absl::OkStatus();
  }));
  EXPECT_EQ(audited, 5);
}

// Two annotators box one car per image; a third boxes it too and adds a
// stray box everywhere. The stray boxes are voted out and cost precision.
TEST_P(QualityTest, BboxPoolMergesBoxesAndRatesTheStrayDrawer) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(std::vector<Principal> ann, NewAnnotators("a", 3));
  std::vector<json> images;
  for (int i = 0; i < 4; ++i) {
    images.push_back({{"image", absl::StrCat("street/", i, ".jpg")},
                      {"width", 640},
                      {"height", 480}});
  }
  TS_ASSERT_OK_AND_ASSIGN(
      PoolId pool,
      OpenPool(req, "bbox", {{"labels", {"car", "person"}}}, 3, images));
  auto box = [](const char* label, double x, double y, double w, double h) {
    return json{{"label", label}, {"x", x}, {"y", y}, {"w", w}, {"h", h}};
  };
  for (int k = 0; k < 3; ++k) {
    TS_ASSERT_OK_AND_ASSIGN(
        auto subs, Work(ann[k], pool, [&, k](const json&) {
          json boxes = json::array({box("car", 100 + k, 100, 50 + k, 40)});
          if (k == 2) boxes.push_back(box("person", 400, 300, 30, 30));
          return json{{"boxes", boxes}};
        }));
    ASSERT_EQ(subs.size(), 4u);
  }
  TS_ASSERT_OK_AND_ASSIGN(json q, svc().Aggregate(req, pool));
  EXPECT_EQ(q["method"], "weighted_boxes");
  EXPECT_EQ(q["counts"]["tasks"], 4);
  ASSERT_EQ(q["tasks"].size(), 4u);
  for (const json& t : q["tasks"]) {
    EXPECT_EQ(t["annotators"], 3);
    ASSERT_EQ(t["boxes"].size(), 1u) << t.dump();
    const json& b = t["boxes"][0];
    EXPECT_EQ(b["label"], "car");
    EXPECT_NEAR(b["x"].get<double>(), 101, 1.01);
    EXPECT_NEAR(b["y"].get<double>(), 100, 1e-6);
    EXPECT_NEAR(b["w"].get<double>(), 51, 1.01);
    EXPECT_NEAR(b["h"].get<double>(), 40, 1e-6);
    EXPECT_GT(b["confidence"].get<double>(), 0.5);
  }
  const json stray = ById(q["annotators"], "annotator_id", ann[2].id.value);
  const json careful = ById(q["annotators"], "annotator_id", ann[0].id.value);
  ASSERT_TRUE(stray.is_object() && careful.is_object()) << q.dump();
  EXPECT_EQ(stray["boxes"], 8);
  EXPECT_EQ(careful["boxes"], 4);
  EXPECT_DOUBLE_EQ(careful["precision"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(stray["precision"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(stray["recall"].get<double>(), 1.0);
  EXPECT_GT(careful["mean_iou"].get<double>(), 0.9);
  const json& agreement = q["agreement"];
  ASSERT_TRUE(agreement.is_object()) << q.dump();
  EXPECT_GT(agreement["mean_pairwise_iou"].get<double>(), 0.5);
  EXPECT_LT(agreement["mean_pairwise_iou"].get<double>(), 1.0);
  EXPECT_EQ(agreement["worker_pairs"], 12);  // 3 pairs on each of 4 images
}

// One annotator rates everything a point higher than the other two.
TEST_P(QualityTest, RatingPoolCorrectsWorkerBias) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(std::vector<Principal> ann, NewAnnotators("a", 3));
  std::vector<json> tasks;
  for (int i = 0; i < 6; ++i) {
    tasks.push_back({{"prompt", "p"}, {"response", "r"}, {"n", i}});
  }
  TS_ASSERT_OK_AND_ASSIGN(
      PoolId pool,
      OpenPool(req, "rating", {{"criteria", {"helpful"}}}, 3, tasks));
  auto truth = [](int n) { return 2 + n % 3; };
  for (int k = 0; k < 3; ++k) {
    TS_ASSERT_OK_AND_ASSIGN(
        auto subs, Work(ann[k], pool, [&, k](const json& d) {
          int n = d["n"].get<int>();
          return json{{"scores", {{"helpful", truth(n) + (k == 2 ? 1 : 0)}}}};
        }));
    ASSERT_EQ(subs.size(), 6u);
  }
  TS_ASSERT_OK_AND_ASSIGN(json q, svc().Aggregate(req, pool));
  EXPECT_EQ(q["method"], "bias_corrected_mean");
  const int64_t first_task = q["tasks"][0]["task_id"].get<int64_t>();
  for (const json& t : q["tasks"]) {
    int n = static_cast<int>(t["task_id"].get<int64_t>() - first_task);
    EXPECT_EQ(t["ratings"], 3);
    // The plain mean would be truth + 1/3.
    EXPECT_NEAR(t["scores"]["helpful"].get<double>(), truth(n), 0.2)
        << t.dump();
    // Once the +1 rater's bias is removed the three ratings agree: without
    // the correction the mean deviation (4/9 of a point on a 4-point range)
    // would put the confidence below 0.9.
    EXPECT_GT(t["confidence"].get<double>(), 0.9) << t.dump();
  }
  const json high = ById(q["annotators"], "annotator_id", ann[2].id.value);
  const json fair = ById(q["annotators"], "annotator_id", ann[0].id.value);
  EXPECT_GT(high["bias"]["helpful"].get<double>(), 0.7) << q.dump();
  EXPECT_NEAR(fair["bias"]["helpful"].get<double>(), 0.0, 0.1);
  EXPECT_EQ(q["agreement"]["level"], "interval");
  double alpha = q["agreement"]["krippendorff_alpha"]["helpful"].get<double>();
  EXPECT_GT(alpha, 0.0);
  EXPECT_LT(alpha, 1.0);
}

TEST_P(QualityTest, FreeTextPoolsAreCountedNotInferred) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal a0, NewUser("a0", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool,
                          OpenPool(req, "rewrite", json::object(), 1,
                                   {json{{"prompt", "p"}, {"response", "r"}},
                                    json{{"prompt", "q"}, {"response", "s"}}}));
  TS_ASSERT_OK_AND_ASSIGN(auto subs, Work(a0, pool, [](const json&) {
                            return json{{"text", "better"}};
                          }));
  ASSERT_EQ(subs.size(), 2u);
  TS_ASSERT_OK_AND_ASSIGN(json q, svc().Aggregate(req, pool));
  EXPECT_EQ(q["method"], "none");
  EXPECT_EQ(q["inference"], false);
  EXPECT_TRUE(q["note"].is_string());
  EXPECT_TRUE(q["agreement"].is_null());
  EXPECT_EQ(q["counts"]["results"], 2);
  ASSERT_EQ(q["annotators"].size(), 1u);
  EXPECT_EQ(q["annotators"][0],
            (json{{"annotator_id", a0.id.value}, {"submissions", 2}}));
}

// A body larger than snapshot_part_bytes is stored in parts (each its own
// transaction) and reads back the same; names with multi-byte UTF-8 are
// never cut in two.
TEST_P(QualityTest, LargeSnapshotsAreStoredInParts) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal a0, NewUser("a0", {"annotator"}));
  std::vector<json> tasks;
  for (int i = 0; i < 40; ++i) {
    tasks.push_back({{"text", absl::StrCat("caf\u00e9 \u2713 ", i)}});
  }
  TS_ASSERT_OK_AND_ASSIGN(
      PoolId pool,
      OpenPool(req, "classify", {{"labels", {"a", "b"}}}, 1, tasks));
  TS_ASSERT_OK_AND_ASSIGN(auto subs, Work(a0, pool, [](const json&) {
                            return json{{"label", "a"}};
                          }));
  ASSERT_EQ(subs.size(), 40u);

  ServiceOptions small;
  small.snapshot_part_bytes = 333;
  Service parts(store(), clock_, small);
  TS_ASSERT_OK_AND_ASSIGN(json v1, parts.Aggregate(req, pool));
  EXPECT_EQ(v1["version"], 1);
  size_t body_bytes = 0;
  std::string token;
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto head, tx.FindLatestQualitySnapshotHead(pool));
    if (!head) return absl::NotFoundError("no snapshot");
    token = head->parts_token;
    TS_ASSIGN_OR_RETURN(auto latest, tx.FindLatestQualitySnapshot(pool));
    if (!latest) return absl::NotFoundError("no snapshot");
    body_bytes = latest->body_json.size();
    return absl::OkStatus();
  }));
  EXPECT_FALSE(token.empty());
  EXPECT_GT(body_bytes, 5u * 333);  // six parts or more
  // Read back through another service (default options): the same object.
  TS_ASSERT_OK_AND_ASSIGN(json read, svc().GetQuality(req, pool, 1));
  EXPECT_EQ(read, v1);
  // Small bodies stay in the row.
  TS_ASSERT_OK_AND_ASSIGN(PoolId tiny,
                          OpenPool(req, "classify", {{"labels", {"a", "b"}}}, 1,
                                   {json{{"text", "x"}}}));
  TS_ASSERT_OK(Work(a0, tiny, [](const json&) {
                 return json{{"label", "b"}};
               }).status());
  TS_ASSERT_OK(svc().Aggregate(req, tiny).status());
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto head, tx.FindLatestQualitySnapshotHead(tiny));
    EXPECT_TRUE(head.has_value() && head->parts_token.empty());
    return absl::OkStatus();
  }));
}

// Each new snapshot, from the API or the stale-pool job, deletes the pool's
// versions older than the newest keep_quality_snapshots, with their parts;
// 0 keeps every version.
TEST_P(QualityTest, OldSnapshotsArePruned) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal a0, NewUser("a0", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal a1, NewUser("a1", {"annotator"}));
  std::vector<json> tasks;
  for (int i = 0; i < 20; ++i) tasks.push_back({{"text", absl::StrCat(i)}});
  TS_ASSERT_OK_AND_ASSIGN(
      PoolId pool,
      OpenPool(req, "classify", {{"labels", {"a", "b"}}}, 2, tasks));
  TS_ASSERT_OK(Work(a0, pool, [](const json&) {
                 return json{{"label", "a"}};
               }).status());

  ServiceOptions three;
  three.keep_quality_snapshots = 3;
  three.snapshot_part_bytes = 333;  // every body in parts
  Service pruning(store(), clock_, three);
  for (int v = 1; v <= 5; ++v) {
    TS_ASSERT_OK_AND_ASSIGN(json q, pruning.Aggregate(req, pool));
    EXPECT_EQ(q["version"], v);
  }
  auto versions = [&]() {
    std::vector<int> out;
    for (int v = 1; v <= 8; ++v) {
      auto q = svc().GetQuality(req, pool, v);
      if (q.ok()) {
        out.push_back(v);
      } else {
        EXPECT_EQ(q.status().code(), absl::StatusCode::kNotFound);
      }
    }
    return out;
  };
  EXPECT_EQ(versions(), (std::vector<int>{3, 4, 5}));

  // The job's snapshot of new inputs prunes too.
  TS_ASSERT_OK(Work(a1, pool, [](const json&) {
                 return json{{"label", "b"}};
               }).status());
  TS_ASSERT_OK_AND_ASSIGN(int written, pruning.AggregateStalePools());
  EXPECT_EQ(written, 1);
  EXPECT_EQ(versions(), (std::vector<int>{4, 5, 6}));
  TS_ASSERT_OK_AND_ASSIGN(json latest, svc().GetQuality(req, pool));
  EXPECT_EQ(latest["version"], 6);

  // The pruned versions' parts went with them: none is left unnamed.
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(
        int64_t unused,
        tx.DeleteUnusedSnapshotParts(pool, clock_.Now() + absl::Hours(1)));
    EXPECT_EQ(unused, 0);
    return absl::OkStatus();
  }));

  ServiceOptions all;
  all.keep_quality_snapshots = 0;
  Service keeping(store(), clock_, all);
  TS_ASSERT_OK(keeping.Aggregate(req, pool).status());
  TS_ASSERT_OK(keeping.Aggregate(req, pool).status());
  EXPECT_EQ(versions(), (std::vector<int>{4, 5, 6, 7, 8}));
}

// Writers racing for the next version (several server processes on one
// PostgreSQL) each get their own: the loser of a version retries.
TEST_P(QualityTest, ConcurrentAggregationsGetDistinctVersions) {
  TS_ASSERT_OK_AND_ASSIGN(Principal req, NewUser("req", {"requester"}));
  TS_ASSERT_OK_AND_ASSIGN(Principal a0, NewUser("a0", {"annotator"}));
  TS_ASSERT_OK_AND_ASSIGN(
      PoolId pool, OpenPool(req, "classify", {{"labels", {"yes", "no"}}}, 1,
                            {json{{"text", "a"}}}));
  TS_ASSERT_OK_AND_ASSIGN(auto subs, Work(a0, pool, [](const json&) {
                            return json{{"label", "no"}};
                          }));
  ASSERT_EQ(subs.size(), 1u);
  constexpr int kThreads = 3, kEach = 2;
  std::vector<std::vector<absl::StatusOr<json>>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        got[t].push_back(svc().Aggregate(req, pool));
    });
  }
  for (auto& th : threads) th.join();
  std::set<int> versions;
  for (const auto& results : got) {
    for (const auto& r : results) {
      ASSERT_TRUE(r.ok()) << r.status();
      versions.insert((*r)["version"].get<int>());
    }
  }
  EXPECT_EQ(versions, (std::set<int>{1, 2, 3, 4, 5, 6}));
  TS_ASSERT_OK_AND_ASSIGN(json latest, svc().GetQuality(req, pool));
  EXPECT_EQ(latest["version"], 6);
  EXPECT_EQ(latest["tasks"][0]["label"], "no");
}

// Stored results that no longer fit the pool are skipped, never fatal.
TEST(BuildQualitySnapshotTest, SkipsResultsThatDoNotFit) {
  domain::Pool pool;
  pool.task_type = domain::TaskType::kClassify;
  pool.config_json = R"({"labels":["x","y"]})";
  std::vector<store::PoolResult> results(3);
  const char* bodies[] = {R"({"label":"x"})", R"({"label":"zzz"})", "not json"};
  for (int i = 0; i < 3; ++i) {
    results[i].submission_id = SubmissionId(i + 1);
    results[i].task_id = TaskId(10);
    results[i].annotator_id = UserId(i + 1);
    results[i].result_json = bodies[i];
  }
  auto built = BuildQualitySnapshot(pool, results);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->body["counts"]["skipped"], 2);
  EXPECT_EQ(built->body["tasks"][0]["label"], "x");
  EXPECT_EQ(built->body["tasks"][0]["answers"], 1);
  // Annotators without a usable answer have no estimate.
  EXPECT_TRUE(built->body["annotators"][1]["accuracy"].is_null());
}

#ifdef TESSERA_SERVICE_TEST_POSTGRES
#define TESSERA_QUALITY_TEST_STORE store::PostgresStoreFactory()
#else
#define TESSERA_QUALITY_TEST_STORE \
  store::SqliteStoreFactory(store::sqlite::Durability::kNormal)
#endif

INSTANTIATE_TEST_SUITE_P(quality, QualityTest,
                         ::testing::Values(TESSERA_QUALITY_TEST_STORE),
                         store::StoreFactoryName);

}  // namespace
}  // namespace tessera::service
