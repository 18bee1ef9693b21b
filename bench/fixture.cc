// Seeding for the benchmarks through the store port and the service.
#include "fixture.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "tessera/base/status.h"
#include "tessera/service/auth.h"
#include "tessera/store/postgres/pg_database.h"
#include "tessera/store/sqlite/sqlite_database.h"

namespace tessera::bench {
namespace {

using nlohmann::json;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

constexpr int kUsersPerTx = 10'000;

}  // namespace

absl::StatusOr<std::unique_ptr<store::Store>> OpenBenchStore(
    const std::string& url, const std::string& durability) {
  std::unique_ptr<store::SqlDatabase> db;
  if (absl::StartsWith(url, "sqlite://")) {
    store::sqlite::SqliteOptions o;
    o.path = url.substr(strlen("sqlite://"));
    if (durability == "full") {
      o.durability = store::sqlite::Durability::kFull;
    } else if (durability == "normal") {
      o.durability = store::sqlite::Durability::kNormal;
    } else {
      return absl::InvalidArgumentError("durability must be full or normal");
    }
    TS_ASSIGN_OR_RETURN(db, store::sqlite::OpenSqlite(o));
  } else if (absl::StartsWith(url, "postgresql://") ||
             absl::StartsWith(url, "postgres://")) {
    store::postgres::PgOptions o;
    o.url = url;
    o.pool_size = 16;  // tessera serve's default [database] pg_pool_size
    TS_ASSIGN_OR_RETURN(db, store::postgres::OpenPostgres(o));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported database URL: ", url));
  }
  auto s = store::MakeSqlStore(std::move(db));
  TS_RETURN_IF_ERROR(s->Migrate());
  return s;
}

absl::StatusOr<std::vector<Worker>> SeedUsers(store::Store& store,
                                              const Clock& clock,
                                              const std::string& prefix,
                                              domain::Role role, int count,
                                              bool sessions) {
  // One argon2id hash for everyone: hashing is deliberately slow and nobody
  // logs in with a password here.
  TS_ASSIGN_OR_RETURN(std::string hash,
                      service::HashPassword("bench-password-123"));
  std::vector<Worker> out;
  out.reserve(count);
  absl::Time now = clock.Now();
  for (int start = 0; start < count; start += kUsersPerTx) {
    int end = std::min(count, start + kUsersPerTx);
    std::vector<Worker> batch;
    TS_RETURN_IF_ERROR(
        store.Run(store::TxMode::kWrite, [&](store::Tx& tx) -> absl::Status {
          batch.clear();
          for (int i = start; i < end; ++i) {
            domain::User u;
            u.username = absl::StrFormat("%s%07d", prefix, i);
            u.password_hash = hash;
            u.roles = {role};
            u.created_at = now;
            TS_ASSIGN_OR_RETURN(u.id, tx.InsertUser(u));
            Worker w;
            w.principal = service::Principal{u.id, u.username, u.roles};
            if (sessions) {
              w.token = service::NewToken();
              domain::Session session{service::HashToken(w.token), u.id, now,
                                      now + absl::Hours(24), false};
              TS_RETURN_IF_ERROR(tx.InsertSession(session));
            }
            batch.push_back(std::move(w));
          }
          return absl::OkStatus();
        }));
    for (auto& w : batch) out.push_back(std::move(w));
  }
  return out;
}

absl::StatusOr<double> AddTasks(service::Service& service,
                                const service::Principal& requester,
                                PoolId pool, int64_t count, int batch) {
  auto start = std::chrono::steady_clock::now();
  for (int64_t first = 0; first < count; first += batch) {
    int64_t n = std::min<int64_t>(batch, count - first);
    json tasks = json::array();
    for (int64_t i = 0; i < n; ++i) {
      tasks.push_back({{"data", {{"text", absl::StrCat("item ", first + i)}}}});
    }
    TS_RETURN_IF_ERROR(
        service.AddTasks(requester, pool, json{{"tasks", std::move(tasks)}})
            .status());
  }
  return SecondsSince(start);
}

absl::StatusOr<Fixture> Seed(store::Store& store, service::Service& service,
                             const Clock& clock, const SeedOptions& options) {
  Fixture f;
  auto start = std::chrono::steady_clock::now();
  TS_ASSIGN_OR_RETURN(auto requesters,
                      SeedUsers(store, clock, options.prefix + "req",
                                domain::Role::kRequester, 1, false));
  f.requester = requesters[0].principal;
  TS_ASSIGN_OR_RETURN(
      f.annotators,
      SeedUsers(store, clock, options.prefix + "ann", domain::Role::kAnnotator,
                options.annotators, options.sessions));
  TS_ASSIGN_OR_RETURN(
      f.reviewers,
      SeedUsers(store, clock, options.prefix + "rev", domain::Role::kReviewer,
                options.reviewers, options.sessions));
  f.users_seconds = SecondsSince(start);

  TS_ASSIGN_OR_RETURN(
      json project,
      service.CreateProject(f.requester,
                            {{"name", "bench"},
                             {"budget",
                              {{"amount_minor", int64_t{1'000'000'000'000}},
                               {"currency", "CNY"}}}}));
  f.project = ProjectId(project["id"].get<int64_t>());
  TS_ASSIGN_OR_RETURN(
      json pool,
      service.CreatePool(f.requester, f.project,
                         {{"name", "bench classify"},
                          {"task_type", "classify"},
                          {"config", {{"labels", {"a", "b"}}}},
                          {"price", {{"amount_minor", 1}, {"currency", "CNY"}}},
                          {"overlap", 1},
                          {"lease_seconds", 600}}));
  f.pool = PoolId(pool["id"].get<int64_t>());
  TS_ASSIGN_OR_RETURN(f.tasks_seconds,
                      AddTasks(service, f.requester, f.pool, options.tasks,
                               options.task_batch));
  TS_RETURN_IF_ERROR(service.OpenPool(f.requester, f.pool).status());
  return f;
}

}  // namespace tessera::bench
