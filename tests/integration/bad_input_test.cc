// Bad input on every write route: a 4xx naming the offending field, and
// nothing written (the observable state is compared before and after).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/integration/server_fixture.h"

namespace tessera::integration {
namespace {

constexpr std::optional<std::string> kNoField = std::nullopt;
constexpr char kBadUtf8[] = "\xff\xfe";

struct BadCase {
  std::string name;
  ApiClient* as;
  std::string method;
  std::string target;
  std::string body;
  int status;
  std::optional<std::string> field;
  std::vector<std::pair<std::string, std::string>> headers = {};
};

json Patched(json base, const json& patch) {
  base.merge_patch(patch);
  return base;
}

std::string P(const char* prefix, int64_t id, const char* suffix = "") {
  return absl::StrCat(prefix, id, suffix);
}

// A JSON object whose one string value makes the body exceed the server's
// limit.
std::string Oversize() {
  return absl::StrCat("{\"name\":\"", std::string(kBodyLimitBytes + 1024, 'a'),
                      "\"}");
}

void RunCases(const std::vector<BadCase>& cases) {
  for (const BadCase& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.method, " ", c.target, ": ", c.name));
    auto r = c.as->Send(c.method, c.target, c.body, c.headers);
    EXPECT_TRUE(IsApiError(r, c.status, c.field));
  }
}

TEST_P(IntegrationTest, BadInputIsRejectedAndWritesNothing) {
  ApiClient anon = Anonymous();
  ApiClient owner = CreateUser("owner", {"requester"});
  ApiClient other = CreateUser("other", {"requester"});
  ApiClient ann1 = CreateUser("ann1", {"annotator"});
  ApiClient ann2 = CreateUser("ann2", {"annotator"});
  ApiClient rev = CreateUser("rev", {"reviewer"});
  ApiClient& adm = admin();

  // The world: an open bbox pool with claims and a submission in review, a
  // returned submission, a draft pool and a closed pool.
  const int64_t kPrice = 30;
  const int64_t project = CreateProject(owner, 10'000);
  const int64_t other_project = CreateProject(other, 10'000);
  ASSERT_GT(project * other_project, 0);
  const int64_t pool = CreateBboxPool(owner, project, kPrice);
  const int64_t returns = CreateBboxPool(owner, project, kPrice);
  const int64_t draft = CreateBboxPool(owner, project, kPrice);
  const int64_t closed = CreateBboxPool(owner, project, kPrice);
  ASSERT_GT(pool * returns * draft * closed, 0);
  ASSERT_TRUE(AddTasks(owner, pool, {ImageTask(), ImageTask()}));
  ASSERT_TRUE(AddTasks(owner, returns, {ImageTask()}));
  ASSERT_TRUE(AddTasks(owner, closed, {ImageTask()}));
  for (int64_t p : {pool, returns, closed}) ASSERT_TRUE(OpenPool(owner, p));
  ASSERT_EQ(
      owner.Post(P("/api/v1/pools/", closed, "/close"), json::object()).status,
      200);

  auto claim = ann1.Post(P("/api/v1/pools/", pool, "/claims"), json::object());
  ASSERT_EQ(claim.status, 201) << claim.Describe();
  const int64_t my_claim = claim.body["claim"]["id"];
  claim = ann2.Post(P("/api/v1/pools/", pool, "/claims"), json::object());
  ASSERT_EQ(claim.status, 201) << claim.Describe();
  const int64_t their_claim = claim.body["claim"]["id"];
  auto sub = ann2.Post(P("/api/v1/claims/", their_claim, "/submit"),
                       {{"result", BoxResult()}});
  ASSERT_EQ(sub.status, 201) << sub.Describe();
  const int64_t in_review = sub.body["id"];
  auto lease =
      rev.Post(P("/api/v1/pools/", pool, "/review-claims"), json::object());
  ASSERT_EQ(lease.status, 201) << lease.Describe();
  ASSERT_EQ(lease.body["submission"]["id"], in_review);

  claim = ann1.Post(P("/api/v1/pools/", returns, "/claims"), json::object());
  ASSERT_EQ(claim.status, 201) << claim.Describe();
  sub = ann1.Post(
      P("/api/v1/claims/", claim.body["claim"]["id"].get<int64_t>(), "/submit"),
      {{"result", BoxResult()}});
  ASSERT_EQ(sub.status, 201) << sub.Describe();
  const int64_t returned = sub.body["id"];
  lease =
      rev.Post(P("/api/v1/pools/", returns, "/review-claims"), json::object());
  ASSERT_EQ(lease.status, 201) << lease.Describe();
  ASSERT_EQ(
      rev.Post(P("/api/v1/submissions/", returned, "/review"),
               {{"verdict", "revise"}, {"comments", {{{"text", "redo"}}}}})
          .status,
      200);

  // Everything a bad request could have changed, as the API shows it.
  auto snapshot = [&]() {
    json s;
    s["projects"] = owner.Get("/api/v1/projects").body;
    s["project"] = owner.Get(P("/api/v1/projects/", project)).body;
    s["other_project"] = other.Get(P("/api/v1/projects/", other_project)).body;
    for (int64_t p : {pool, returns, draft, closed}) {
      s["stats"].push_back(PoolStats(owner, p));
      s["pool"].push_back(owner.Get(P("/api/v1/pools/", p)).body);
    }
    s["ann1_submissions"] = ann1.Get("/api/v1/me/submissions").body;
    s["ann2_submissions"] = ann2.Get("/api/v1/me/submissions").body;
    s["ann1_earnings"] = ann1.Get("/api/v1/me/earnings").body;
    s["ann2_earnings"] = ann2.Get("/api/v1/me/earnings").body;
    s["in_review"] = rev.Get(P("/api/v1/submissions/", in_review)).body;
    s["returned"] = ann1.Get(P("/api/v1/submissions/", returned)).body;
    s["ann1_pools"] = ann1.Get("/api/v1/pools").body;
    return s;
  };
  const json before = snapshot();
  ASSERT_EQ(before["stats"][0]["active_claims"], 1) << before.dump();
  ASSERT_EQ(before["in_review"]["state"], "in_review") << before.dump();
  ASSERT_EQ(before["returned"]["state"], "returned") << before.dump();
  auto expect_unchanged = [&](const char* what) {
    SCOPED_TRACE(what);
    json after = snapshot();
    for (const auto& [key, value] : before.items()) {
      EXPECT_EQ(after[key], value) << "changed: " << key;
    }
  };

  const std::string pw = ServerFixture::kPassword;
  const std::string no_such = "/999999";

  // ------------------------------------------------------------- login
  RunCases({
      {"malformed JSON", &anon, "POST", "/api/v1/auth/login",
       "{\"username\":", 400, "body"},
      {"not an object", &anon, "POST", "/api/v1/auth/login", "[1]", 400,
       "body"},
      {"invalid UTF-8", &anon, "POST", "/api/v1/auth/login",
       absl::StrCat("{\"username\":\"", kBadUtf8, "\",\"password\":\"x\"}"),
       400, "body"},
      {"number overflow", &anon, "POST", "/api/v1/auth/login",
       "{\"username\":1e400,\"password\":\"x\"}", 400, "body"},
      {"wrong type", &anon, "POST", "/api/v1/auth/login",
       json{{"username", 5}, {"password", pw}}.dump(), 400, "username"},
      {"missing password", &anon, "POST", "/api/v1/auth/login",
       json{{"username", "ann1"}}.dump(), 400, "password"},
      {"wrong password", &anon, "POST", "/api/v1/auth/login",
       json{{"username", "ann1"}, {"password", "wrong-password"}}.dump(), 401,
       kNoField},
      {"unknown user", &anon, "POST", "/api/v1/auth/login",
       json{{"username", "nobody"}, {"password", pw}}.dump(), 401, kNoField},
      {"oversize", &anon, "POST", "/api/v1/auth/login", Oversize(), 413,
       kNoField},
  });

  // ------------------------------------------------------------- users
  auto user = [&](json patch) {
    json u = {
        {"username", "newuser"}, {"password", pw}, {"roles", {"annotator"}}};
    u.merge_patch(patch);
    return u.dump();
  };
  RunCases({
      {"malformed JSON", &adm, "POST", "/api/v1/users", "{", 400, "body"},
      {"invalid UTF-8", &adm, "POST", "/api/v1/users",
       absl::StrCat("{\"username\":\"new", kBadUtf8, "\"}"), 400, "body"},
      {"missing username", &adm, "POST", "/api/v1/users",
       user({{"username", nullptr}}), 400, "username"},
      {"username type", &adm, "POST", "/api/v1/users", user({{"username", 7}}),
       400, "username"},
      {"username chars", &adm, "POST", "/api/v1/users",
       user({{"username", "new user!"}}), 400, "username"},
      {"short password", &adm, "POST", "/api/v1/users",
       user({{"password", "short"}}), 400, "password"},
      {"roles missing", &adm, "POST", "/api/v1/users",
       user({{"roles", nullptr}}), 400, "roles"},
      {"roles empty", &adm, "POST", "/api/v1/users",
       user({{"roles", json::array()}}), 400, "roles"},
      {"roles not array", &adm, "POST", "/api/v1/users",
       user({{"roles", "annotator"}}), 400, "roles"},
      {"unknown role", &adm, "POST", "/api/v1/users",
       user({{"roles", {"annotator", "wizard"}}}), 400, "roles[1]"},
      {"role type", &adm, "POST", "/api/v1/users", user({{"roles", {5}}}), 400,
       "roles[0]"},
      {"taken username", &adm, "POST", "/api/v1/users",
       user({{"username", "ann1"}}), 409, "username"},
      {"oversize", &adm, "POST", "/api/v1/users", Oversize(), 413, kNoField},
  });
  EXPECT_TRUE(IsApiError(anon.Post("/api/v1/auth/login",
                                   {{"username", "newuser"}, {"password", pw}}),
                         401, kNoField));
  expect_unchanged("users");

  // ---------------------------------------------------------- projects
  auto proj = [&](json patch) {
    json p = {{"name", "p"},
              {"budget", {{"amount_minor", 100}, {"currency", "CNY"}}}};
    p.merge_patch(patch);
    return p.dump();
  };
  RunCases({
      {"malformed JSON", &owner, "POST", "/api/v1/projects", "{\"name\" \"p\"}",
       400, "body"},
      {"invalid UTF-8", &owner, "POST", "/api/v1/projects",
       absl::StrCat("{\"name\":\"", kBadUtf8, "\"}"), 400, "body"},
      {"number overflow", &owner, "POST", "/api/v1/projects",
       "{\"name\":\"p\",\"budget\":{\"amount_minor\":-1e999}}", 400, "body"},
      {"not an object", &owner, "POST", "/api/v1/projects", "\"p\"", 400,
       "body"},
      {"missing name", &owner, "POST", "/api/v1/projects",
       proj({{"name", nullptr}}), 400, "name"},
      {"empty name", &owner, "POST", "/api/v1/projects", proj({{"name", ""}}),
       400, "name"},
      {"long name", &owner, "POST", "/api/v1/projects",
       proj({{"name", std::string(201, 'n')}}), 400, "name"},
      {"name type", &owner, "POST", "/api/v1/projects", proj({{"name", 5}}),
       400, "name"},
      {"description type", &owner, "POST", "/api/v1/projects",
       proj({{"description", {1, 2}}}), 400, "description"},
      {"negative budget", &owner, "POST", "/api/v1/projects",
       proj({{"budget", {{"amount_minor", -100}}}}), 400,
       "budget.amount_minor"},
      {"budget as string", &owner, "POST", "/api/v1/projects",
       proj({{"budget", {{"amount_minor", "100"}}}}), 400,
       "budget.amount_minor"},
      {"fractional budget", &owner, "POST", "/api/v1/projects",
       proj({{"budget", {{"amount_minor", 1.5}}}}), 400, "budget.amount_minor"},
      {"bad currency", &owner, "POST", "/api/v1/projects",
       proj({{"budget", {{"currency", "yuan"}}}}), 400, "budget.currency"},
      {"budget not object", &owner, "POST", "/api/v1/projects",
       proj({{"budget", 100}}), 400, "budget"},
      {"oversize", &owner, "POST", "/api/v1/projects", Oversize(), 413,
       kNoField},
  });
  expect_unchanged("projects");

  // ------------------------------------------------------------- pools
  const std::string pools = P("/api/v1/projects/", project, "/pools");
  auto pl = [&](json patch) {
    json p = {{"name", "p"},
              {"task_type", "bbox"},
              {"config", {{"labels", {"person", "car"}}}},
              {"price", {{"amount_minor", 10}, {"currency", "CNY"}}},
              {"overlap", 1}};
    p.merge_patch(patch);
    return p.dump();
  };
  const json bad_scale = {{"task_type", "rating"},
                          {"config",
                           {{"labels", nullptr},
                            {"criteria", {"helpful"}},
                            {"scale", {{"min", 5}, {"max", 1}}}}}};
  RunCases({
      {"malformed JSON", &owner, "POST", pools, "{\"name\":\"p\",}", 400,
       "body"},
      {"invalid UTF-8", &owner, "POST", pools,
       absl::StrCat("{\"name\":\"", kBadUtf8, "\"}"), 400, "body"},
      {"missing name", &owner, "POST", pools, pl({{"name", nullptr}}), 400,
       "name"},
      {"missing task type", &owner, "POST", pools, pl({{"task_type", nullptr}}),
       400, "task_type"},
      {"unknown task type", &owner, "POST", pools,
       pl({{"task_type", "polygon"}}), 400, "task_type"},
      {"task type type", &owner, "POST", pools, pl({{"task_type", 3}}), 400,
       "task_type"},
      {"no labels", &owner, "POST", pools, pl({{"config", nullptr}}), 400,
       "config.labels"},
      {"empty labels", &owner, "POST", pools,
       pl({{"config", {{"labels", json::array()}}}}), 400, "config.labels"},
      {"duplicate label", &owner, "POST", pools,
       pl({{"config", {{"labels", {"car", "car"}}}}}), 400, "config.labels[1]"},
      {"label type", &owner, "POST", pools, pl({{"config", {{"labels", {1}}}}}),
       400, "config.labels[0]"},
      {"config type", &owner, "POST", pools, pl({{"config", "labels"}}), 400,
       "config"},
      {"rating without criteria", &owner, "POST", pools,
       pl({{"task_type", "rating"}, {"config", {{"labels", nullptr}}}}), 400,
       "config.criteria"},
      {"rating bad scale", &owner, "POST", pools, pl(bad_scale), 400,
       "config.scale"},
      {"missing price", &owner, "POST", pools, pl({{"price", nullptr}}), 400,
       "price"},
      {"negative price", &owner, "POST", pools,
       pl({{"price", {{"amount_minor", -1}}}}), 400, "price.amount_minor"},
      {"price type", &owner, "POST", pools, pl({{"price", "10 CNY"}}), 400,
       "price"},
      {"currency mismatch", &owner, "POST", pools,
       pl({{"price", {{"currency", "USD"}}}}), 400, "price.currency"},
      {"overlap zero", &owner, "POST", pools, pl({{"overlap", 0}}), 400,
       "overlap"},
      {"overlap huge", &owner, "POST", pools, pl({{"overlap", 101}}), 400,
       "overlap"},
      {"overlap type", &owner, "POST", pools, pl({{"overlap", "2"}}), 400,
       "overlap"},
      {"lease zero", &owner, "POST", pools, pl({{"lease_seconds", 0}}), 400,
       "lease_seconds"},
      {"lease too long", &owner, "POST", pools,
       pl({{"lease_seconds", 10'000'000}}), 400, "lease_seconds"},
      {"max rounds", &owner, "POST", pools, pl({{"max_rounds", 11}}), 400,
       "max_rounds"},
      {"opens_at", &owner, "POST", pools, pl({{"opens_at", "tomorrow"}}), 400,
       "opens_at"},
      {"no such project", &owner, "POST",
       absl::StrCat("/api/v1/projects", no_such, "/pools"), pl(json::object()),
       404, kNoField},
      {"someone else's project", &other, "POST", pools, pl(json::object()), 404,
       kNoField},
      {"non-numeric id", &owner, "POST", "/api/v1/projects/abc/pools",
       pl(json::object()), 400, "id"},
      {"zero id", &owner, "POST", "/api/v1/projects/0/pools",
       pl(json::object()), 400, "id"},
      {"oversize", &owner, "POST", pools, Oversize(), 413, kNoField},
  });
  expect_unchanged("pools");

  // ------------------------------------------------------------- tasks
  const std::string tasks = P("/api/v1/pools/", pool, "/tasks");
  auto with_data = [](json patch) {
    json t = ImageTask();
    t["data"].merge_patch(patch);
    return t;
  };
  auto tk = [](const std::vector<json>& list) {
    return json{{"tasks", json(list)}}.dump();
  };
  json good = ImageTask();
  const std::vector<std::pair<std::string, std::string>> nd = {
      {"Content-Type", "application/x-ndjson"}};
  RunCases({
      {"malformed JSON", &owner, "POST", tasks, "{\"tasks\":[", 400, "body"},
      {"invalid UTF-8", &owner, "POST", tasks,
       absl::StrCat("{\"tasks\":[{\"data\":{\"image\":\"", kBadUtf8, "\"}}]}"),
       400, "body"},
      {"missing tasks", &owner, "POST", tasks, "{}", 400, "tasks"},
      {"empty tasks", &owner, "POST", tasks, "{\"tasks\":[]}", 400, "tasks"},
      {"tasks type", &owner, "POST", tasks, "{\"tasks\":{}}", 400, "tasks"},
      {"task type", &owner, "POST", tasks, tk({5}), 400, "tasks[0]"},
      {"missing data", &owner, "POST", tasks, tk({json::object()}), 400,
       "tasks[0].data"},
      {"missing image", &owner, "POST", tasks,
       tk({with_data({{"image", nullptr}})}), 400, "tasks[0].data.image"},
      {"escaping path", &owner, "POST", tasks,
       tk({with_data({{"image", "../../etc/passwd"}})}), 400,
       "tasks[0].data.image"},
      {"absolute path", &owner, "POST", tasks,
       tk({with_data({{"image", "/etc/passwd"}})}), 400, "tasks[0].data.image"},
      {"negative width", &owner, "POST", tasks,
       tk({with_data({{"width", -1}})}), 400, "tasks[0].data.width"},
      {"width type", &owner, "POST", tasks, tk({with_data({{"width", "64"}})}),
       400, "tasks[0].data.width"},
      {"missing height", &owner, "POST", tasks,
       tk({with_data({{"height", nullptr}})}), 400, "tasks[0].data.height"},
      {"gold label outside the set", &owner, "POST", tasks,
       tk({Patched(good, {{"gold", BoxResult("dog")}}), good}), 400,
       "tasks[0].gold.boxes[0].label"},
      {"gold box outside the image", &owner, "POST", tasks,
       tk({Patched(good, {{"gold", BoxResult("car", kImageWidth - 5)}})}), 400,
       "tasks[0].gold.boxes[0]"},
      {"all or nothing", &owner, "POST", tasks,
       tk({good, good, with_data({{"image", "a/../../b.png"}})}), 400,
       "tasks[2].data.image"},
      {"ndjson malformed line", &owner, "POST", tasks,
       absl::StrCat(good.dump(), "\n{\"data\":\n"), 400, "line", nd},
      {"ndjson invalid UTF-8", &owner, "POST", tasks,
       absl::StrCat(good.dump(), "\n", "{\"data\":\"", kBadUtf8, "\"}\n"), 400,
       "line", nd},
      {"ndjson bad task", &owner, "POST", tasks,
       absl::StrCat(good.dump(), "\n", with_data({{"width", 0}}).dump(), "\n"),
       400, "data.width", nd},
      {"ndjson empty", &owner, "POST", tasks, "\n\n", 400, "input", nd},
      {"import: unknown format", &owner, "POST",
       absl::StrCat(tasks, "?format=xml"), good.dump(), 400, "format"},
      {"import: path outside the media root", &owner, "POST",
       absl::StrCat(tasks, "?format=yolo&path=../labels"), "", 400, "path"},
      {"import: truncated COCO", &owner, "POST",
       absl::StrCat(tasks, "?format=coco&images=img"), "{\"images\": [", 400,
       kNoField},
      {"no such pool", &owner, "POST",
       absl::StrCat("/api/v1/pools", no_such, "/tasks"), tk({good}), 404,
       kNoField},
      {"someone else's pool", &other, "POST", tasks, tk({good}), 404, kNoField},
      {"closed pool", &owner, "POST", P("/api/v1/pools/", closed, "/tasks"),
       tk({good}), 409, kNoField},
      {"oversize", &owner, "POST", tasks, Oversize(), 413, kNoField},
  });
  expect_unchanged("tasks");

  // ------------------------------------------------------- image upload
  const std::string images = P("/api/v1/pools/", pool, "/images?name=");
  const std::string png = MakePng(8, 6);
  auto up = [&](const std::string& name) { return images + name; };
  RunCases({
      {"upload: no name", &owner, "POST", P("/api/v1/pools/", pool, "/images"),
       png, 400, "name"},
      {"upload: empty name", &owner, "POST", up(""), png, 400, "name"},
      {"upload: a path", &owner, "POST", up("a/b.png"), png, 400, "name"},
      {"upload: an encoded path", &owner, "POST", up("a%2Fb.png"), png, 400,
       "name"},
      {"upload: dot-dot", &owner, "POST", up("..%2F..%2Fx.png"), png, 400,
       "name"},
      {"upload: hidden file", &owner, "POST", up(".x.png"), png, 400, "name"},
      {"upload: backslash", &owner, "POST", up("a%5Cb.png"), png, 400, "name"},
      {"upload: not an image name", &owner, "POST", up("notes.txt"), png, 400,
       "name"},
      {"upload: no extension", &owner, "POST", up("png"), png, 400, "name"},
      {"upload: not an image", &owner, "POST", up("x.png"), "hello", 400,
       "body"},
      {"upload: truncated image", &owner, "POST", up("x.png"),
       png.substr(0, png.size() / 2), 400, "body"},
      {"upload: empty body", &owner, "POST", up("x.png"), "", 400, "body"},
      {"upload: annotator", &ann1, "POST", up("x.png"), png, 403, kNoField},
      {"upload: someone else's pool", &other, "POST", up("x.png"), png, 404,
       kNoField},
      {"upload: no such pool", &owner, "POST",
       absl::StrCat("/api/v1/pools", no_such, "/images?name=x.png"), png, 404,
       kNoField},
      {"upload: closed pool", &owner, "POST",
       P("/api/v1/pools/", closed, "/images?name=x.png"), png, 409, kNoField},
      {"upload: bad id", &owner, "POST", "/api/v1/pools/x/images?name=x.png",
       png, 400, "id"},
      {"upload: oversize", &owner, "POST", up("x.png"),
       std::string(kBodyLimitBytes + 1024, 'a'), 413, kNoField},
  });
  expect_unchanged("image upload");

  // ------------------------------------------------- open, close, claim
  RunCases({
      {"open: no such pool", &owner, "POST",
       absl::StrCat("/api/v1/pools", no_such, "/open"), "", 404, kNoField},
      {"open: someone else's", &other, "POST",
       P("/api/v1/pools/", draft, "/open"), "", 404, kNoField},
      {"open: bad id", &owner, "POST", "/api/v1/pools/x1/open", "", 400, "id"},
      {"close: no such pool", &owner, "POST",
       absl::StrCat("/api/v1/pools", no_such, "/close"), "", 404, kNoField},
      {"close: someone else's", &other, "POST",
       P("/api/v1/pools/", pool, "/close"), "", 404, kNoField},
      {"close: negative id", &owner, "POST", "/api/v1/pools/-3/close", "", 400,
       "id"},
      {"claim: no such pool", &ann2, "POST",
       absl::StrCat("/api/v1/pools", no_such, "/claims"), "", 404, kNoField},
      {"claim: draft pool", &ann2, "POST",
       P("/api/v1/pools/", draft, "/claims"), "", 404, kNoField},
      {"claim: closed pool", &ann2, "POST",
       P("/api/v1/pools/", closed, "/claims"), "", 409, kNoField},
      {"claim: bad id", &ann2, "POST", "/api/v1/pools/1.5/claims", "", 400,
       "id"},
      {"review lease: no such pool", &rev, "POST",
       absl::StrCat("/api/v1/pools", no_such, "/review-claims"), "", 404,
       kNoField},
      {"review lease: draft pool", &rev, "POST",
       P("/api/v1/pools/", draft, "/review-claims"), "", 404, kNoField},
      {"give back: no such claim", &ann1, "DELETE",
       absl::StrCat("/api/v1/claims", no_such), "", 404, kNoField},
      {"give back: someone else's", &ann2, "DELETE",
       P("/api/v1/claims/", my_claim), "", 404, kNoField},
      {"give back: bad id", &ann1, "DELETE", "/api/v1/claims/abc", "", 400,
       "id"},
  });
  expect_unchanged("open/close/claims");

  // ------------------------------------------------------------ submit
  const std::string submit = P("/api/v1/claims/", my_claim, "/submit");
  auto res = [](json result) { return json{{"result", result}}.dump(); };
  json box = BoxResult();
  RunCases({
      {"malformed JSON", &ann1, "POST", submit, "{\"result\":{", 400, "body"},
      {"invalid UTF-8", &ann1, "POST", submit,
       absl::StrCat("{\"result\":{\"boxes\":[{\"label\":\"", kBadUtf8,
                    "\"}]}}"),
       400, "body"},
      {"not an object", &ann1, "POST", submit, "[]", 400, "body"},
      {"missing result", &ann1, "POST", submit, "{}", 400, "result"},
      {"result type", &ann1, "POST", submit, res("boxes"), 400, "result"},
      {"missing boxes", &ann1, "POST", submit, res(json::object()), 400,
       "result.boxes"},
      {"label outside the set", &ann1, "POST", submit, res(BoxResult("dog")),
       400, "result.boxes[0].label"},
      {"box outside the image", &ann1, "POST", submit,
       res(BoxResult("car", kImageWidth)), 400, "result.boxes[0]"},
      {"coordinate type", &ann1, "POST", submit,
       res({{"boxes",
             {{{"label", "car"}, {"x", "1"}, {"y", 1}, {"w", 1}, {"h", 1}}}}}),
       400, "result.boxes[0].x"},
      {"zero width", &ann1, "POST", submit,
       res({{"boxes",
             {{{"label", "car"}, {"x", 1}, {"y", 1}, {"w", 0}, {"h", 1}}}}}),
       400, "result.boxes[0].w"},
      {"negative active seconds", &ann1, "POST", submit,
       json{{"result", box}, {"active_seconds", -1}}.dump(), 400,
       "active_seconds"},
      {"active seconds type", &ann1, "POST", submit,
       json{{"result", box}, {"active_seconds", "5"}}.dump(), 400,
       "active_seconds"},
      {"long idempotency key",
       &ann1,
       "POST",
       submit,
       res(box),
       400,
       "Idempotency-Key",
       {{"Idempotency-Key", std::string(201, 'k')}}},
      {"no such claim", &ann1, "POST",
       absl::StrCat("/api/v1/claims", no_such, "/submit"), res(box), 404,
       kNoField},
      {"someone else's claim", &ann2, "POST", submit, res(box), 404, kNoField},
      {"oversize", &ann1, "POST", submit, Oversize(), 413, kNoField},
  });
  expect_unchanged("submit");

  // ------------------------------------------------------------ revise
  const std::string revise = P("/api/v1/submissions/", returned, "/revise");
  RunCases({
      {"malformed JSON", &ann1, "POST", revise, "{", 400, "body"},
      {"invalid UTF-8", &ann1, "POST", revise,
       absl::StrCat("{\"result\":\"", kBadUtf8, "\"}"), 400, "body"},
      {"missing result", &ann1, "POST", revise, "{}", 400, "result"},
      {"label outside the set", &ann1, "POST", revise, res(BoxResult("tree")),
       400, "result.boxes[0].label"},
      {"box outside the image", &ann1, "POST", revise,
       res(BoxResult("car", -1)), 400, "result.boxes[0]"},
      {"negative active seconds", &ann1, "POST", revise,
       json{{"result", box}, {"active_seconds", -5}}.dump(), 400,
       "active_seconds"},
      {"not returned", &ann2, "POST",
       P("/api/v1/submissions/", in_review, "/revise"), res(box), 409,
       kNoField},
      {"someone else's", &ann2, "POST", revise, res(box), 404, kNoField},
      {"no such submission", &ann1, "POST",
       absl::StrCat("/api/v1/submissions", no_such, "/revise"), res(box), 404,
       kNoField},
      {"oversize", &ann1, "POST", revise, Oversize(), 413, kNoField},
  });
  expect_unchanged("revise");

  // ------------------------------------------------------------ review
  const std::string review = P("/api/v1/submissions/", in_review, "/review");
  auto verdict = [](json body) { return body.dump(); };
  auto with_comment = [](json comment) {
    return json{{"verdict", "revise"}, {"comments", {comment}}}.dump();
  };
  RunCases({
      {"malformed JSON", &rev, "POST", review, "{\"verdict\":accept}", 400,
       "body"},
      {"invalid UTF-8", &rev, "POST", review,
       absl::StrCat("{\"verdict\":\"", kBadUtf8, "\"}"), 400, "body"},
      {"missing verdict", &rev, "POST", review, "{}", 400, "verdict"},
      {"verdict type", &rev, "POST", review, verdict({{"verdict", true}}), 400,
       "verdict"},
      {"unknown verdict", &rev, "POST", review, verdict({{"verdict", "maybe"}}),
       400, "verdict"},
      {"revise without comments", &rev, "POST", review,
       verdict({{"verdict", "revise"}}), 400, "comments"},
      {"comments type", &rev, "POST", review,
       verdict({{"verdict", "revise"}, {"comments", "fix it"}}), 400,
       "comments"},
      {"comment without text", &rev, "POST", review,
       with_comment(json::object()), 400, "comments[0].text"},
      {"empty comment", &rev, "POST", review, with_comment({{"text", " "}}),
       400, "comments[0].text"},
      {"anchor on a missing box", &rev, "POST", review,
       with_comment({{"text", "x"}, {"anchor", {{"box", 1}}}}), 400,
       "comments[0].anchor.box"},
      {"negative box anchor", &rev, "POST", review,
       with_comment({{"text", "x"}, {"anchor", {{"box", -1}}}}), 400,
       "comments[0].anchor.box"},
      {"box anchor type", &rev, "POST", review,
       with_comment({{"text", "x"}, {"anchor", {{"box", "0"}}}}), 400,
       "comments[0].anchor.box"},
      {"anchor without target", &rev, "POST", review,
       with_comment({{"text", "x"}, {"anchor", {{"line", 3}}}}), 400,
       "comments[0].anchor"},
      {"backwards span", &rev, "POST", review,
       with_comment(
           {{"text", "x"}, {"anchor", {{"span", {{"start", 5}, {"end", 2}}}}}}),
       400, "comments[0].anchor.span"},
      {"no such submission", &rev, "POST",
       absl::StrCat("/api/v1/submissions", no_such, "/review"),
       verdict({{"verdict", "accept"}}), 404, kNoField},
      {"not leased", &rev, "POST",
       P("/api/v1/submissions/", returned, "/review"),
       verdict({{"verdict", "accept"}}), 409, kNoField},
      {"oversize", &rev, "POST", review, Oversize(), 413, kNoField},
  });
  expect_unchanged("review");

  // A query parameter that is not valid UTF-8.
  EXPECT_TRUE(IsApiError(ann1.Get("/api/v1/me/submissions?state=%FF%FE"), 400,
                         "state"));
  EXPECT_TRUE(
      IsApiError(ann1.Get("/api/v1/me/submissions?state=done"), 400, "state"));
  // Export only knows jsonl.
  EXPECT_TRUE(
      IsApiError(owner.Get(P("/api/v1/pools/", pool, "/export?format=xml")),
                 400, "format"));

  // The same objects still take valid writes: nothing was half-changed.
  auto ok = ann1.Post(submit, {{"result", box}});
  EXPECT_EQ(ok.status, 201) << ok.Describe();
  ok = ann1.Post(revise, {{"result", box}});
  EXPECT_EQ(ok.status, 201) << ok.Describe();
  ok = rev.Post(review, {{"verdict", "accept"}});
  EXPECT_EQ(ok.status, 200) << ok.Describe();
  auto earned = ann2.Get("/api/v1/me/earnings");
  EXPECT_EQ(earned.body["balance"]["amount_minor"], kPrice) << earned.raw;
  ok = adm.Post("/api/v1/users", json::parse(user(json::object())));
  EXPECT_EQ(ok.status, 201) << ok.Describe();
}

}  // namespace
}  // namespace tessera::integration
