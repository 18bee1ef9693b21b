// Benchmark fixtures: opens a store by URL and seeds users, login sessions, a
// funded project and a classify pool with many tasks directly through the
// store port and the service (no HTTP, no per-user password hashing).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/base/clock.h"
#include "tessera/base/ids.h"
#include "tessera/service/service.h"
#include "tessera/store/store.h"

namespace tessera::bench {

// Opens and migrates the database at `url` (sqlite://PATH or
// postgresql://...). `durability` ("full" or "normal") applies to SQLite.
// Uses the same driver options as `tessera serve`'s defaults.
absl::StatusOr<std::unique_ptr<store::Store>> OpenBenchStore(
    const std::string& url, const std::string& durability);

// A seeded user: who they are and, when sessions were made, a bearer token.
struct Worker {
  service::Principal principal;
  std::string token;  // empty when seeded without a session
};

struct SeedOptions {
  int annotators = 64;
  int reviewers = 8;
  bool sessions = true;      // make a login session (token) for every user
  int64_t tasks = 100'000;   // tasks in the one pool
  int task_batch = 10'000;   // tasks per AddTasks call (one transaction each)
  std::string prefix = "b";  // username prefix, so seeds can be repeated
};

struct Fixture {
  service::Principal requester;
  ProjectId project;
  PoolId pool;
  std::vector<Worker> annotators;
  std::vector<Worker> reviewers;
  double users_seconds = 0;  // time to insert users and sessions
  double tasks_seconds = 0;  // time to insert the tasks
};

// Seeds one requester (project with a large budget, one open classify pool
// with labels a,b, overlap 1, lease 600 s, price 1 minor unit), the
// annotators and reviewers, and options.tasks tasks in batches.
absl::StatusOr<Fixture> Seed(store::Store& store, service::Service& service,
                             const Clock& clock, const SeedOptions& options);

// Inserts more users with `role` (and sessions when `sessions`), 10k per
// transaction. Names are prefix + index.
absl::StatusOr<std::vector<Worker>> SeedUsers(store::Store& store,
                                              const Clock& clock,
                                              const std::string& prefix,
                                              domain::Role role, int count,
                                              bool sessions);

// Adds `count` classify tasks to `pool` through Service::AddTasks, `batch`
// per call. Returns the seconds it took.
absl::StatusOr<double> AddTasks(service::Service& service,
                                const service::Principal& requester,
                                PoolId pool, int64_t count, int batch);

}  // namespace tessera::bench
