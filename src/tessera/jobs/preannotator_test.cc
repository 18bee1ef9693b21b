// The pre-annotation job on a real SQLite store and real coco128 images: the
// built-in HOG detector drafts person boxes, a Label Studio-compatible
// backend (ours, served on loopback) does the same by URL, and images that
// cannot be read are skipped without stopping the job.
#include "tessera/jobs/preannotator.h"

#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/clock.h"
#include "tessera/base/status.h"
#include "tessera/http/router.h"
#include "tessera/http/server.h"
#include "tessera/preannotate/ml_backend_server.h"
#include "tessera/service/auth.h"
#include "tessera/store/store_conformance.h"

namespace tessera::jobs {
namespace {

using nlohmann::json;
using service::Principal;

const std::string kMedia = TESSERA_TEST_DATA_DIR;
// Images with people in them (the HOG tests of preannotate/ use these too).
const std::vector<std::string> kImages = {
    "coco128/images/train2017/000000000077.jpg",
    "coco128/images/train2017/000000000382.jpg",
    "coco128/images/train2017/000000000569.jpg"};

class PreannotatorTest : public store::StoreTestBase {
 protected:
  void SetUp() override {
    StoreTestBase::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    TS_ASSERT_OK(service::InitCrypto());
    svc_ = std::make_unique<service::Service>(store(), clock_);
  }
  void TearDown() override {
    svc_.reset();
    StoreTestBase::TearDown();
  }

  // A bbox pool over kImages (plus one missing image) drafted by `spec`.
  absl::StatusOr<PoolId> Pool(json spec) {
    TS_ASSIGN_OR_RETURN(
        json u, svc_->CreateUser(std::nullopt,
                                 {{"username", absl::StrCat("r", ++users_)},
                                  {"password", "password-123"},
                                  {"roles", {"requester"}}}));
    req_.id = UserId(u["id"].get<int64_t>());
    req_.roles = {domain::Role::kRequester};
    TS_ASSIGN_OR_RETURN(json project,
                        svc_->CreateProject(req_, {{"name", "p"}}));
    TS_ASSIGN_OR_RETURN(
        json pool,
        svc_->CreatePool(
            req_, ProjectId(project["id"].get<int64_t>()),
            {{"name", "people"},
             {"task_type", "bbox"},
             {"config", {{"labels", {"person", "car"}}, {"preannotate", spec}}},
             {"price", {{"amount_minor", 0}, {"currency", "CNY"}}}}));
    PoolId id(pool["id"].get<int64_t>());
    json tasks = json::array();
    // The drafts are clipped to the size the task gives; these are the
    // images' real sizes (640 wide, at most 640 high).
    for (const std::string& image : kImages) {
      tasks.push_back(
          {{"data", {{"image", image}, {"width", 640}, {"height", 640}}}});
    }
    tasks.push_back(
        {{"data", {{"image", "missing.jpg"}, {"width", 10}, {"height", 10}}}});
    TS_RETURN_IF_ERROR(svc_->AddTasks(req_, id, {{"tasks", tasks}}).status());
    return id;
  }

  // Every draft of `pool` by task.
  absl::StatusOr<std::vector<domain::Preannotation>> Drafts(PoolId pool) {
    std::vector<domain::Preannotation> out;
    TS_RETURN_IF_ERROR(Read([&](store::Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(out, tx.ListPoolPreannotations(pool, 0, 1 << 30));
      return absl::OkStatus();
    }));
    return out;
  }

  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  std::unique_ptr<service::Service> svc_;
  Principal req_;
  int users_ = 0;
};

TEST_P(PreannotatorTest, HogDraftsPeopleAndSkipsUnreadableImages) {
  TS_ASSERT_OK_AND_ASSIGN(PoolId pool,
                          Pool({{"model", "hog"}, {"min_score", 0.0}}));
  std::vector<std::string> errors;
  PreannotatorOptions options;
  options.media_root = kMedia;
  Preannotator job(*svc_, options, [&](const absl::Status& s) {
    errors.push_back(std::string(s.message()));
  });
  TS_ASSERT_OK_AND_ASSIGN(int stored, job.RunOnce());
  EXPECT_EQ(stored, 3);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], ::testing::HasSubstr("missing.jpg"));
  TS_ASSERT_OK_AND_ASSIGN(auto drafts, Drafts(pool));
  ASSERT_EQ(drafts.size(), 3u);
  int boxes = 0;
  for (const auto& d : drafts) {
    EXPECT_EQ(d.source, "model");
    EXPECT_FALSE(d.version.empty());
    json result = json::parse(d.result_json);
    for (const json& b : result["boxes"]) {
      ++boxes;
      EXPECT_EQ(b["label"], "person");
      EXPECT_GE(b["x"].get<double>(), 0);
      EXPECT_GT(b["w"].get<double>(), 0);
      EXPECT_GE(b["score"].get<double>(), 0);
    }
  }
  EXPECT_GT(boxes, 0);
  // Nothing left to do: a second pass drafts nothing and retries nothing.
  TS_ASSERT_OK_AND_ASSIGN(stored, job.RunOnce());
  EXPECT_EQ(stored, 0);
  EXPECT_EQ(errors.size(), 1u);
}

TEST_P(PreannotatorTest, MinScoreFiltersAndBackendsDraftByUrl) {
  auto backend = preannotate::MlBackendServer::Start(
      {.host = "127.0.0.1", .port = 0, .media_root = kMedia});
  ASSERT_TRUE(backend.ok()) << backend.status();
  std::string url = absl::StrCat("http://127.0.0.1:", (*backend)->port());
  TS_ASSERT_OK_AND_ASSIGN(PoolId by_url,
                          Pool({{"backend", url}, {"min_score", 0.0}}));
  TS_ASSERT_OK_AND_ASSIGN(PoolId strict,
                          Pool({{"model", "hog"}, {"min_score", 1.0}}));
  PreannotatorOptions options;
  options.media_root = kMedia;
  Preannotator job(*svc_, options);
  TS_ASSERT_OK_AND_ASSIGN(int stored, job.RunOnce());
  EXPECT_GE(stored, 3);
  TS_ASSERT_OK_AND_ASSIGN(auto remote, Drafts(by_url));
  TS_ASSERT_OK_AND_ASSIGN(auto local, Drafts(strict));
  EXPECT_EQ(local.size(), 3u);
  for (const auto& d : local) {
    EXPECT_EQ(json::parse(d.result_json)["boxes"].size(), 0u) << d.result_json;
  }
  // The backend serves the same HOG detector: where it drafted, it found
  // people, and the drafts name the backend as the model.
  ASSERT_GE(remote.size(), 3u);
  int boxes = 0;
  for (const auto& d : remote) {
    EXPECT_EQ(d.model, url);
    boxes += static_cast<int>(json::parse(d.result_json)["boxes"].size());
  }
  EXPECT_GT(boxes, 0);
  (*backend)->Stop();
}

TEST_P(PreannotatorTest, ChatEndpointDraftsRewrites) {
  // A small OpenAI-compatible endpoint: answers with the last message,
  // upper-cased, so the draft can be traced back to its task.
  http::Router router;
  router.Add("POST", "/v1/chat/completions", [](http::Request& req) {
    json body = json::parse(req.body, nullptr, false);
    std::string last = body["messages"].back()["content"];
    for (char& c : last) c = static_cast<char>(std::toupper(c));
    return http::Response::Json(
        200, {{"choices",
               {{{"message", {{"role", "assistant"}, {"content", last}}}}}}});
  });
  http::ServerOptions so;
  so.port = 0;
  auto server = http::Server::Start(
      so, [&router](http::Request& req) { return router.Dispatch(req); },
      nullptr);
  ASSERT_TRUE(server.ok()) << server.status();
  std::string url = absl::StrCat("http://127.0.0.1:", (*server)->port());

  TS_ASSERT_OK_AND_ASSIGN(
      json u, svc_->CreateUser(std::nullopt, {{"username", "writer"},
                                              {"password", "password-123"},
                                              {"roles", {"requester"}}}));
  req_.id = UserId(u["id"].get<int64_t>());
  req_.roles = {domain::Role::kRequester};
  TS_ASSERT_OK_AND_ASSIGN(json project,
                          svc_->CreateProject(req_, {{"name", "p"}}));
  TS_ASSERT_OK_AND_ASSIGN(
      json pool,
      svc_->CreatePool(
          req_, ProjectId(project["id"].get<int64_t>()),
          {{"name", "rewrites"},
           {"task_type", "rewrite"},
           {"config", {{"preannotate", {{"chat", url}, {"model", "m1"}}}}},
           {"price", {{"amount_minor", 0}, {"currency", "CNY"}}}}));
  PoolId id(pool["id"].get<int64_t>());
  TS_ASSERT_OK(
      svc_->AddTasks(
              req_, id,
              {{"tasks",
                {{{"data",
                   {{"prompt", "Say hi"}, {"response", "hello there"}}}}}}})
          .status());
  Preannotator job(*svc_, PreannotatorOptions{});
  TS_ASSERT_OK_AND_ASSIGN(int stored, job.RunOnce());
  EXPECT_EQ(stored, 1);
  TS_ASSERT_OK_AND_ASSIGN(auto drafts, Drafts(id));
  ASSERT_EQ(drafts.size(), 1u);
  EXPECT_EQ(drafts[0].model, "m1");
  std::string text = json::parse(drafts[0].result_json)["text"];
  EXPECT_THAT(text, ::testing::HasSubstr("HELLO THERE"));
  (*server)->Stop();
}

INSTANTIATE_TEST_SUITE_P(sqlite, PreannotatorTest,
                         ::testing::Values(store::SqliteStoreFactory(
                             store::sqlite::Durability::kNormal)),
                         store::StoreFactoryName);

}  // namespace
}  // namespace tessera::jobs
