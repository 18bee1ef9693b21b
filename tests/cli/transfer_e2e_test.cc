// End-to-end tests of `tessera import` and `tessera export`: the built binary
// run as a child process on a real SQLite file (pools created over HTTP by a
// real server on the same file), on coco128, oasst1 and hh-rlhf.
#include <sqlite3.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tessera/formats/oasst.h"
#include "tests/cli/transfer_e2e_util.h"
#include "tests/integration/server_fixture.h"

namespace tessera::integration {
namespace {

namespace fs = std::filesystem;
using e2e::ReadFile;
using e2e::WriteFile;

using e2e::DataDir;

// The whole of a gzip file, or "" when it cannot be read.
std::string Gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return "";
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, n);
  gzclose(f);
  return n < 0 ? "" : out;
}

struct CliResult {
  int code = -1;
  std::string output;  // stdout and stderr
  json report;         // the last output line that parses as a JSON object
};

class TransferCliTest : public ServerFixture {
 protected:
  Backend backend() const override { return Backend::kSqlite; }

  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    requester_ = std::make_unique<ApiClient>(CreateUser("req", {"requester"}));
    project_ = CreateProject(*requester_, 10'000'000);
    ASSERT_NE(project_, 0);
  }

  // Runs `tessera <command> --db URL <args...>` (cwd stays the test's).
  CliResult Cli(const std::string& command, std::vector<std::string> args) {
    std::vector<std::string> argv = {TESSERA_BINARY, command, "--db", db_url_};
    argv.insert(argv.end(), args.begin(), args.end());
    CliResult r;
    r.code = RunProcess(argv, "", r.output);
    for (absl::string_view line : absl::StrSplit(r.output, '\n')) {
      if (!absl::StartsWith(line, "{")) continue;
      json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_object()) r.report = std::move(j);
    }
    return r;
  }

  int64_t Pool(json body) { return CreatePool(*requester_, project_, body); }
  int64_t CocoPool() {
    return Pool({{"name", "coco"},
                 {"task_type", "bbox"},
                 {"config", {{"labels", e2e::CocoClasses()}}},
                 {"overlap", 1}});
  }
  int64_t Tasks(int64_t pool) {
    json stats = PoolStats(*requester_, pool);
    return stats.is_object() ? stats.value("tasks", int64_t{-1}) : -1;
  }
  // Copies coco128 into the server's media root (symlinks would resolve
  // outside it); returns the media-relative labels folder.
  std::string CopyCoco128() {
    fs::copy(fs::path(DataDir()) / "coco128", fs::path(media_dir_) / "coco128",
             fs::copy_options::recursive);
    return "coco128/labels/train2017";
  }
  std::string Media(const std::string& rel) { return media_dir_ + "/" + rel; }
  std::string Tmp(const std::string& rel) { return tmp_dir_ + "/" + rel; }

  // The data column of a pool's tasks, in id order, read from the SQLite
  // file directly.
  std::vector<json> TaskData(int64_t pool) {
    std::vector<json> out;
    std::string path = db_url_.substr(std::string("sqlite://").size());
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
        SQLITE_OK) {
      ADD_FAILURE() << "open " << path;
      sqlite3_close(db);
      return out;
    }
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db,
                       "SELECT data FROM tasks WHERE pool_id = ? ORDER BY id",
                       -1, &st, nullptr);
    sqlite3_bind_int64(st, 1, pool);
    while (sqlite3_step(st) == SQLITE_ROW) {
      out.push_back(json::parse(
          reinterpret_cast<const char*>(sqlite3_column_text(st, 0))));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }

  std::unique_ptr<ApiClient> requester_;
  int64_t project_ = 0;
};

// Acceptance 1 and 2: coco128 YOLO → gold → YOLO identical; → COCO (valid)
// → fresh pool → YOLO identical; the same through VOC and Label Studio.
TEST_F(TransferCliTest, Coco128RoundTripsThroughEveryDetectionFormat) {
  const std::string labels = CopyCoco128();
  const int64_t yolo_pool = CocoPool();
  ASSERT_NE(yolo_pool, 0);

  // Without --skip-invalid the unmatched files fail the import.
  CliResult strict =
      Cli("import", {"--pool", absl::StrCat(yolo_pool), "--media", media_dir_,
                     "--format", "yolo", "--labels-as", "gold", Media(labels)});
  EXPECT_EQ(strict.code, 2) << strict.output;
  EXPECT_EQ(Tasks(yolo_pool), 0);

  CliResult imported =
      Cli("import",
          {"--pool", absl::StrCat(yolo_pool), "--media", media_dir_, "--format",
           "yolo", "--labels-as", "gold", "--skip-invalid", Media(labels)});
  ASSERT_EQ(imported.code, 0) << imported.output;
  const json& rep = imported.report;
  EXPECT_EQ(rep["created"], 126) << rep;
  EXPECT_EQ(rep["gold"], 126);
  EXPECT_EQ(rep["skipped"], 4);
  ASSERT_EQ(rep["errors"].size(), 4u) << rep;
  std::string errors = rep["errors"].dump();
  for (const char* name : {"000000000656.txt", "000000000659.txt",
                           "000000000250.jpg", "000000000508.jpg"}) {
    EXPECT_TRUE(absl::StrContains(errors, name)) << name << " in " << errors;
  }
  EXPECT_EQ(Tasks(yolo_pool), 126);
  // data.image is media-relative.
  std::vector<json> data = TaskData(yolo_pool);
  ASSERT_EQ(data.size(), 126u);
  EXPECT_EQ(data[0]["image"], "coco128/images/train2017/000000000009.jpg");
  EXPECT_EQ(data[0]["width"], 640);
  EXPECT_EQ(data[0]["height"], 480);

  const auto originals = e2e::ExpectedYoloLabels(
      DataDir() + "/coco128/labels/train2017", "train2017/");
  ASSERT_EQ(originals.size(), 126u);

  auto export_yolo = [&](int64_t pool, const std::string& out) {
    CliResult r = Cli("export", {"--pool", absl::StrCat(pool), "--format",
                                 "yolo", "--mode", "gold", "--out", out});
    EXPECT_EQ(r.code, 0) << r.output;
    return e2e::ReadTree(out + "/labels");
  };
  const auto first = export_yolo(yolo_pool, Tmp("yolo-1"));
  EXPECT_TRUE(e2e::SameFiles(first, originals));
  std::string yaml = ReadFile(Tmp("yolo-1/data.yaml"));
  EXPECT_TRUE(absl::StrContains(yaml, "nc: 80\n")) << yaml;
  EXPECT_TRUE(absl::StrContains(yaml, "  0: person\n")) << yaml;
  EXPECT_TRUE(absl::StrContains(yaml, "  79: toothbrush\n")) << yaml;

  // COCO: structurally valid, and back to identical YOLO.
  CliResult coco =
      Cli("export", {"--pool", absl::StrCat(yolo_pool), "--format", "coco",
                     "--mode", "gold", "--out", Tmp("coco.json")});
  ASSERT_EQ(coco.code, 0) << coco.output;
  json doc = json::parse(ReadFile(Tmp("coco.json")), nullptr, false);
  ASSERT_TRUE(doc.is_object()) << "coco.json does not parse";
  EXPECT_TRUE(e2e::ValidCoco(doc, e2e::CocoClasses(), Media("coco128/images"),
                             e2e::BoxCount(originals)))
      << "coco.json";

  struct Leg {
    const char* format;
    std::string file;  // exported from the YOLO pool, imported again
  };
  for (const Leg& leg : {Leg{"coco", Tmp("coco.json")}, Leg{"voc", Tmp("voc")},
                         Leg{"ls", Tmp("ls.json")}}) {
    SCOPED_TRACE(leg.format);
    if (std::string(leg.format) != "coco") {
      CliResult ex =
          Cli("export", {"--pool", absl::StrCat(yolo_pool), "--format",
                         leg.format, "--mode", "gold", "--out", leg.file});
      ASSERT_EQ(ex.code, 0) << ex.output;
    }
    const int64_t pool = CocoPool();
    std::vector<std::string> args = {"--pool",    absl::StrCat(pool),
                                     "--media",   media_dir_,
                                     "--format",  leg.format,
                                     "--images",  Media("coco128/images"),
                                     "--classes", Media("coco128/classes.txt"),
                                     leg.file};
    CliResult in = Cli("import", args);
    ASSERT_EQ(in.code, 0) << in.output;
    EXPECT_EQ(in.report["created"], 126) << in.report;
    EXPECT_EQ(in.report["gold"], 126);
    EXPECT_EQ(TaskData(pool), data);
    EXPECT_TRUE(e2e::SameFiles(
        export_yolo(pool, Tmp(absl::StrCat("yolo-", leg.format))), originals));
  }
}

// Acceptance 3: bad JSONL imports nothing and names file:line and field;
// --skip-invalid imports the rest and reports; --dedupe adds nothing twice.
// Images from a list file: media-relative paths (sizes read from the files)
// and URLs with their sizes; a path escaping the root fails the whole list.
TEST_F(TransferCliTest, ImageListImportsPathsAndUrls) {
  const fs::path src = fs::path(DataDir()) / "coco128/images/train2017";
  fs::create_directories(fs::path(media_dir_) / "list");
  fs::copy_file(src / "000000000009.jpg", fs::path(media_dir_) / "list/a.jpg");
  const int64_t pool = CocoPool();
  ASSERT_NE(pool, 0);
  WriteFile(Tmp("good.txt"),
            "list/a.jpg\n\nhttps://example.org/b.jpg 640 480\n");
  WriteFile(Tmp("bad.txt"), "list/a.jpg\n../../etc/passwd\n");
  CliResult bad =
      Cli("import", {"--pool", absl::StrCat(pool), "--format", "images",
                     "--media", media_dir_, Tmp("bad.txt")});
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_TRUE(absl::StrContains(bad.output, "bad.txt:2:")) << bad.output;
  EXPECT_EQ(Tasks(pool), 0);
  CliResult good =
      Cli("import", {"--pool", absl::StrCat(pool), "--format", "images",
                     "--media", media_dir_, Tmp("good.txt")});
  ASSERT_EQ(good.code, 0) << good.output;
  EXPECT_TRUE(absl::StrContains(good.output, "\"created\":2")) << good.output;
  EXPECT_EQ(Tasks(pool), 2);
}

TEST_F(TransferCliTest, BadJsonlImportsNothing) {
  const int64_t pool = Pool({{"name", "ratings"},
                             {"task_type", "rating"},
                             {"config",
                              {{"criteria", {"helpful", "harmless"}},
                               {"scale", {{"min", 1}, {"max", 5}}}}}});
  ASSERT_NE(pool, 0);
  const std::string good1 = R"({"prompt":"p1","response":"r1"})";
  const std::string good3 = R"({"prompt":"p3","response":"r3"})";
  struct Case {
    const char* file;
    std::string text;
    std::vector<std::string> want;  // substrings of the error
  };
  const std::vector<Case> cases = {
      {"bad-field.jsonl",
       good1 + "\n" + R"({"prompt":5,"response":"r2"})" + "\n" + good3 + "\n",
       {"bad-field.jsonl:2:", "(field prompt)"}},
      {"truncated.jsonl",
       good1 + "\n" + R"({"prompt":"p2","resp)",
       {"truncated.jsonl:2:", "truncated"}},
      {"not-object.jsonl",
       good1 + "\n[1,2]\n" + good3 + "\n",
       {"not-object.jsonl:2:", "object"}},
      {"utf8.jsonl",
       good1 + "\n{\"prompt\":\"p\xff\xfe\",\"response\":\"r\"}\n",
       {"utf8.jsonl:2:", "UTF-8"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    WriteFile(Tmp(c.file), c.text);
    CliResult r = Cli("import", {"--pool", absl::StrCat(pool), Tmp(c.file)});
    EXPECT_EQ(r.code, 2) << r.output;
    for (const std::string& w : c.want) {
      EXPECT_TRUE(absl::StrContains(r.output, w)) << w << " in " << r.output;
    }
    EXPECT_EQ(Tasks(pool), 0);
  }

  CliResult skip = Cli("import", {"--pool", absl::StrCat(pool),
                                  "--skip-invalid", Tmp("bad-field.jsonl")});
  ASSERT_EQ(skip.code, 0) << skip.output;
  EXPECT_EQ(skip.report["created"], 2) << skip.report;
  EXPECT_EQ(skip.report["skipped"], 1);
  ASSERT_EQ(skip.report["errors"].size(), 1u);
  EXPECT_EQ(skip.report["errors"][0]["field"], "prompt");
  EXPECT_TRUE(
      absl::StrContains(skip.report["errors"][0]["message"].get<std::string>(),
                        "bad-field.jsonl:2"));
  EXPECT_EQ(Tasks(pool), 2);

  CliResult again =
      Cli("import", {"--pool", absl::StrCat(pool), "--skip-invalid", "--dedupe",
                     Tmp("bad-field.jsonl")});
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_EQ(again.report["created"], 0) << again.report;
  EXPECT_EQ(again.report["duplicates"], 2);
  EXPECT_EQ(Tasks(pool), 2);
}

// Acceptance 3, images: a JPEG that does not decode, a box outside the
// image, an unknown class — each fails the whole import; --skip-invalid
// imports the valid image and names the others.
TEST_F(TransferCliTest, BadDetectionInputImportsNothing) {
  const fs::path src = fs::path(DataDir()) / "coco128";
  const int64_t pool = CocoPool();
  ASSERT_NE(pool, 0);
  const std::string good =
      ReadFile((src / "labels/train2017/000000000009.txt"));
  auto make_set = [&](const std::string& name, const std::string& bad_label,
                      bool corrupt_image) {
    fs::path root = fs::path(media_dir_) / name;
    fs::create_directories(root / "images");
    fs::copy_file(src / "images/train2017/000000000009.jpg",
                  root / "images/good.jpg");
    if (corrupt_image) {
      WriteFile((root / "images/bad.jpg").string(),
                std::string("\xff\xd8\xff\xe0 this is not a JPEG", 24));
    } else {
      fs::copy_file(src / "images/train2017/000000000025.jpg",
                    root / "images/bad.jpg");
    }
    WriteFile((root / "labels/good.txt").string(), good);
    WriteFile((root / "labels/bad.txt").string(), bad_label);
    fs::copy_file(src / "classes.txt", root / "labels/classes.txt");
    return (root / "labels").string();
  };
  struct Case {
    const char* name;
    std::string label;
    bool corrupt_image;
    const char* want;
  };
  const std::vector<Case> cases = {
      {"undecodable", "0 0.5 0.5 0.1 0.1\n", true, "does not decode"},
      {"outside", "0 0.9 0.5 0.4 0.2\n", false, "outside"},
      {"unknown-class", "91 0.5 0.5 0.1 0.1\n", false, "unknown class"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string dir = make_set(c.name, c.label, c.corrupt_image);
    const int64_t before = Tasks(pool);
    CliResult r = Cli("import", {"--pool", absl::StrCat(pool), "--media",
                                 media_dir_, "--format", "yolo", dir});
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_TRUE(absl::StrContains(r.output, c.want)) << r.output;
    EXPECT_TRUE(absl::StrContains(r.output, "bad.")) << r.output;
    EXPECT_EQ(Tasks(pool), before);

    CliResult skip =
        Cli("import", {"--pool", absl::StrCat(pool), "--media", media_dir_,
                       "--format", "yolo", "--skip-invalid", dir});
    ASSERT_EQ(skip.code, 0) << skip.output;
    EXPECT_EQ(skip.report["created"], 1) << skip.report;
    EXPECT_EQ(skip.report["skipped"], 1) << skip.report;
    ASSERT_EQ(skip.report["errors"].size(), 1u) << skip.report;
    EXPECT_TRUE(absl::StrContains(skip.report["errors"].dump(), "bad."))
        << skip.report;
  }
  // One good image from each set.
  EXPECT_EQ(Tasks(pool), 3);
}

// Known bug (reported): a detection error's "(field F)" is part of the
// codec's message (formats/detection.cc LocatedError) and `tessera import`
// appends it again (cli/transfer.cc Report), printing it twice.
TEST_F(TransferCliTest, DetectionErrorNamesFileLineAndFieldOnce) {
  const fs::path src = fs::path(DataDir()) / "coco128";
  const int64_t pool = CocoPool();
  ASSERT_NE(pool, 0);
  fs::path root = fs::path(media_dir_) / "set";
  fs::create_directories(root / "images");
  fs::copy_file(src / "images/train2017/000000000009.jpg",
                root / "images/a.jpg");
  WriteFile(root / "labels/a.txt", "91 0.5 0.5 0.1 0.1\n");
  fs::copy_file(src / "classes.txt", root / "labels/classes.txt");
  CliResult r =
      Cli("import", {"--pool", absl::StrCat(pool), "--media", media_dir_,
                     "--format", "yolo", (root / "labels").string()});
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "labels/a.txt:1: unknown class"))
      << r.output;
  EXPECT_TRUE(absl::StrContains(r.output, "(field class)")) << r.output;
  EXPECT_FALSE(absl::StrContains(r.output, "(field class) (field class)"))
      << r.output;
}

// Acceptance 4: oasst1 trees into rating and pairwise pools; hh-rlhf into a
// pairwise pool with gold, exported as DPO pairs that rebuild every
// original dialogue exactly.
TEST_F(TransferCliTest, LlmImportsAndDpoGoldReproducesHhRlhf) {
  const std::string oasst = DataDir() + "/llm/oasst1-en-100-trees.jsonl";
  auto expected = [&](domain::TaskType type) {
    formats::OasstOptions o;
    o.type = type;
    size_t n = 0;
    std::ifstream in(oasst);
    std::string line;
    while (std::getline(in, line)) {
      auto r = formats::OasstTreeToTasks(json::parse(line), o);
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) n += r->tasks.size();
    }
    return n;
  };

  const int64_t rating = Pool(
      {{"name", "oasst ratings"},
       {"task_type", "rating"},
       {"config",
        {{"criteria", {"helpful"}}, {"scale", {{"min", 1}, {"max", 5}}}}}});
  CliResult r = Cli(
      "import", {"--pool", absl::StrCat(rating), "--format", "oasst", oasst});
  ASSERT_EQ(r.code, 0) << r.output;
  const size_t want_rating = expected(domain::TaskType::kRating);
  EXPECT_GT(want_rating, 100u);
  EXPECT_EQ(r.report["created"], want_rating) << r.report;
  std::vector<json> data = TaskData(rating);
  ASSERT_EQ(data.size(), want_rating);
  // The first tree's prompter message and its first reply.
  EXPECT_EQ(data[0]["prompt"],
            "How can I find the best 401k plan for my needs?");
  EXPECT_TRUE(absl::StartsWith(data[0]["response"].get<std::string>(),
                               "The first step is to research your options."))
      << data[0];

  const int64_t pairs =
      Pool({{"name", "oasst pairs"}, {"task_type", "pairwise"}});
  r = Cli("import",
          {"--pool", absl::StrCat(pairs), "--format", "oasst", oasst});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.report["created"], expected(domain::TaskType::kPairwise))
      << r.report;
  EXPECT_EQ(Tasks(pairs), r.report["created"].get<int64_t>());

  // hh-rlhf, gunzipped next to the database.
  std::string hh_text =
      Gunzip(DataDir() + "/llm/hh-rlhf-harmless-base-test.jsonl.gz");
  ASSERT_FALSE(hh_text.empty());
  WriteFile(Tmp("hh.jsonl"), hh_text);
  std::vector<json> originals;
  for (absl::string_view line : absl::StrSplit(hh_text, '\n')) {
    if (!line.empty()) originals.push_back(json::parse(line));
  }
  ASSERT_EQ(originals.size(), 2312u);
  const int64_t hh = Pool({{"name", "hh"}, {"task_type", "pairwise"}});
  r = Cli("import",
          {"--pool", absl::StrCat(hh), "--format", "llm", Tmp("hh.jsonl")});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.report["created"], 2312) << r.report;
  EXPECT_EQ(r.report["gold"], 2312);
  r = Cli("export", {"--pool", absl::StrCat(hh), "--format", "dpo", "--mode",
                     "gold", "--out", Tmp("hh-dpo.jsonl")});
  ASSERT_EQ(r.code, 0) << r.output;
  std::vector<json> rows;
  for (absl::string_view line :
       absl::StrSplit(ReadFile(Tmp("hh-dpo.jsonl")), '\n')) {
    if (!line.empty()) rows.push_back(json::parse(line));
  }
  ASSERT_EQ(rows.size(), originals.size());
  int mismatches = 0;
  for (size_t i = 0; i < rows.size() && mismatches < 5; ++i) {
    const std::string prompt = rows[i]["prompt"];
    const std::string chosen = prompt + rows[i]["chosen"].get<std::string>();
    const std::string rejected =
        prompt + rows[i]["rejected"].get<std::string>();
    if (chosen != originals[i]["chosen"] ||
        rejected != originals[i]["rejected"]) {
      ++mismatches;
      ADD_FAILURE() << "pair " << i << " differs: " << rows[i].dump();
    }
  }
}

}  // namespace
}  // namespace tessera::integration
