// Status → HTTP table and error body shape.
#include "tessera/http/error_mapping.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tessera/base/status.h"

namespace tessera::http {
namespace {

struct Case {
  absl::StatusCode code;
  int http;
  const char* name;
};

TEST(HttpErrorMappingTest, EachCodeMapsToItsStatusAndName) {
  const Case cases[] = {
      {absl::StatusCode::kInvalidArgument, 400, "invalid_argument"},
      {absl::StatusCode::kOutOfRange, 400, "out_of_range"},
      {absl::StatusCode::kUnauthenticated, 401, "unauthenticated"},
      {absl::StatusCode::kPermissionDenied, 403, "permission_denied"},
      {absl::StatusCode::kNotFound, 404, "not_found"},
      {absl::StatusCode::kAlreadyExists, 409, "already_exists"},
      {absl::StatusCode::kFailedPrecondition, 409, "failed_precondition"},
      {absl::StatusCode::kAborted, 409, "aborted"},
      {absl::StatusCode::kResourceExhausted, 429, "resource_exhausted"},
      {absl::StatusCode::kUnavailable, 503, "unavailable"},
      {absl::StatusCode::kInternal, 500, "internal"},
      {absl::StatusCode::kUnknown, 500, "unknown"},
      {absl::StatusCode::kDataLoss, 500, "data_loss"},
      {absl::StatusCode::kDeadlineExceeded, 500, "deadline_exceeded"},
      {absl::StatusCode::kUnimplemented, 500, "unimplemented"},
      {absl::StatusCode::kCancelled, 500, "cancelled"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Response r = ErrorResponse(absl::Status(c.code, "the message"));
    EXPECT_EQ(r.status, c.http);
    EXPECT_EQ(r.content_type, "application/json");
    auto body = nlohmann::json::parse(r.body);
    ASSERT_EQ(body.size(), 1u);
    const auto& error = body.at("error");
    EXPECT_EQ(error.size(), 3u);
    EXPECT_EQ(error.at("code"), c.name);
    EXPECT_EQ(error.at("message"),
              c.http == 500 ? "internal error" : "the message");
    EXPECT_TRUE(error.at("field").is_null());
  }
}

TEST(HttpErrorMappingTest, FieldIsIncludedWhenPresent) {
  Response r = ErrorResponse(InvalidField("tasks[3].data.width", "too big"));
  EXPECT_EQ(r.status, 400);
  auto error = nlohmann::json::parse(r.body).at("error");
  EXPECT_EQ(error.at("field"), "tasks[3].data.width");
  EXPECT_EQ(error.at("message"), "too big");
}

TEST(HttpErrorMappingTest, HelpersFromBaseMapAsExpected) {
  EXPECT_EQ(ErrorResponse(NotFound("pool 7")).status, 404);
  EXPECT_EQ(ErrorResponse(Conflict("dup")).status, 409);
  EXPECT_EQ(ErrorResponse(Unauthenticated("who")).status, 401);
}

TEST(HttpErrorMappingTest, OkStatusIsAnInternalError) {
  EXPECT_EQ(ErrorResponse(absl::OkStatus()).status, 500);
}

TEST(HttpErrorMappingTest, TransportErrors) {
  Response r = ErrorResponse(413, "payload_too_large", "too big");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, R"({"error":{"code":"payload_too_large","field":null,)"
                    R"("message":"too big"}})");
  Response f = ErrorResponse(400, "bad_request", "x", "q");
  EXPECT_EQ(nlohmann::json::parse(f.body)["error"]["field"], "q");
}

}  // namespace
}  // namespace tessera::http
