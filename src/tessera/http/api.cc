// v1 API handlers.
#include "tessera/http/api.h"

#include <sodium.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "tessera/base/json_util.h"
#include "tessera/base/status.h"
#include "tessera/domain/task_types.h"
#include "tessera/formats/image_info.h"
#include "tessera/http/error_mapping.h"
#include "tessera/transfer/exporters.h"
#include "tessera/transfer/import_request.h"
#include "tessera/transfer/tar.h"

namespace tessera::http {
namespace {

using nlohmann::json;
using service::ClaimResult;
using service::Principal;
using service::Service;

namespace fs = std::filesystem;

// An unlinked temp file a response body is written into: buffered writes
// through a ByteSink, then handed to the server as a BodyFile.
class SpoolFile {
 public:
  static absl::StatusOr<SpoolFile> Create() {
    std::string dir = "/tmp";
    if (const char* t = std::getenv("TMPDIR"); t != nullptr && *t != 0) {
      dir = t;
    }
    std::string path = dir + "/tessera-export-XXXXXX";
    int fd = ::mkstemp(path.data());
    if (fd < 0) return absl::InternalError("cannot create a temp file");
    ::unlink(path.c_str());
    return SpoolFile(fd);
  }
  SpoolFile(SpoolFile&& o) noexcept
      : file_(std::exchange(o.file_, nullptr)), status_(o.status_) {}
  ~SpoolFile() {
    if (file_ != nullptr) std::fclose(file_);
  }
  formats::ByteSink sink() {
    return [this](absl::string_view bytes) {
      if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
        status_ = absl::ResourceExhaustedError("cannot write the export");
      }
      return status_;
    };
  }
  absl::Status Finish() {
    if (std::fflush(file_) != 0) {
      status_ = absl::ResourceExhaustedError("cannot write the export");
    }
    return status_;
  }
  // The file for the response (its own descriptor).
  std::shared_ptr<BodyFile> Release() {
    return std::make_shared<BodyFile>(::dup(::fileno(file_)));
  }

 private:
  explicit SpoolFile(int fd) : file_(::fdopen(fd, "w+")) {}
  std::FILE* file_;
  absl::Status status_;
};

absl::StatusOr<int64_t> PathId(const Request& req) {
  std::string raw = req.Param("id").value_or("");
  int64_t id = 0;
  if (!absl::SimpleAtoi(raw, &id) || id <= 0) {
    return InvalidField("id", "must be a positive integer id");
  }
  return id;
}

absl::StatusOr<json> Body(const Request& req) { return ParseJson(req.body); }

std::string BearerToken(const Request& req) {
  std::string auth = req.Header("authorization").value_or("");
  if (absl::StartsWithIgnoreCase(auth, "bearer ")) {
    return std::string(absl::StripAsciiWhitespace(auth.substr(7)));
  }
  return "";
}

Response JsonOr(int status, const absl::StatusOr<json>& result) {
  if (!result.ok()) return ErrorResponse(result.status());
  return Response::Json(status, *result);
}

std::string ContentTypeFor(const fs::path& p) {
  std::string ext = absl::AsciiStrToLower(p.extension().string());
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".png") return "image/png";
  if (ext == ".webp") return "image/webp";
  if (ext == ".bmp") return "image/bmp";
  if (ext == ".gif") return "image/gif";
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".json") return "application/json";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  return "application/octet-stream";
}

// Reads `rel` under `root`, refusing anything that resolves outside it.
std::optional<Response> ServeFile(const std::string& root,
                                  const std::string& rel) {
  if (root.empty()) return std::nullopt;
  std::error_code ec;
  fs::path base = fs::weakly_canonical(root, ec);
  if (ec) return std::nullopt;
  fs::path full = fs::weakly_canonical(base / rel, ec);
  if (ec) return std::nullopt;
  auto [b, f] =
      std::mismatch(base.begin(), base.end(), full.begin(), full.end());
  if (b != base.end()) return std::nullopt;  // escaped the root
  if (!fs::is_regular_file(full, ec)) return std::nullopt;
  std::ifstream in(full, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buf;
  buf << in.rdbuf();
  Response r = Response::Text(200, buf.str(), ContentTypeFor(full));
  r.headers.emplace_back("Cache-Control", "private, max-age=300");
  return r;
}

constexpr const char* kLandingPage = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tessera</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}
code{background:#8882;padding:.1rem .3rem;border-radius:3px}</style></head>
<body><h1>Tessera is running</h1>
<p>The JSON API is under <code>/api/v1</code> (see <code>docs/openapi.yaml</code>);
health at <code>/healthz</code>, Prometheus metrics at <code>/metrics</code>.</p>
<p>Sign in with <code>POST /api/v1/auth/login</code>; the README walks through the demo with curl.</p>
</body></html>
)html";

class Api {
 public:
  Api(Service& service, Metrics& metrics, ApiOptions options)
      : service_(service), metrics_(metrics), options_(std::move(options)) {
    metrics_.Describe("tessera_claims_total", "counter",
                      "Task claims by outcome (created, resumed, empty).");
    metrics_.Describe("tessera_submissions_total", "counter",
                      "Submissions and revisions accepted by the server.");
    metrics_.Describe("tessera_reviews_total", "counter",
                      "Review verdicts by verdict.");
  }

  // Wraps a handler that needs a signed-in caller.
  Handler Authed(std::function<Response(Request&, const Principal&)> fn) {
    return [this, fn = std::move(fn)](Request& req) {
      auto p = service_.Authenticate(BearerToken(req));
      if (!p.ok()) return ErrorResponse(p.status());
      return fn(req, *p);
    };
  }

  void Register(Router& r) {
    r.Add("GET", "/healthz", [](Request&) {
      return Response::Json(200, {{"status", "ok"}});
    });
    r.Add("GET", "/readyz", [this](Request&) {
      absl::Status s =
          options_.ready_check ? options_.ready_check() : absl::OkStatus();
      if (!s.ok()) {
        return Response::Json(503, {{"status", "unavailable"},
                                    {"reason", std::string(s.message())}});
      }
      return Response::Json(200, {{"status", "ready"}});
    });
    r.Add("GET", "/metrics", [this](Request&) {
      return Response::Text(200, metrics_.Render(),
                            "text/plain; version=0.0.4; charset=utf-8");
    });

    r.Add("POST", "/api/v1/auth/login", [this](Request& req) {
      auto body = Body(req);
      if (!body.ok()) return ErrorResponse(body.status());
      return JsonOr(200, service_.Login(*body));
    });
    r.Add("POST", "/api/v1/auth/logout", [this](Request& req) {
      absl::Status s = service_.Logout(BearerToken(req));
      if (!s.ok()) return ErrorResponse(s);
      return Response::NoContent();
    });
    r.Add("GET", "/api/v1/me", Authed([this](Request&, const Principal& p) {
            return JsonOr(200, service_.Me(p));
          }));
    r.Add("GET", "/api/v1/me/earnings",
          Authed([this](Request&, const Principal& p) {
            return JsonOr(200, service_.Earnings(p));
          }));
    r.Add("GET", "/api/v1/me/submissions",
          Authed([this](Request& req, const Principal& p) {
            return JsonOr(200,
                          service_.ListMySubmissions(p, req.Query("state")));
          }));
    r.Add("POST", "/api/v1/users",
          Authed([this](Request& req, const Principal& p) {
            auto body = Body(req);
            if (!body.ok()) return ErrorResponse(body.status());
            return JsonOr(201, service_.CreateUser(p, *body));
          }));

    r.Add("GET", "/api/v1/projects",
          Authed([this](Request&, const Principal& p) {
            return JsonOr(200, service_.ListProjects(p));
          }));
    r.Add("POST", "/api/v1/projects",
          Authed([this](Request& req, const Principal& p) {
            auto body = Body(req);
            if (!body.ok()) return ErrorResponse(body.status());
            return JsonOr(201, service_.CreateProject(p, *body));
          }));
    r.Add("GET", "/api/v1/projects/{id}",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return JsonOr(200, service_.GetProject(p, ProjectId(id)));
          }));
    r.Add("POST", "/api/v1/projects/{id}/pools",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            auto body = Body(req);
            if (!body.ok()) return ErrorResponse(body.status());
            return JsonOr(201, service_.CreatePool(p, ProjectId(id), *body));
          }));

    r.Add("GET", "/api/v1/pools", Authed([this](Request&, const Principal& p) {
            return JsonOr(200, service_.ListPools(p));
          }));
    r.Add("GET", "/api/v1/pools/{id}",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return JsonOr(200, service_.GetPool(p, PoolId(id)));
          }));
    r.Add("GET", "/api/v1/pools/{id}/stats",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return JsonOr(200, service_.PoolStats(p, PoolId(id)));
          }));
    r.Add("POST", "/api/v1/pools/{id}/aggregate",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return JsonOr(201, service_.Aggregate(p, PoolId(id)));
          }));
    r.Add("GET", "/api/v1/pools/{id}/quality",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            std::optional<int> version;
            if (auto raw = req.Query("version")) {
              int v = 0;
              if (!absl::SimpleAtoi(*raw, &v) || v < 1) {
                return ErrorResponse(
                    InvalidField("version", "must be a positive integer"));
              }
              version = v;
            }
            return JsonOr(200, service_.GetQuality(p, PoolId(id), version));
          }));
    r.Add("POST", "/api/v1/pools/{id}/tasks",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            if (IsImport(req)) return Import(req, p, PoolId(id));
            auto body = TasksBody(req);
            if (!body.ok()) return ErrorResponse(body.status());
            return JsonOr(201, service_.AddTasks(p, PoolId(id), *body));
          }));
    r.Add("POST", "/api/v1/pools/{id}/images",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            return UploadImage(req, p, PoolId(id));
          }));
    r.Add("POST", "/api/v1/pools/{id}/open",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return JsonOr(200, service_.OpenPool(p, PoolId(id)));
          }));
    r.Add("POST", "/api/v1/pools/{id}/close",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return JsonOr(200, service_.ClosePool(p, PoolId(id)));
          }));
    // Claim and submit, the annotators' loop, also have a non-blocking form
    // that runs on the I/O thread and answers when the write commits.
    r.Add("POST", "/api/v1/pools/{id}/claims",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return ClaimResponse(service_.Claim(p, PoolId(id)));
          }),
          InlineWithId([this](Request&, const Principal& p, int64_t id,
                              const std::shared_ptr<Responder>& respond) {
            return service_.ClaimAsync(
                p, PoolId(id),
                SendLater<ClaimOutcome>(respond, [this](ClaimOutcome result) {
                  return ClaimResponse(result);
                }));
          }));
    r.Add("POST", "/api/v1/pools/{id}/review-claims",
          WithId([this](Request&, const Principal& p, int64_t id) {
            auto result = service_.ClaimReview(p, PoolId(id));
            if (!result.ok()) return ErrorResponse(result.status());
            if (!*result) return Response::NoContent();
            return Response::Json(201, **result);
          }));
    r.Add("GET", "/api/v1/pools/{id}/export",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            return Export(req, p, PoolId(id));
          }));

    r.Add("POST", "/api/v1/claims/{id}/submit",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            auto body = Body(req);
            if (!body.ok()) return ErrorResponse(body.status());
            std::string key = req.Header("idempotency-key").value_or("");
            // ?next=1: then claim the next task of the pool (same
            // transaction).
            return SubmissionResponse(
                Flag(req, "next")
                    ? service_.SubmitAndClaimNext(p, ClaimId(id), *body, key)
                    : service_.Submit(p, ClaimId(id), *body, key));
          }),
          InlineWithId([this](Request& req, const Principal& p, int64_t id,
                              const std::shared_ptr<Responder>& respond) {
            auto body = Body(req);
            if (!body.ok()) {
              respond->Send(ErrorResponse(body.status()));
              return true;
            }
            return service_.SubmitAsync(
                p, ClaimId(id), *std::move(body),
                req.Header("idempotency-key").value_or(""), Flag(req, "next"),
                SendLater<absl::StatusOr<json>>(
                    respond, [this](absl::StatusOr<json> result) {
                      return SubmissionResponse(result);
                    }));
          }));
    r.Add("DELETE", "/api/v1/claims/{id}",
          WithId([this](Request&, const Principal& p, int64_t id) {
            absl::Status s = service_.Release(p, ClaimId(id));
            if (!s.ok()) return ErrorResponse(s);
            return Response::NoContent();
          }));
    r.Add("GET", "/api/v1/submissions/{id}",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return JsonOr(200, service_.GetSubmission(p, SubmissionId(id)));
          }));
    r.Add("POST", "/api/v1/submissions/{id}/revise",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            auto body = Body(req);
            if (!body.ok()) return ErrorResponse(body.status());
            std::string key = req.Header("idempotency-key").value_or("");
            return SubmissionResponse(
                service_.Revise(p, SubmissionId(id), *body, key));
          }));
    r.Add("POST", "/api/v1/submissions/{id}/review",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            auto body = Body(req);
            if (!body.ok()) return ErrorResponse(body.status());
            auto result = service_.Review(p, SubmissionId(id), *body);
            if (result.ok()) {
              metrics_.Inc("tessera_reviews_total",
                           {{"verdict", body->value("verdict", "")}});
            }
            return JsonOr(200, result);
          }));
    r.Add("GET", "/api/v1/tasks/{id}/image",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return ImageResponse(service_.TaskImage(p, TaskId(id)));
          }));
    r.Add("GET", "/api/v1/trials/{id}/image",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            int64_t task = 0;
            auto q = req.Query("task");
            if (!q || !absl::SimpleAtoi(*q, &task)) {
              return ErrorResponse(
                  InvalidField("task", "give the trial task id: ?task=N"));
            }
            return ImageResponse(service_.TrialTaskImage(p, id, task));
          }));

    // ---- Workforce: trials and background (issue 6)
    r.Add("GET", "/api/v1/me/profile",
          Authed([this](Request&, const Principal& p) {
            return JsonOr(200, service_.GetMyProfile(p));
          }));
    r.Add("PUT", "/api/v1/me/profile",
          Authed([this](Request& req, const Principal& p) {
            auto body = Body(req);
            if (!body.ok()) return ErrorResponse(body.status());
            return JsonOr(200, service_.PutMyProfile(p, *body));
          }));
    r.Add("GET", "/api/v1/me/trials",
          Authed([this](Request&, const Principal& p) {
            return JsonOr(200, service_.ListMyTrials(p));
          }));
    r.Add("GET", "/api/v1/profiles",
          Authed([this](Request& req, const Principal& p) {
            return JsonOr(200,
                          service_.ListProfiles(p, Flag(req, "unverified")));
          }));
    r.Add("GET", "/api/v1/users/{id}/profile",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return JsonOr(200, service_.GetUserProfile(p, UserId(id)));
          }));
    r.Add("POST", "/api/v1/users/{id}/skills",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            auto body = Body(req);
            if (!body.ok()) return ErrorResponse(body.status());
            return JsonOr(201, service_.GrantSkill(p, UserId(id), *body));
          }));
    r.Add("DELETE", "/api/v1/users/{id}/skills/{skill}",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            // The reason travels in the body; an empty body names it missing.
            auto body = req.body.empty() ? absl::StatusOr<json>(json::object())
                                         : Body(req);
            if (!body.ok()) return ErrorResponse(body.status());
            return JsonOr(200, service_.RevokeSkill(
                                   p, UserId(id),
                                   req.Param("skill").value_or(""), *body));
          }));
    r.Add("POST", "/api/v1/pools/{id}/trial-tasks",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            auto body = Body(req);
            if (!body.ok()) return ErrorResponse(body.status());
            return JsonOr(201, service_.AddTrialTasks(p, PoolId(id), *body));
          }));
    r.Add("GET", "/api/v1/pools/{id}/trial-tasks",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return JsonOr(200, service_.ListTrialTasks(p, PoolId(id)));
          }));
    r.Add("POST", "/api/v1/pools/{id}/trial",
          WithId([this](Request&, const Principal& p, int64_t id) {
            auto started = service_.StartTrial(p, PoolId(id));
            if (!started.ok()) return ErrorResponse(started.status());
            return Response::Json(started->resumed ? 200 : 201, started->body);
          }));
    r.Add("GET", "/api/v1/trials/{id}",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return JsonOr(200, service_.GetTrial(p, id));
          }));
    r.Add("POST", "/api/v1/trials/{id}/answers",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            auto body = Body(req);
            if (!body.ok()) return ErrorResponse(body.status());
            return JsonOr(201, service_.AnswerTrial(p, id, *body));
          }));
    r.Add("POST", "/api/v1/trials/{id}/grade",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            auto body = Body(req);
            if (!body.ok()) return ErrorResponse(body.status());
            return JsonOr(200, service_.GradeTrial(p, id, *body));
          }));
    r.Add("GET", "/api/v1/trial-reviews",
          Authed([this](Request&, const Principal& p) {
            return JsonOr(200, service_.ListTrialReviews(p));
          }));
    // ---- end Workforce: trials and background

    // ---- Workforce: appeals, floor, flags, records (issue 6)
    r.Add("POST", "/api/v1/submissions/{id}/appeal",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            auto body = Body(req);
            if (!body.ok()) return ErrorResponse(body.status());
            return JsonOr(
                201, service_.AppealSubmission(p, SubmissionId(id), *body));
          }));
    r.Add("GET", "/api/v1/appeals",
          Authed([this](Request& req, const Principal& p) {
            return JsonOr(200, service_.ListAppeals(p, req.Query("state")));
          }));
    r.Add("POST", "/api/v1/appeals/{id}/decide",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            auto body = Body(req);
            if (!body.ok()) return ErrorResponse(body.status());
            return JsonOr(200, service_.DecideAppeal(p, id, *body));
          }));
    r.Add("GET", "/api/v1/me/appeals",
          Authed([this](Request&, const Principal& p) {
            return JsonOr(200, service_.ListMyAppeals(p));
          }));
    r.Add("POST", "/api/v1/pools/{id}/settle-floor",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            auto week = req.Query("week");
            if (!week) {
              return ErrorResponse(
                  InvalidField("week", "is required (YYYY-MM-DD)"));
            }
            return JsonOr(200, service_.SettleFloor(p, PoolId(id), *week));
          }));
    r.Add("POST", "/api/v1/tasks/{id}/flags",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            auto body = Body(req);
            if (!body.ok()) return ErrorResponse(body.status());
            return JsonOr(201, service_.FlagTask(p, TaskId(id), *body));
          }));
    r.Add("GET", "/api/v1/pools/{id}/flags",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return JsonOr(200, service_.ListPoolFlags(p, PoolId(id)));
          }));
    r.Add("GET", "/api/v1/me/record",
          Authed([this](Request&, const Principal& p) {
            return JsonOr(200, service_.WorkRecord(p));
          }));
    r.Add("GET", "/api/v1/record-key",
          [this](Request&) { return JsonOr(200, service_.RecordKey()); });
    // ---- end Workforce: appeals, floor, flags, records

    // ---- Workforce: standing and allocation (issue 6)
    r.Add("GET", "/api/v1/me/standing",
          Authed([this](Request&, const Principal& p) {
            return JsonOr(200, service_.MyStanding(p));
          }));
    r.Add("GET", "/api/v1/me/claims",
          Authed([this](Request&, const Principal& p) {
            return JsonOr(200, service_.ListMyClaims(p));
          }));
    r.Add("GET", "/api/v1/users/{id}/standing",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return JsonOr(200, service_.UserStanding(p, UserId(id)));
          }));
    r.Add("GET", "/api/v1/projects/{id}/blocks",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return JsonOr(200, service_.ListBlocks(p, ProjectId(id)));
          }));
    r.Add("POST", "/api/v1/projects/{id}/blocks",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            auto body = Body(req);
            if (!body.ok()) return ErrorResponse(body.status());
            return JsonOr(201,
                          service_.BlockAnnotator(p, ProjectId(id), *body));
          }));
    r.Add("DELETE", "/api/v1/projects/{id}/blocks/{annotator_id}",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            int64_t annotator = 0;
            if (!absl::SimpleAtoi(req.Param("annotator_id").value_or(""),
                                  &annotator) ||
                annotator <= 0) {
              return ErrorResponse(
                  InvalidField("annotator_id", "must be a positive user id"));
            }
            absl::Status s =
                service_.UnblockAnnotator(p, ProjectId(id), UserId(annotator));
            if (!s.ok()) return ErrorResponse(s);
            return Response::NoContent();
          }));
    r.Add("GET", "/api/v1/pools/{id}/claims",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            std::optional<UserId> annotator;
            if (auto q = req.Query("annotator_id")) {
              int64_t a = 0;
              if (!absl::SimpleAtoi(*q, &a) || a <= 0) {
                return ErrorResponse(
                    InvalidField("annotator_id", "must be a positive user id"));
              }
              annotator = UserId(a);
            }
            return JsonOr(200,
                          service_.ListPoolClaims(p, PoolId(id), annotator));
          }));
    // ---- end Workforce: standing and allocation

    // ---- Workforce: reviewer invitations (issue 6)
    r.Add("POST", "/api/v1/users/{id}/reviewer-invitations",
          WithId([this](Request& req, const Principal& p, int64_t id) {
            json body = json::object();
            if (!absl::StripAsciiWhitespace(req.body).empty()) {
              auto parsed = Body(req);
              if (!parsed.ok()) return ErrorResponse(parsed.status());
              body = std::move(*parsed);
            }
            return JsonOr(201, service_.InviteReviewer(p, UserId(id), body));
          }));
    r.Add("GET", "/api/v1/me/invitations",
          Authed([this](Request&, const Principal& p) {
            return JsonOr(200, service_.ListMyInvitations(p));
          }));
    r.Add("POST", "/api/v1/invitations/{id}/accept",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return JsonOr(200, service_.DecideInvitation(p, id, true));
          }));
    r.Add("POST", "/api/v1/invitations/{id}/decline",
          WithId([this](Request&, const Principal& p, int64_t id) {
            return JsonOr(200, service_.DecideInvitation(p, id, false));
          }));
    // ---- end Workforce: reviewer invitations

    r.SetFallback([this](Request& req) {
      if (absl::StartsWith(req.path, "/api/")) {
        return ErrorResponse(404, "not_found", "no such API route");
      }
      if (req.method != "GET" && req.method != "HEAD") {
        return ErrorResponse(405, "method_not_allowed", "only GET here");
      }
      std::string rel = req.path == "/" ? "index.html" : req.path.substr(1);
      if (auto file = ServeFile(options_.web_root, rel)) return *file;
      // Client-side routes of the single-page app fall back to index.html.
      if (auto index = ServeFile(options_.web_root, "index.html")) {
        return *index;
      }
      if (req.path == "/" || req.path == "/index.html") {
        return Response::Text(200, kLandingPage, "text/html; charset=utf-8");
      }
      return ErrorResponse(404, "not_found", "no such page");
    });
  }

 private:
  // A task image: a redirect for an http(s) URL, else the file from the
  // media root.
  Response ImageResponse(const absl::StatusOr<std::string>& image) {
    if (!image.ok()) return ErrorResponse(image.status());
    if (absl::StartsWith(*image, "http://") ||
        absl::StartsWith(*image, "https://")) {
      Response resp = Response::Text(302, "");
      resp.headers.emplace_back("Location", *image);
      return resp;
    }
    auto file = ServeFile(options_.media_root, *image);
    if (!file) return ErrorResponse(NotFound("image file in the media root"));
    return *file;
  }

  using ClaimOutcome = absl::StatusOr<std::optional<ClaimResult>>;

  // 201 with the new claim, 200 when the caller already held it, 204 when
  // no task is left for the caller.
  Response ClaimResponse(const ClaimOutcome& result) {
    if (!result.ok()) return ErrorResponse(result.status());
    if (!*result) {
      metrics_.Inc("tessera_claims_total", {{"outcome", "empty"}});
      return Response::NoContent();
    }
    bool resumed = (*result)->resumed;
    metrics_.Inc("tessera_claims_total",
                 {{"outcome", resumed ? "resumed" : "created"}});
    return Response::Json(resumed ? 200 : 201, (*result)->body);
  }

  // A submission or revision: 201, or 200 for an idempotent replay.
  Response SubmissionResponse(const absl::StatusOr<json>& result) {
    if (!result.ok()) return ErrorResponse(result.status());
    bool replay = result->value("replayed", false);
    if (!replay) metrics_.Inc("tessera_submissions_total", {});
    return Response::Json(replay ? 200 : 201, *result);
  }

  // The asynchronous form of a WithId route (see InlineHandler), where the
  // store can write without blocking. On the I/O thread it declines when
  // the caller's session is not cached (reading it would block); on a
  // worker it reads the session, then frees the worker while the write
  // commits.
  InlineHandler InlineWithId(
      std::function<bool(Request&, const Principal&, int64_t,
                         const std::shared_ptr<Responder>&)>
          fn) {
    if (!service_.async_writes()) return nullptr;
    return [this, fn = std::move(fn)](Request& req,
                                      const std::shared_ptr<Responder>& respond,
                                      bool may_block) {
      std::optional<Principal> p = service_.CachedPrincipal(BearerToken(req));
      if (!p && !may_block) return false;
      if (!p) {
        auto authed = service_.Authenticate(BearerToken(req));
        if (!authed.ok()) {
          respond->Send(ErrorResponse(authed.status()));
          return true;
        }
        p = *std::move(authed);
      }
      auto id = PathId(req);
      if (!id.ok()) {
        respond->Send(ErrorResponse(id.status()));
        return true;
      }
      return fn(req, *p, *id, respond);
    };
  }

  // Hands a non-blocking service call's outcome to the request's I/O
  // thread, which makes it into the response and sends it.
  template <typename T>
  static Service::Then<T> SendLater(std::shared_ptr<Responder> respond,
                                    std::function<Response(T)> to_response) {
    return [respond = std::move(respond),
            to_response = std::move(to_response)](Service::Later<T> later) {
      respond->Post([respond, to_response, later = std::move(later)] {
        respond->Send(to_response(later()));
      });
    };
  }

  Handler WithId(
      std::function<Response(Request&, const Principal&, int64_t)> fn) {
    return Authed([fn = std::move(fn)](Request& req, const Principal& p) {
      auto id = PathId(req);
      if (!id.ok()) return ErrorResponse(id.status());
      return fn(req, p, *id);
    });
  }

  // {tasks:[...]} as JSON (the all-in-one-request form).
  static absl::StatusOr<json> TasksBody(const Request& req) {
    return ParseJson(req.body);
  }

  // An upload in a file format (NDJSON/JSONL lines, COCO or Label Studio
  // JSON) or a server-side import (`path` in the media root), rather than
  // {tasks:[...]}.
  static bool IsImport(const Request& req) {
    std::string type =
        absl::AsciiStrToLower(req.Header("content-type").value_or(""));
    return req.Query("format").has_value() || req.Query("path").has_value() ||
           absl::StrContains(type, "ndjson") ||
           absl::StrContains(type, "jsonl");
  }

  static bool Flag(const Request& req, absl::string_view name) {
    std::string v = absl::AsciiStrToLower(req.Query(name).value_or(""));
    return v == "1" || v == "true" || v == "yes";
  }

  // `rel` (a query parameter naming `field`) resolved inside the media
  // root, or an error naming the field.
  absl::StatusOr<std::string> InMedia(const std::string& rel,
                                      absl::string_view field) const {
    if (options_.media_root.empty()) {
      return InvalidField(field, "the server has no media root (--media)");
    }
    if (!domain::IsSafeMediaReference(rel) || absl::StartsWith(rel, "http")) {
      return InvalidField(field, "must be a relative path in the media root");
    }
    return (fs::path(options_.media_root) / rel).string();
  }

  // Stores the request body as an image in the media root and makes it one
  // task of `pool` (see docs/openapi.yaml, POST /pools/{id}/images).
  Response UploadImage(Request& req, const Principal& p, PoolId pool) {
    if (options_.media_root.empty()) {
      return ErrorResponse(
          InvalidField("media", "the server has no media root (--media)"));
    }
    if (absl::Status s = service_.CheckImageUpload(p, pool); !s.ok()) {
      return ErrorResponse(s);
    }
    std::string name = req.Query("name").value_or("");
    if (absl::Status s = ValidateUploadName(name); !s.ok()) {
      return ErrorResponse(s);
    }
    if (req.body.empty()) {
      return ErrorResponse(InvalidField("body", "must be the image's bytes"));
    }
    const std::string rel =
        absl::StrCat("uploads/pool-", pool.value, "/",
                     ContentDigest(req.body).substr(0, 12), "-", name);
    if (!domain::IsSafeMediaReference(rel)) {
      return ErrorResponse(InvalidField("name", "is not a safe file name"));
    }
    const fs::path full = fs::path(options_.media_root) / rel;
    auto stored = StoreUpload(full, req.body);
    if (!stored.ok()) return ErrorResponse(stored.status());
    auto task = service_.AddImageTask(p, pool, rel, stored->size.width,
                                      stored->size.height);
    if (!task.ok() && stored->created) {
      std::error_code ec;
      fs::remove(full, ec);
    }
    return JsonOr(201, task);
  }

  // A file name for an upload: a basename with an image extension.
  static absl::Status ValidateUploadName(const std::string& name) {
    if (name.empty() || name.size() > 200) {
      return InvalidField("name", "must be a file name of 1 to 200 bytes");
    }
    if (name.front() == '.' || absl::StrContains(name, "..")) {
      return InvalidField("name", "must not start with '.' or contain '..'");
    }
    for (unsigned char c : name) {
      if (c < 0x20 || c == 0x7f ||
          absl::string_view("/\\:*?\"<>|%#").find(static_cast<char>(c)) !=
              absl::string_view::npos) {
        return InvalidField(
            "name",
            "must be a plain file name (no path, no special characters)");
      }
    }
    std::string ext =
        absl::AsciiStrToLower(fs::path(name).extension().string());
    if (ext != ".jpg" && ext != ".jpeg" && ext != ".png" && ext != ".webp" &&
        ext != ".bmp") {
      return InvalidField("name",
                          "must end in .jpg, .jpeg, .png, .webp or .bmp");
    }
    return absl::OkStatus();
  }

  // Hex BLAKE2b-256 of `bytes`.
  static std::string ContentDigest(absl::string_view bytes) {
    unsigned char digest[32];
    crypto_generichash(digest, sizeof digest,
                       reinterpret_cast<const unsigned char*>(bytes.data()),
                       bytes.size(), nullptr, 0);
    return absl::BytesToHexString(absl::string_view(
        reinterpret_cast<const char*>(digest), sizeof digest));
  }

  struct StoredUpload {
    formats::ImageSize size;
    bool created = false;  // false: an identical earlier upload was reused
  };

  // Writes `bytes` to `full` through a temp file in the same folder (so a
  // reader never sees half a file), after checking that they decode as an
  // image. An existing file of that name (same content digest) is reused.
  static absl::StatusOr<StoredUpload> StoreUpload(const fs::path& full,
                                                  const std::string& bytes) {
    std::error_code ec;
    if (fs::is_regular_file(full, ec)) {
      auto size = formats::ReadImageSize(full.string());
      if (size.ok()) return StoredUpload{*size, false};
    }
    fs::create_directories(full.parent_path(), ec);
    if (ec) return absl::InternalError("cannot create the upload folder");
    std::string temp = (full.parent_path() / ".upload-XXXXXX").string();
    int fd = ::mkstemp(temp.data());
    if (fd < 0) return absl::InternalError("cannot create a temp file");
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    bool ok = done == bytes.size() && ::fsync(fd) == 0;
    ok = ::close(fd) == 0 && ok;
    if (!ok) {
      ::unlink(temp.c_str());
      return absl::ResourceExhaustedError("cannot write the image");
    }
    auto size = formats::ReadImageSize(temp);
    if (!size.ok()) {
      ::unlink(temp.c_str());
      return InvalidField("body", "is not a readable image");
    }
    if (::rename(temp.c_str(), full.c_str()) != 0) {
      ::unlink(temp.c_str());
      return absl::InternalError("cannot store the image");
    }
    return StoredUpload{*size, true};
  }

  Response Import(Request& req, const Principal& p, PoolId pool) {
    transfer::ImportRequest r;
    r.format = req.Query("format").value_or("auto");
    r.detection.media_root = options_.media_root;
    auto bad = [](const absl::Status& s) { return ErrorResponse(s); };
    if (auto path = req.Query("path")) {
      auto in = InMedia(*path, "path");
      if (!in.ok()) return bad(in.status());
      r.input = *in;
    } else {
      r.body = std::make_shared<const std::string>(std::move(req.body));
    }
    if (auto images = req.Query("images")) {
      auto in = InMedia(*images, "images");
      if (!in.ok()) return bad(in.status());
      r.detection.images_dir = *in;
    }
    if (auto classes = req.Query("classes")) {
      auto in = InMedia(*classes, "classes");
      if (!in.ok()) return bad(in.status());
      r.detection.classes_file = *in;
    }
    auto labels_as = transfer::ParseLabelsAs(
        req.Query("labels_as").value_or("gold"), "labels_as");
    if (!labels_as.ok()) return bad(labels_as.status());
    r.detection.labels_as = *labels_as;
    r.detection.only_pool_labels = Flag(req, "only_pool_labels");
    r.detection.model = req.Query("model").value_or("import");
    std::string pairs = req.Query("pairs").value_or("all");
    if (pairs != "all" && pairs != "adjacent") {
      return bad(InvalidField("pairs", "must be all or adjacent"));
    }
    r.text.pair_mode = pairs == "all" ? formats::PairMode::kAllPairs
                                      : formats::PairMode::kAdjacent;
    service::ImportOptions options;
    options.skip_invalid = Flag(req, "skip_invalid");
    options.dedupe = Flag(req, "dedupe");
    r.detection.skip_invalid = options.skip_invalid;
    auto source = transfer::MakeImportSource(r);
    if (!source.ok()) return bad(source.status());
    return JsonOr(201, service_.ImportTasks(p, pool, **source, options));
  }

  // Streams the export from an unlinked temp file (flat memory, any size).
  Response Export(Request& req, const Principal& p, PoolId pool) {
    auto spec = transfer::ParseExportSpec(req.Query("format").value_or("jsonl"),
                                          req.Query("mode").value_or("raw"),
                                          Flag(req, "preannotations"));
    if (!spec.ok()) return ErrorResponse(spec.status());
    auto spool = SpoolFile::Create();
    if (!spool.ok()) return ErrorResponse(spool.status());
    formats::ByteSink bytes = spool->sink();
    absl::StatusOr<transfer::ExportSummary> summary;
    if (transfer::IsMultiFile(spec->format)) {
      transfer::TarSink tar(bytes);
      summary = transfer::ExportPool(service_, p, pool, *spec,
                                     formats::ByteSink(), &tar);
      if (summary.ok()) {
        if (absl::Status s = tar.Finish(); !s.ok()) summary = s;
      }
    } else {
      summary = transfer::ExportPool(service_, p, pool, *spec, bytes, nullptr);
    }
    if (summary.ok()) {
      if (absl::Status s = spool->Finish(); !s.ok()) summary = s;
    }
    if (!summary.ok()) return ErrorResponse(summary.status());
    Response resp;
    resp.content_type = std::string(transfer::ContentType(spec->format));
    resp.file = spool->Release();
    resp.headers.emplace_back(
        "Content-Disposition",
        absl::StrCat("attachment; filename=\"pool-", pool.value, "-",
                     transfer::FormatName(spec->format),
                     transfer::FileExtension(spec->format), "\""));
    resp.headers.emplace_back("X-Tessera-Records",
                              absl::StrCat(summary->records));
    return resp;
  }

  Service& service_;
  Metrics& metrics_;
  ApiOptions options_;
};

}  // namespace

void RegisterApi(Router& router, Service& service, Metrics& metrics,
                 ApiOptions options) {
  // The Api object lives as long as the handlers that capture it.
  auto api = std::make_shared<Api>(service, metrics, std::move(options));
  api->Register(router);
  router.Add("GET", "/api/v1", [api](Request&) {
    return Response::Json(200, {{"name", "tessera"}, {"version", "v1"}});
  });
}

}  // namespace tessera::http
