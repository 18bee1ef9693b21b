// Router: precedence, params, 404/405, fallback and exception handling.
#include "tessera/http/router.h"

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace tessera::http {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

Handler Named(std::string name) {
  return [name](Request& req) { return Response::Text(200, name); };
}

Request Req(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.target = r.path;
  return r;
}

nlohmann::json ErrorOf(const Response& r) {
  return nlohmann::json::parse(r.body).at("error");
}

TEST(HttpRouterTest, LiteralBeatsParamRegardlessOfOrder) {
  Router router;
  router.Add("GET", "/pools/{id}", Named("param"));
  router.Add("GET", "/pools/mine", Named("literal"));
  Request a = Req("GET", "/pools/mine");
  EXPECT_EQ(router.Dispatch(a).body, "literal");
  EXPECT_EQ(a.route, "/pools/mine");
  EXPECT_TRUE(a.params.empty());
  Request b = Req("GET", "/pools/42");
  EXPECT_EQ(router.Dispatch(b).body, "param");
  EXPECT_EQ(b.route, "/pools/{id}");
}

TEST(HttpRouterTest, EarlierLiteralSegmentWins) {
  Router router;
  router.Add("GET", "/{a}/x", Named("param-first"));
  router.Add("GET", "/p/{b}", Named("literal-first"));
  Request r = Req("GET", "/p/x");
  EXPECT_EQ(router.Dispatch(r).body, "literal-first");
}

TEST(HttpRouterTest, ExtractsParams) {
  Router router;
  router.Add("POST", "/api/v1/pools/{id}/claims/{claim}", Named("ok"));
  Request r = Req("POST", "/api/v1/pools/17/claims/abc");
  Response resp = router.Dispatch(r);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(r.route, "/api/v1/pools/{id}/claims/{claim}");
  EXPECT_THAT(r.params, ElementsAre(Pair("id", "17"), Pair("claim", "abc")));
  EXPECT_EQ(r.Param("id"), "17");
  EXPECT_EQ(r.Param("nope"), std::nullopt);
}

TEST(HttpRouterTest, ParamDoesNotMatchEmptySegmentOrExtraSegments) {
  Router router;
  router.Add("GET", "/pools/{id}", Named("x"));
  Request empty = Req("GET", "/pools/");
  EXPECT_EQ(router.Dispatch(empty).status, 404);
  Request longer = Req("GET", "/pools/1/2");
  EXPECT_EQ(router.Dispatch(longer).status, 404);
}

TEST(HttpRouterTest, UnknownPathIs404Json) {
  Router router;
  router.Add("GET", "/a", Named("a"));
  Request r = Req("GET", "/b");
  Response resp = router.Dispatch(r);
  EXPECT_EQ(resp.status, 404);
  EXPECT_EQ(resp.content_type, "application/json");
  EXPECT_EQ(ErrorOf(resp)["code"], "not_found");
  EXPECT_EQ(r.route, "");
}

TEST(HttpRouterTest, WrongMethodIs405WithAllow) {
  Router router;
  router.Add("GET", "/items/{id}", Named("get"));
  router.Add("DELETE", "/items/{id}", Named("delete"));
  router.Add("GET", "/items/{id}", Named("dup"));  // listed once in Allow
  Request r = Req("POST", "/items/3");
  Response resp = router.Dispatch(r);
  EXPECT_EQ(resp.status, 405);
  EXPECT_EQ(ErrorOf(resp)["code"], "method_not_allowed");
  EXPECT_THAT(resp.headers, ElementsAre(Pair("Allow", "GET, DELETE")));
}

TEST(HttpRouterTest, MethodMatchPrefersParamRouteOverLiteralWithOtherMethod) {
  Router router;
  router.Add("POST", "/pools/open", Named("post-literal"));
  router.Add("GET", "/pools/{id}", Named("get-param"));
  Request r = Req("GET", "/pools/open");
  EXPECT_EQ(router.Dispatch(r).body, "get-param");
}

TEST(HttpRouterTest, HeadFallsBackToGet) {
  Router router;
  router.Add("GET", "/x", Named("get"));
  Request r = Req("HEAD", "/x");
  EXPECT_EQ(router.Dispatch(r).body, "get");
}

TEST(HttpRouterTest, FallbackHandlesUnmatchedPathsOnly) {
  Router router;
  router.Add("GET", "/api/v1/me", Named("me"));
  router.SetFallback([](Request& req) {
    return Response::Text(200, "asset:" + req.path, "text/html");
  });
  Request asset = Req("GET", "/index.html");
  Response resp = router.Dispatch(asset);
  EXPECT_EQ(resp.body, "asset:/index.html");
  EXPECT_EQ(asset.route, "");
  Request wrong_method = Req("POST", "/api/v1/me");
  EXPECT_EQ(router.Dispatch(wrong_method).status, 405);
}

TEST(HttpRouterTest, HandlerExceptionBecomes500) {
  Router router;
  router.Add("GET", "/boom",
             [](Request&) -> Response { throw std::runtime_error("kaboom"); });
  router.Add("GET", "/int", [](Request&) -> Response { throw 7; });
  Request r = Req("GET", "/boom");
  Response resp = router.Dispatch(r);
  EXPECT_EQ(resp.status, 500);
  EXPECT_EQ(ErrorOf(resp)["message"], "internal error");
  Request r2 = Req("GET", "/int");
  EXPECT_EQ(router.Dispatch(r2).status, 500);
}

// Collects what an inline handler sent.
class RecordingResponder : public Responder {
 public:
  void Post(std::function<void()> fn) override { fn(); }
  void Send(Response resp) override { sent.push_back(std::move(resp)); }
  std::vector<Response> sent;
};

TEST(HttpRouterTest, DispatchInlineRunsOnlyFastFormsOfTheMatchedRoute) {
  Router router;
  std::vector<bool> calls;  // may_block of each call of the fast form
  router.Add("POST", "/pools/{id}/claims", Named("claims"),
             [&](Request& req, const std::shared_ptr<Responder>& respond,
                 bool may_block) {
               calls.push_back(may_block);
               if (!may_block) return false;
               respond->Send(Response::Text(201, *req.Param("id")));
               return true;
             });
  router.Add("POST", "/pools/{id}/close", Named("close"));
  router.Add("POST", "/boom", Named("boom"),
             [](Request&, const std::shared_ptr<Responder>&, bool) -> bool {
               throw std::runtime_error("inline boom");
             });
  auto respond = std::make_shared<RecordingResponder>();

  Request declined = Req("POST", "/pools/7/claims");
  EXPECT_EQ(router.DispatchInline(declined, respond, false), Inline::kDeclined);
  Request taken = Req("POST", "/pools/7/claims");
  EXPECT_EQ(router.DispatchInline(taken, respond, true), Inline::kTaken);
  EXPECT_EQ(taken.route, "/pools/{id}/claims");
  EXPECT_THAT(taken.params, ElementsAre(Pair("id", "7")));
  EXPECT_EQ(respond->route, "/pools/{id}/claims");
  EXPECT_THAT(calls, ElementsAre(false, true));
  ASSERT_EQ(respond->sent.size(), 1u);
  EXPECT_EQ(respond->sent[0].status, 201);
  EXPECT_EQ(respond->sent[0].body, "7");

  // No fast form, another method, no route: not run, nothing sent.
  for (auto [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"POST", "/pools/7/close"},
           {"GET", "/pools/7/claims"},
           {"POST", "/nowhere"}}) {
    Request r = Req(method, path);
    EXPECT_EQ(router.DispatchInline(r, respond, true), Inline::kNone) << path;
  }
  EXPECT_EQ(calls.size(), 2u);
  EXPECT_EQ(respond->sent.size(), 1u);

  Request boom = Req("POST", "/boom");
  EXPECT_EQ(router.DispatchInline(boom, respond, false), Inline::kTaken);
  ASSERT_EQ(respond->sent.size(), 2u);
  EXPECT_EQ(respond->sent[1].status, 500);
  EXPECT_EQ(ErrorOf(respond->sent[1])["code"], "internal");
}

TEST(HttpRouterTest, RoutesInRegistrationOrder) {
  Router router;
  router.Add("GET", "/b", Named("b"));
  router.Add("POST", "/a/{id}", Named("a"));
  EXPECT_THAT(router.Routes(),
              ElementsAre(Pair("GET", "/b"), Pair("POST", "/a/{id}")));
}

TEST(HttpTypesTest, ParseTargetDecodesPathAndQuery) {
  auto t = ParseTarget("/a%20b/c?x=1+2&y=%26&flag&=v");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->path, "/a b/c");
  EXPECT_THAT(t->query, ElementsAre(Pair("x", "1 2"), Pair("y", "&"),
                                    Pair("flag", ""), Pair("", "v")));
}

TEST(HttpTypesTest, ParseTargetRejectsBadInput) {
  EXPECT_FALSE(ParseTarget("/a%00b").ok());
  EXPECT_FALSE(ParseTarget("/a%zz").ok());
  EXPECT_FALSE(ParseTarget("/a%2").ok());
  EXPECT_FALSE(ParseTarget("no-slash").ok());
  EXPECT_FALSE(ParseTarget("/?q=%G1").ok());
}

TEST(HttpTypesTest, JsonNeverThrowsOnBadUtf8) {
  Response r = Response::Json(200, {{"s", std::string("a\xff"
                                                      "b")}});
  EXPECT_EQ(r.body,
            "{\"s\":\"a\xEF\xBF\xBD"
            "b\"}");
}

TEST(HttpTypesTest, RequestAccessors) {
  Request r;
  r.headers = {{"content-type", "text/plain"}};
  r.query = {{"format", "coco"}};
  EXPECT_EQ(r.Header("content-type"), "text/plain");
  EXPECT_EQ(r.Header("x"), std::nullopt);
  EXPECT_EQ(r.Query("format"), "coco");
}

}  // namespace
}  // namespace tessera::http
