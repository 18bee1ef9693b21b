// Data in and out over HTTP: POST /pools/{id}/tasks imports (server-side
// media-root folders, uploaded COCO and NDJSON), GET /pools/{id}/export in
// every mode (YOLO as a tar), pre-annotations, and who may do either.
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/cli/transfer_e2e_util.h"
#include "tests/integration/server_fixture.h"

namespace tessera::integration {
namespace {

namespace fs = std::filesystem;
using e2e::FileTree;

std::string Path(const char* prefix, int64_t id, const char* suffix = "") {
  return absl::StrCat(prefix, id, suffix);
}

std::vector<json> Lines(const std::string& text) {
  std::vector<json> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!line.empty()) out.push_back(json::parse(line, nullptr, false));
  }
  return out;
}

// coco128 copied into a server's media root (a symlink would resolve
// outside it).
void CopyCoco128(const std::string& media_dir) {
  fs::copy(fs::path(e2e::DataDir()) / "coco128",
           fs::path(media_dir) / "coco128", fs::copy_options::recursive);
}

json CocoPoolBody() {
  return {{"name", "coco"},
          {"task_type", "bbox"},
          {"config", {{"labels", e2e::CocoClasses()}}},
          {"overlap", 1}};
}

// GET /api/v1/pools/{pool}/export?query as `who`.
ApiResponse Export(ApiClient& who, int64_t pool, const std::string& query) {
  return who.Get(absl::StrCat("/api/v1/pools/", pool, "/export?", query));
}

// The members of a tar response.
FileTree Tar(const ApiResponse& r) {
  FileTree files;
  EXPECT_TRUE(e2e::ParseUstar(r.raw, files)) << r.raw.size() << " bytes";
  return files;
}

// The YOLO label files of an export, relative to labels/.
FileTree Labels(const FileTree& tar) {
  FileTree out;
  for (const auto& [name, text] : tar) {
    if (absl::StartsWith(name, "labels/")) out[name.substr(7)] = text;
  }
  return out;
}

// Acceptance 5: a server-side YOLO import, a YOLO tar export equal to the
// originals, the COCO export uploaded into a fresh pool and back, and the
// errors: bad format 400 naming the field, another requester's pool 404,
// an annotator 403.
TEST_P(IntegrationTest, TransferImportAndExportOverHttp) {
  ApiClient requester = CreateUser("req", {"requester"});
  const int64_t project = CreateProject(requester, 10'000'000);
  ASSERT_NE(project, 0);
  CopyCoco128(media_dir_);
  const int64_t pool = CreatePool(requester, project, CocoPoolBody());
  ASSERT_NE(pool, 0);
  auto imported = requester.Post(
      Path("/api/v1/pools/", pool,
           "/tasks?format=yolo&path=coco128/labels/train2017&labels_as=gold"
           "&skip_invalid=1"),
      json::object());
  ASSERT_EQ(imported.status, 201) << imported.Describe();
  EXPECT_EQ(imported.body["created"], 126);
  EXPECT_EQ(imported.body["gold"], 126);
  EXPECT_EQ(imported.body["skipped"], 4);
  const std::string errors = imported.body["errors"].dump();
  for (const char* name : {"000000000656.txt", "000000000659.txt",
                           "000000000250.jpg", "000000000508.jpg"}) {
    EXPECT_TRUE(absl::StrContains(errors, name)) << name << " in " << errors;
  }

  const FileTree originals = e2e::ExpectedYoloLabels(
      e2e::DataDir() + "/coco128/labels/train2017", "train2017/");
  auto yolo = Export(requester, pool, "format=yolo&mode=gold");
  ASSERT_EQ(yolo.status, 200) << yolo.Describe();
  EXPECT_EQ(yolo.Header("Content-Disposition").value_or(""),
            absl::StrCat("attachment; filename=\"pool-", pool, "-yolo.tar\""));
  EXPECT_EQ(yolo.Header("Content-Type").value_or(""), "application/x-tar");
  const FileTree tar = Tar(yolo);
  EXPECT_TRUE(e2e::SameFiles(Labels(tar), originals));
  ASSERT_TRUE(tar.count("data.yaml")) << "no data.yaml in the tar";
  EXPECT_TRUE(absl::StrContains(tar.at("data.yaml"), "nc: 80\n"));

  auto coco = Export(requester, pool, "format=coco&mode=gold");
  ASSERT_EQ(coco.status, 200) << coco.Describe();
  EXPECT_EQ(coco.Header("Content-Disposition").value_or(""),
            absl::StrCat("attachment; filename=\"pool-", pool, "-coco.json\""));
  ASSERT_TRUE(coco.body.is_object()) << coco.Describe();
  EXPECT_TRUE(e2e::ValidCoco(coco.body, e2e::CocoClasses(),
                             media_dir_ + "/coco128/images",
                             e2e::BoxCount(originals)));

  // The COCO document uploaded into a fresh pool gives the same YOLO tar.
  const int64_t again = CreatePool(requester, project, CocoPoolBody());
  auto uploaded = requester.Send(
      "POST",
      Path("/api/v1/pools/", again, "/tasks?format=coco&images=coco128/images"),
      coco.raw, {{"Content-Type", "application/json"}});
  ASSERT_EQ(uploaded.status, 201) << uploaded.Describe();
  EXPECT_EQ(uploaded.body["created"], 126);
  auto yolo_again = Export(requester, again, "format=yolo&mode=gold");
  ASSERT_EQ(yolo_again.status, 200) << yolo_again.Describe();
  EXPECT_TRUE(e2e::SameFiles(Tar(yolo_again), tar));

  // Errors.
  EXPECT_TRUE(
      IsApiError(Export(requester, pool, "format=bogus"), 400, "format"));
  EXPECT_TRUE(IsApiError(Export(requester, pool, "format=coco&mode=bogus"), 400,
                         "mode"));
  EXPECT_TRUE(
      IsApiError(requester.Post(Path("/api/v1/pools/", pool,
                                     "/tasks?format=bogus&path=coco128/labels"),
                                json::object()),
                 400, "format"));
  EXPECT_TRUE(IsApiError(
      requester.Post(Path("/api/v1/pools/", pool,
                          "/tasks?format=yolo&path=../coco128/labels"),
                     json::object()),
      400, "path"));
  ApiClient other = CreateUser("other", {"requester"});
  EXPECT_TRUE(
      IsApiError(Export(other, pool, "format=yolo"), 404, std::nullopt));
  EXPECT_TRUE(IsApiError(
      other.Post(Path("/api/v1/pools/", pool,
                      "/tasks?format=yolo&path=coco128/labels/train2017"
                      "&skip_invalid=1"),
                 json::object()),
      404, std::nullopt));
  ApiClient annotator = CreateUser("ann", {"annotator"});
  EXPECT_TRUE(
      IsApiError(Export(annotator, pool, "format=coco"), 403, std::nullopt));
  EXPECT_TRUE(IsApiError(annotator.Send("POST",
                                        Path("/api/v1/pools/", pool,
                                             "/tasks?format=coco&images="
                                             "coco128/images"),
                                        coco.raw),
                         403, std::nullopt));
  // Nothing was added by the refused requests.
  EXPECT_EQ(PoolStats(requester, pool)["tasks"], 126);
}

// Acceptance 6: boxes imported as pre-annotations come with a claim, appear
// in exports only when asked for, and gold never reaches a claim.
TEST_P(IntegrationTest, TransferPreannotationsAndGoldVisibility) {
  ApiClient requester = CreateUser("req", {"requester"});
  const int64_t project = CreateProject(requester, 10'000'000);
  ASSERT_NE(project, 0);
  CopyCoco128(media_dir_);
  const int64_t drafts = CreatePool(requester, project, CocoPoolBody());
  ASSERT_NE(drafts, 0);
  auto imported =
      requester.Post(Path("/api/v1/pools/", drafts,
                          "/tasks?format=yolo&path=coco128/labels/train2017"
                          "&labels_as=preannotation&skip_invalid=1"),
                     json::object());
  ASSERT_EQ(imported.status, 201) << imported.Describe();
  EXPECT_EQ(imported.body["created"], 126);
  EXPECT_EQ(imported.body["drafts"], 126);
  EXPECT_EQ(imported.body["gold"], 0);

  // mode=preannotations writes the drafts: the original label files again.
  const FileTree originals = e2e::ExpectedYoloLabels(
      e2e::DataDir() + "/coco128/labels/train2017", "train2017/");
  auto yolo = Export(requester, drafts, "format=yolo&mode=preannotations");
  ASSERT_EQ(yolo.status, 200) << yolo.Describe();
  EXPECT_TRUE(e2e::SameFiles(Labels(Tar(yolo)), originals));

  ASSERT_TRUE(OpenPool(requester, drafts));
  ApiClient ann = CreateUser("ann", {"annotator"});
  ApiClient rev = CreateUser("rev", {"reviewer"});
  auto claim =
      ann.Post(Path("/api/v1/pools/", drafts, "/claims"), json::object());
  ASSERT_EQ(claim.status, 201) << claim.Describe();
  const json& task = claim.body["task"];
  EXPECT_EQ(task["data"]["image"], "coco128/images/train2017/000000000009.jpg");
  ASSERT_EQ(task["preannotations"].size(), 1u) << claim.raw;
  const json& boxes = task["preannotations"][0]["result"]["boxes"];
  EXPECT_EQ(boxes.size(), 8u) << boxes;  // 000000000009.txt has 8 lines
  EXPECT_EQ(boxes[0]["label"], "bowl");
  EXPECT_EQ(task["preannotations"][0]["source"], "import");

  // Submit the drafts unchanged; the reviewer accepts.
  json result = {{"boxes", json::array()}};
  for (const json& b : boxes) {
    result["boxes"].push_back({{"label", b["label"]},
                               {"x", b["x"]},
                               {"y", b["y"]},
                               {"w", b["w"]},
                               {"h", b["h"]}});
  }
  result["boxes"].erase(result["boxes"].begin());  // the annotator drops one
  auto sub = ann.Post(Path("/api/v1/claims/",
                           claim.body["claim"]["id"].get<int64_t>(), "/submit"),
                      {{"result", result}});
  ASSERT_EQ(sub.status, 201) << sub.Describe();
  auto lease = rev.Post(Path("/api/v1/pools/", drafts, "/review-claims"),
                        json::object());
  ASSERT_EQ(lease.status, 201) << lease.Describe();
  ASSERT_EQ(rev.Post(Path("/api/v1/submissions/", sub.body["id"].get<int64_t>(),
                          "/review"),
                     {{"verdict", "accept"}})
                .status,
            200);

  // Raw exports carry the accepted work and no drafts unless asked.
  auto raw = Export(requester, drafts, "format=jsonl&mode=raw");
  ASSERT_EQ(raw.status, 200) << raw.Describe();
  std::vector<json> lines = Lines(raw.raw);
  ASSERT_EQ(lines.size(), 1u) << raw.raw;
  EXPECT_EQ(lines[0]["result"], result);
  EXPECT_FALSE(lines[0].contains("preannotations")) << raw.raw;
  auto with = Export(requester, drafts, "format=jsonl&preannotations=1");
  ASSERT_EQ(with.status, 200) << with.Describe();
  lines = Lines(with.raw);
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_TRUE(lines[0].contains("preannotations")) << with.raw;
  EXPECT_EQ(lines[0]["preannotations"][0]["result"]["boxes"].size(), 8u);
  auto coco = Export(requester, drafts, "format=coco&mode=raw");
  ASSERT_EQ(coco.status, 200) << coco.Describe();
  EXPECT_EQ(coco.body["annotations"].size(), 7u) << coco.raw.substr(0, 400);
  auto ls = Export(requester, drafts, "format=ls&mode=raw");
  ASSERT_EQ(ls.status, 200) << ls.Describe();
  EXPECT_FALSE(absl::StrContains(ls.raw, "predictions")) << ls.raw;
  auto ls_with = Export(requester, drafts, "format=ls&preannotations=1");
  ASSERT_EQ(ls_with.status, 200) << ls_with.Describe();
  EXPECT_TRUE(absl::StrContains(ls_with.raw, "\"predictions\""));

  // Gold: imported as gold, the boxes never reach a claim.
  const int64_t gold = CreatePool(requester, project, CocoPoolBody());
  auto gold_import = requester.Post(
      Path("/api/v1/pools/", gold,
           "/tasks?format=yolo&path=coco128/labels/train2017&skip_invalid=1"),
      json::object());
  ASSERT_EQ(gold_import.status, 201) << gold_import.Describe();
  ASSERT_TRUE(OpenPool(requester, gold));
  auto gold_claim =
      ann.Post(Path("/api/v1/pools/", gold, "/claims"), json::object());
  ASSERT_EQ(gold_claim.status, 201) << gold_claim.Describe();
  EXPECT_FALSE(absl::StrContains(gold_claim.raw, "gold")) << gold_claim.raw;
  // 000000000009's first gold box starts at x = 1.0799999999999699.
  EXPECT_FALSE(absl::StrContains(gold_claim.raw, "1.07999999"))
      << gold_claim.raw;
  EXPECT_TRUE(gold_claim.body["task"]["preannotations"].empty())
      << gold_claim.raw;
}

// Claims and submits every task `a` can get from `pool`, with `result(data)`;
// returns the task ids it submitted.
template <typename F>
std::vector<int64_t> WorkAll(ApiClient& a, int64_t pool, F result) {
  std::vector<int64_t> done;
  while (true) {
    auto claim =
        a.Post(Path("/api/v1/pools/", pool, "/claims"), json::object());
    if (claim.status == 204) return done;
    EXPECT_EQ(claim.status, 201) << claim.Describe();
    if (claim.status != 201) return done;
    auto sub = a.Post(Path("/api/v1/claims/",
                           claim.body["claim"]["id"].get<int64_t>(), "/submit"),
                      {{"result", result(claim.body["task"]["data"])}});
    EXPECT_EQ(sub.status, 201) << sub.Describe();
    if (sub.status != 201) return done;
    done.push_back(claim.body["task"]["id"].get<int64_t>());
  }
}

// Reviews everything waiting in `pool`: rejects submissions for which
// `reject(lease body)` is true, accepts the rest. Returns how many accepted.
template <typename F>
int ReviewAll(ApiClient& rev, int64_t pool, F reject) {
  int accepted = 0;
  while (true) {
    auto lease = rev.Post(Path("/api/v1/pools/", pool, "/review-claims"),
                          json::object());
    if (lease.status == 204) return accepted;
    EXPECT_EQ(lease.status, 201) << lease.Describe();
    if (lease.status != 201) return accepted;
    bool no = reject(lease.body);
    auto r =
        rev.Post(Path("/api/v1/submissions/",
                      lease.body["submission"]["id"].get<int64_t>(), "/review"),
                 {{"verdict", no ? "reject" : "accept"}});
    EXPECT_EQ(r.status, 200) << r.Describe();
    if (!no) ++accepted;
  }
}

// Acceptance 4, the loop: NDJSON uploads into pairwise, rating and rewrite
// pools; two annotators work, a reviewer accepts all but one submission;
// raw exports hold exactly the accepted work with pseudonyms and rounds,
// aggregated exports one row per task with a confidence.
TEST_P(IntegrationTest, TransferLlmWorkLoopExports) {
  ApiClient requester = CreateUser("req", {"requester"});
  const int64_t project = CreateProject(requester, 10'000'000);
  ASSERT_NE(project, 0);
  ApiClient ann1 = CreateUser("ann1", {"annotator"});
  ApiClient ann2 = CreateUser("ann2", {"annotator"});
  ApiClient rev = CreateUser("rev", {"reviewer"});
  const int64_t id1 = ann1.Get("/api/v1/me").body["id"];
  const int64_t id2 = ann2.Get("/api/v1/me").body["id"];
  const std::set<std::string> pseudonyms = {absl::StrCat("a", id1),
                                            absl::StrCat("a", id2)};
  auto upload = [&](int64_t pool, const std::string& ndjson,
                    const std::string& query) {
    auto r = requester.Send(
        "POST", absl::StrCat("/api/v1/pools/", pool, "/tasks", query), ndjson,
        {{"Content-Type", "application/x-ndjson"}});
    EXPECT_EQ(r.status, 201) << r.Describe();
    return r.body;
  };
  // Rejects ann2's submission of the task whose prompt is "q2".
  auto reject_q2_by_ann2 = [&](const json& lease) {
    return lease.dump().find("\"q2\"") != std::string::npos &&
           lease["submission"].value("annotator_id", int64_t{0}) == id2;
  };

  // Pairwise: each prompt with a better and a worse answer.
  const int64_t pw = CreatePool(
      requester, project,
      {{"name", "prefs"}, {"task_type", "pairwise"}, {"overlap", 2}});
  // No gold (chosen/rejected would import it): plain response pairs.
  std::string ndjson;
  for (int i = 1; i <= 3; ++i) {
    ndjson +=
        json{{"prompt", absl::StrCat("q", i)},
             {"responses", {absl::StrCat("good ", i), absl::StrCat("bad ", i)}}}
            .dump() +
        "\n";
  }
  json rep = upload(pw, ndjson, "?format=llm");
  EXPECT_EQ(rep["created"], 3) << rep;
  // The same upload again with dedupe adds nothing.
  rep = upload(pw, ndjson, "?format=llm&dedupe=1");
  EXPECT_EQ(rep["created"], 0) << rep;
  EXPECT_EQ(rep["duplicates"], 3) << rep;
  ASSERT_TRUE(OpenPool(requester, pw));
  auto prefer_good = [](const json& data) {
    const std::string a = data["responses"][0];
    return json{{"choice", absl::StartsWith(a, "good") ? "a" : "b"}};
  };
  EXPECT_EQ(WorkAll(ann1, pw, prefer_good).size(), 3u);
  EXPECT_EQ(WorkAll(ann2, pw, prefer_good).size(), 3u);
  EXPECT_EQ(ReviewAll(rev, pw, reject_q2_by_ann2), 5);

  auto raw = Export(requester, pw, "format=dpo&mode=raw");
  ASSERT_EQ(raw.status, 200) << raw.Describe();
  std::vector<json> rows = Lines(raw.raw);
  ASSERT_EQ(rows.size(), 5u) << raw.raw;
  std::map<std::string, int> per_prompt;
  for (const json& row : rows) {
    const std::string prompt = row["prompt"];
    ++per_prompt[prompt];
    EXPECT_EQ(row["chosen"], "good " + prompt.substr(1)) << row;
    EXPECT_EQ(row["rejected"], "bad " + prompt.substr(1)) << row;
    EXPECT_TRUE(pseudonyms.count(row.value("annotator", ""))) << row;
    EXPECT_EQ(row["round"], 1) << row;
    EXPECT_EQ(row["annotators"], 1) << row;
  }
  EXPECT_EQ(per_prompt,
            (std::map<std::string, int>{{"q1", 2}, {"q2", 1}, {"q3", 2}}));
  auto jsonl = Export(requester, pw, "format=jsonl&mode=raw");
  ASSERT_EQ(jsonl.status, 200) << jsonl.Describe();
  rows = Lines(jsonl.raw);
  ASSERT_EQ(rows.size(), 5u) << jsonl.raw;
  for (const json& row : rows) {
    EXPECT_TRUE(pseudonyms.count(row.value("annotator", ""))) << row;
    EXPECT_EQ(row["round"], 1);
    EXPECT_FALSE(row.contains("gold")) << row;
  }
  auto agg = Export(requester, pw, "format=dpo&mode=aggregated");
  ASSERT_EQ(agg.status, 200) << agg.Describe();
  rows = Lines(agg.raw);
  ASSERT_EQ(rows.size(), 3u) << agg.raw;
  for (const json& row : rows) {
    const std::string prompt = row["prompt"];
    EXPECT_EQ(row["chosen"], "good " + prompt.substr(1)) << row;
    EXPECT_TRUE(row.contains("confidence") && row["confidence"].is_number())
        << row;
    EXPECT_EQ(row["annotators"], prompt == "q2" ? 1 : 2) << row;
    EXPECT_FALSE(row.contains("annotator")) << row;
  }
  auto agg_jsonl = Export(requester, pw, "format=jsonl&mode=aggregated");
  ASSERT_EQ(agg_jsonl.status, 200) << agg_jsonl.Describe();
  EXPECT_EQ(Lines(agg_jsonl.raw).size(), 3u) << agg_jsonl.raw;

  // Ratings, CSV.
  const int64_t rating = CreatePool(requester, project,
                                    {{"name", "ratings"},
                                     {"task_type", "rating"},
                                     {"config",
                                      {{"criteria", {"helpful", "honest"}},
                                       {"scale", {{"min", 1}, {"max", 5}}}}},
                                     {"overlap", 2}});
  rep = upload(rating,
               "{\"prompt\":\"q1\",\"response\":\"r1\"}\n"
               "{\"prompt\":\"q2\",\"response\":\"r2\"}\n",
               "?format=llm");
  EXPECT_EQ(rep["created"], 2) << rep;
  ASSERT_TRUE(OpenPool(requester, rating));
  auto scores = [](int helpful) {
    return [helpful](const json&) {
      return json{{"scores", {{"helpful", helpful}, {"honest", 5}}}};
    };
  };
  EXPECT_EQ(WorkAll(ann1, rating, scores(4)).size(), 2u);
  EXPECT_EQ(WorkAll(ann2, rating, scores(2)).size(), 2u);
  EXPECT_EQ(ReviewAll(rev, rating, reject_q2_by_ann2), 3);
  auto csv = Export(requester, rating, "format=ratings-csv&mode=raw");
  ASSERT_EQ(csv.status, 200) << csv.Describe();
  EXPECT_TRUE(
      absl::StartsWith(csv.Header("Content-Type").value_or(""), "text/csv"));
  std::vector<std::string> csv_lines =
      absl::StrSplit(csv.raw, '\n', absl::SkipEmpty());
  ASSERT_EQ(csv_lines.size(), 4u) << csv.raw;  // header + 3 accepted
  EXPECT_TRUE(absl::StrContains(csv_lines[0], "helpful")) << csv_lines[0];
  EXPECT_TRUE(absl::StrContains(csv_lines[0], "honest")) << csv_lines[0];
  int q2_rows = 0;
  for (size_t i = 1; i < csv_lines.size(); ++i) {
    q2_rows += absl::StrContains(csv_lines[i], "q2");
    EXPECT_TRUE(absl::StrContains(csv_lines[i], absl::StrCat("a", id1)) ||
                absl::StrContains(csv_lines[i], absl::StrCat("a", id2)))
        << csv_lines[i];
  }
  EXPECT_EQ(q2_rows, 1) << csv.raw;
  auto csv_agg =
      Export(requester, rating, "format=ratings-csv&mode=aggregated");
  ASSERT_EQ(csv_agg.status, 200) << csv_agg.Describe();
  csv_lines = absl::StrSplit(csv_agg.raw, '\n', absl::SkipEmpty());
  EXPECT_EQ(csv_lines.size(), 3u) << csv_agg.raw;  // header + one per task
  auto ratings_jsonl =
      Export(requester, rating, "format=ratings-jsonl&mode=aggregated");
  ASSERT_EQ(ratings_jsonl.status, 200) << ratings_jsonl.Describe();
  rows = Lines(ratings_jsonl.raw);
  ASSERT_EQ(rows.size(), 2u) << ratings_jsonl.raw;
  // Confidence is the agreement of the bias-corrected ratings: a number for
  // the task two annotators rated, null (left out) for the one rated once.
  for (const json& row : rows) {
    if (row["prompt"] == "q1") {
      ASSERT_TRUE(row.contains("confidence") && row["confidence"].is_number())
          << row;
      EXPECT_GE(row["confidence"].get<double>(), 0.0);
      EXPECT_LE(row["confidence"].get<double>(), 1.0);
    } else {
      EXPECT_FALSE(row.contains("confidence") && row["confidence"].is_number())
          << row;
    }
    EXPECT_EQ(row["scores"]["honest"], 5) << row;
    ASSERT_TRUE(row["scores"]["helpful"].is_number()) << row;
    const double helpful = row["scores"]["helpful"];
    EXPECT_TRUE(helpful >= 1 && helpful <= 5) << row;
    EXPECT_EQ(row["annotators"], row["prompt"] == "q1" ? 2 : 1) << row;
    EXPECT_FALSE(row.contains("annotator")) << row;
  }

  // Rewrites, SFT.
  const int64_t rewrite = CreatePool(
      requester, project,
      {{"name", "rewrites"}, {"task_type", "rewrite"}, {"overlap", 2}});
  rep = upload(rewrite,
               "{\"prompt\":\"q1\",\"response\":\"draft 1\"}\n"
               "{\"prompt\":\"q2\",\"response\":\"draft 2\"}\n",
               "?format=llm");
  EXPECT_EQ(rep["created"], 2) << rep;
  ASSERT_TRUE(OpenPool(requester, rewrite));
  auto rewrite_as = [](const std::string& who) {
    return [who](const json& data) {
      return json{
          {"text", absl::StrCat("better ", data["prompt"].get<std::string>(),
                                " by ", who)}};
    };
  };
  EXPECT_EQ(WorkAll(ann1, rewrite, rewrite_as("ann1")).size(), 2u);
  EXPECT_EQ(WorkAll(ann2, rewrite, rewrite_as("ann2")).size(), 2u);
  EXPECT_EQ(ReviewAll(rev, rewrite, reject_q2_by_ann2), 3);
  auto sft = Export(requester, rewrite, "format=sft&mode=raw");
  ASSERT_EQ(sft.status, 200) << sft.Describe();
  rows = Lines(sft.raw);
  ASSERT_EQ(rows.size(), 3u) << sft.raw;
  std::multiset<std::string> texts;
  for (const json& row : rows) {
    ASSERT_EQ(row["messages"].size(), 2u) << row;
    EXPECT_EQ(row["messages"][0]["role"], "user");
    EXPECT_EQ(row["messages"][1]["role"], "assistant");
    texts.insert(row["messages"][1]["content"].get<std::string>());
    EXPECT_TRUE(pseudonyms.count(row.value("annotator", ""))) << row;
  }
  EXPECT_EQ(texts, (std::multiset<std::string>{"better q1 by ann1",
                                               "better q1 by ann2",
                                               "better q2 by ann1"}));
  // A format that does not fit the pool type.
  EXPECT_TRUE(
      IsApiError(Export(requester, rewrite, "format=dpo"), 400, "format"));
}

}  // namespace
}  // namespace tessera::integration
