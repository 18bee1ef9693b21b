// The store conformance suite: the storage behaviour of the task lifecycle
// through the Tx port, identical on every backend, plus the backend factories.
#include "tessera/store/store_conformance.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "tessera/store/postgres/pg_database.h"
#include "tessera/store/postgres/pg_test_util.h"
#include "tessera/store/sqlite/sqlite_database.h"

namespace tessera::store {

// ------------------------------------------------------------- factories

StoreFactory SqliteStoreFactory(sqlite::Durability durability) {
  StoreFactory f;
  f.name =
      durability == sqlite::Durability::kFull ? "sqlite_full" : "sqlite_normal";
  f.open = [durability]() -> absl::StatusOr<TestStore> {
    std::string pattern =
        (std::filesystem::path(::testing::TempDir()) / "tessera_store.XXXXXX")
            .string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::InternalError(absl::StrCat("mkdtemp failed for ", pattern));
    }
    std::string dir = pattern;
    TestStore out;
    out.cleanup = [dir] {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    };
    sqlite::SqliteOptions options;
    options.path = (std::filesystem::path(dir) / "store.db").string();
    options.durability = durability;
    auto db = sqlite::OpenSqlite(options);
    if (!db.ok()) {
      out.cleanup();
      return db.status();
    }
    out.store = MakeSqlStore(std::move(*db));
    if (absl::Status s = out.store->Migrate(); !s.ok()) {
      out.store.reset();
      out.cleanup();
      return s;
    }
    return out;
  };
  return f;
}

StoreFactory PostgresStoreFactory() {
  StoreFactory f;
  f.name = "postgres";
  f.skip = [] { return postgres::ShouldSkipPgTests(); };
  f.open = []() -> absl::StatusOr<TestStore> {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    TS_ASSIGN_OR_RETURN(
        std::string url,
        postgres::CreateTestDatabase(info != nullptr ? info->name() : "store"));
    TestStore out;
    out.cleanup = [url] { postgres::DropTestDatabase(url); };
    postgres::PgOptions options;
    options.url = url;
    options.pool_size = 16;
    auto db = postgres::OpenPostgres(options);
    if (!db.ok()) {
      out.cleanup();
      return db.status();
    }
    out.store = MakeSqlStore(std::move(*db));
    if (absl::Status s = out.store->Migrate(); !s.ok()) {
      out.store.reset();
      out.cleanup();
      return s;
    }
    return out;
  };
  return f;
}

std::string StoreFactoryName(
    const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

void StoreTestBase::SetUp() {
  const StoreFactory& factory = GetParam();
  if (factory.skip && factory.skip()) {
    GTEST_SKIP() << factory.name << " tests are disabled (TESSERA_SKIP_PG=1)";
  }
  absl::StatusOr<TestStore> opened = factory.open();
  ASSERT_TRUE(opened.ok()) << factory.name << ": " << opened.status();
  test_store_ = std::move(*opened);
}

void StoreTestBase::TearDown() {
  test_store_.store.reset();
  if (test_store_.cleanup) test_store_.cleanup();
  test_store_.cleanup = nullptr;
}

// ------------------------------------------------------------- the suite

// Service tests link this file for the factories without instantiating it.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreConformanceTest);

namespace {

using domain::AccountKind;
using domain::AuditRecord;
using domain::Claim;
using domain::ClaimState;
using domain::LedgerEntry;
using domain::Pool;
using domain::PoolState;
using domain::Project;
using domain::Role;
using domain::Round;
using domain::Session;
using domain::Submission;
using domain::SubmissionState;
using domain::Task;
using domain::User;
using domain::Verdict;
using ::testing::ElementsAre;

// Every stored time has microsecond precision; use one that needs it.
absl::Time T0() {
  return absl::FromUnixSeconds(1'700'000'000) + absl::Microseconds(123'456);
}

User MakeUser(const std::string& name,
              std::vector<Role> roles = {Role::kAnnotator}) {
  User u;
  u.username = name;
  u.password_hash = "$argon2id$not-a-real-hash";
  u.roles = std::move(roles);
  u.created_at = T0();
  return u;
}

Project MakeProject(UserId owner, const std::string& name) {
  Project p;
  p.owner_id = owner;
  p.name = name;
  p.description = "d";
  p.guidelines = "# g";
  p.currency = "CNY";
  p.created_at = T0();
  return p;
}

Pool MakePool(ProjectId project, int overlap,
              PoolState state = PoolState::kOpen,
              std::optional<absl::Time> opens_at = std::nullopt) {
  Pool p;
  p.project_id = project;
  p.name = "pool";
  p.task_type = domain::TaskType::kClassify;
  p.config_json = R"({"labels":["cat","dog"]})";
  p.price = Money{250, "CNY"};
  p.overlap = overlap;
  p.lease_seconds = 600;
  p.max_rounds = 3;
  p.opens_at = opens_at;
  p.state = state;
  p.created_at = T0();
  return p;
}

Task MakeTask(PoolId pool, int open_slots) {
  Task t;
  t.pool_id = pool;
  t.data_json = R"({"text":"hello"})";
  t.open_slots = open_slots;
  t.created_at = T0();
  return t;
}

Claim MakeClaim(TaskId task, PoolId pool, UserId annotator,
                ClaimState state = ClaimState::kActive,
                absl::Time expires_at = T0() + absl::Minutes(10)) {
  Claim c;
  c.task_id = task;
  c.pool_id = pool;
  c.annotator_id = annotator;
  c.state = state;
  c.created_at = T0();
  c.expires_at = expires_at;
  return c;
}

Submission MakeSubmission(const Claim& c, ClaimId claim,
                          SubmissionState state) {
  Submission s;
  s.claim_id = claim;
  s.task_id = c.task_id;
  s.pool_id = c.pool_id;
  s.annotator_id = c.annotator_id;
  s.state = state;
  s.round = 1;
  s.created_at = T0();
  s.updated_at = T0();
  return s;
}

LedgerEntry Entry(AccountId account, int64_t amount,
                  const std::string& currency = "CNY") {
  LedgerEntry e;
  e.account_id = account;
  e.amount = Money{amount, currency};
  e.kind = "test";
  e.memo = "m";
  e.created_at = T0();
  return e;
}

// A requester's project with one open pool of `tasks` tasks and `annotators`
// annotator users named a0, a1, ...
struct World {
  UserId requester;
  std::vector<UserId> annotators;
  ProjectId project;
  PoolId pool;
  std::vector<TaskId> tasks;
};

absl::StatusOr<World> MakeWorld(Store& store, int annotators, int tasks,
                                int overlap) {
  World w;
  TS_RETURN_IF_ERROR(store.Run(TxMode::kWrite, [&](Tx& tx) -> absl::Status {
    w = World{};
    TS_ASSIGN_OR_RETURN(w.requester,
                        tx.InsertUser(MakeUser("req", {Role::kRequester})));
    for (int i = 0; i < annotators; ++i) {
      TS_ASSIGN_OR_RETURN(UserId id,
                          tx.InsertUser(MakeUser(absl::StrCat("a", i))));
      w.annotators.push_back(id);
    }
    TS_ASSIGN_OR_RETURN(w.project,
                        tx.InsertProject(MakeProject(w.requester, "p")));
    TS_ASSIGN_OR_RETURN(w.pool, tx.InsertPool(MakePool(w.project, overlap)));
    for (int i = 0; i < tasks; ++i) {
      TS_ASSIGN_OR_RETURN(TaskId id, tx.InsertTask(MakeTask(w.pool, overlap)));
      w.tasks.push_back(id);
    }
    return absl::OkStatus();
  }));
  return w;
}

TEST_P(StoreConformanceTest, MigrateIsIdempotent) {
  TS_ASSERT_OK(store().Migrate());
  TS_ASSERT_OK_AND_ASSIGN(int version, store().CurrentVersion());
  EXPECT_EQ(version, store().LatestVersion());
  EXPECT_GE(version, 1);
  EXPECT_FALSE(store().backend().empty());
}

TEST_P(StoreConformanceTest, UsersRoundTripAndUsernamesAreUnique) {
  UserId alice;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(
        alice,
        tx.InsertUser(MakeUser("alice", {Role::kRequester, Role::kReviewer})));
    return absl::OkStatus();
  }));
  EXPECT_TRUE(alice.valid());

  absl::Status dup =
      Write([&](Tx& tx) { return tx.InsertUser(MakeUser("alice")).status(); });
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists) << dup;

  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(User u, tx.GetUser(alice));
    EXPECT_EQ(u.username, "alice");
    EXPECT_EQ(u.password_hash, "$argon2id$not-a-real-hash");
    EXPECT_THAT(u.roles, ElementsAre(Role::kRequester, Role::kReviewer));
    EXPECT_EQ(u.created_at, T0());
    TS_ASSIGN_OR_RETURN(auto found, tx.FindUserByName("alice"));
    EXPECT_TRUE(found.has_value() && found->id == alice);
    TS_ASSIGN_OR_RETURN(auto missing, tx.FindUserByName("bob"));
    EXPECT_FALSE(missing.has_value());
    TS_ASSIGN_OR_RETURN(int64_t count, tx.CountUsers());
    EXPECT_EQ(count, 1);
    EXPECT_EQ(tx.GetUser(UserId(alice.value + 100)).status().code(),
              absl::StatusCode::kNotFound);
    return absl::OkStatus();
  }));
}

TEST_P(StoreConformanceTest, SessionsRoundTripAndRevoke) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 1, 0, 1));
  Session s{"abc123", w.annotators[0], T0(), T0() + absl::Hours(24), false};
  TS_ASSERT_OK(Write([&](Tx& tx) { return tx.InsertSession(s); }));
  EXPECT_EQ(Write([&](Tx& tx) { return tx.InsertSession(s); }).code(),
            absl::StatusCode::kAlreadyExists);
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto got, tx.FindSession("abc123"));
    EXPECT_TRUE(got.has_value());
    if (!got) return absl::OkStatus();
    EXPECT_EQ(got->user_id, w.annotators[0]);
    EXPECT_EQ(got->created_at, T0());
    EXPECT_EQ(got->expires_at, T0() + absl::Hours(24));
    EXPECT_FALSE(got->revoked);
    TS_ASSIGN_OR_RETURN(auto none, tx.FindSession("nope"));
    EXPECT_FALSE(none.has_value());
    return absl::OkStatus();
  }));
  TS_ASSERT_OK(Write([&](Tx& tx) { return tx.RevokeSession("abc123"); }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto got, tx.FindSession("abc123"));
    EXPECT_TRUE(got.has_value() && got->revoked);
    return absl::OkStatus();
  }));
}

TEST_P(StoreConformanceTest, ProjectsAndPoolsRoundTrip) {
  UserId owner1, owner2;
  ProjectId p1, p2;
  PoolId pool;
  Pool in = MakePool(ProjectId(), 3, PoolState::kDraft, T0() + absl::Hours(2));
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(owner1,
                        tx.InsertUser(MakeUser("o1", {Role::kRequester})));
    TS_ASSIGN_OR_RETURN(owner2,
                        tx.InsertUser(MakeUser("o2", {Role::kRequester})));
    TS_ASSIGN_OR_RETURN(p1, tx.InsertProject(MakeProject(owner1, "first")));
    TS_ASSIGN_OR_RETURN(p2, tx.InsertProject(MakeProject(owner2, "second")));
    in.project_id = p1;
    in.config_json = R"({"labels":["a"]})";
    in.price = Money{1234, "CNY"};
    in.lease_seconds = 77;
    in.max_rounds = 4;
    TS_ASSIGN_OR_RETURN(pool, tx.InsertPool(in));
    return tx.InsertPool(MakePool(p2, 1)).status();
  }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(Project p, tx.GetProject(p1));
    EXPECT_EQ(p.owner_id, owner1);
    EXPECT_EQ(p.name, "first");
    EXPECT_EQ(p.description, "d");
    EXPECT_EQ(p.guidelines, "# g");
    EXPECT_EQ(p.currency, "CNY");
    EXPECT_EQ(p.created_at, T0());
    TS_ASSIGN_OR_RETURN(auto mine, tx.ListProjects(owner1));
    EXPECT_EQ(mine.size(), 1u);
    TS_ASSIGN_OR_RETURN(auto all, tx.ListProjects(std::nullopt));
    EXPECT_EQ(all.size(), 2u);
    EXPECT_EQ(tx.GetProject(ProjectId(p2.value + 10)).status().code(),
              absl::StatusCode::kNotFound);

    TS_ASSIGN_OR_RETURN(Pool got, tx.GetPool(pool));
    EXPECT_EQ(got.project_id, p1);
    EXPECT_EQ(got.name, "pool");
    EXPECT_EQ(got.task_type, domain::TaskType::kClassify);
    EXPECT_EQ(got.config_json, R"({"labels":["a"]})");
    EXPECT_EQ(got.price, (Money{1234, "CNY"}));
    EXPECT_EQ(got.overlap, 3);
    EXPECT_EQ(got.lease_seconds, 77);
    EXPECT_EQ(got.max_rounds, 4);
    EXPECT_EQ(got.opens_at, std::optional<absl::Time>(T0() + absl::Hours(2)));
    EXPECT_EQ(got.state, PoolState::kDraft);
    TS_ASSIGN_OR_RETURN(auto of_p1, tx.ListPools(p1));
    EXPECT_EQ(of_p1.size(), 1u);
    TS_ASSIGN_OR_RETURN(auto every, tx.ListPools(std::nullopt));
    EXPECT_EQ(every.size(), 2u);
    EXPECT_EQ(tx.GetPool(PoolId(pool.value + 10)).status().code(),
              absl::StatusCode::kNotFound);
    return absl::OkStatus();
  }));

  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(Pool p, tx.GetPool(pool));
    p.state = PoolState::kOpen;
    p.opens_at.reset();
    p.name = "renamed";  // UpdatePool writes state and opens_at only
    return tx.UpdatePool(p);
  }));
  Pool ghost = MakePool(p1, 1);
  ghost.id = PoolId(pool.value + 10);
  EXPECT_EQ(Write([&](Tx& tx) { return tx.UpdatePool(ghost); }).code(),
            absl::StatusCode::kNotFound);
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(Pool p, tx.GetPool(pool));
    EXPECT_EQ(p.state, PoolState::kOpen);
    EXPECT_FALSE(p.opens_at.has_value());
    EXPECT_EQ(p.name, "pool");
    return absl::OkStatus();
  }));
}

TEST_P(StoreConformanceTest,
       ListDuePoolsReturnsScheduledPoolsWhoseTimeHasCome) {
  std::vector<PoolId> ids;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    ids.clear();
    TS_ASSIGN_OR_RETURN(UserId u,
                        tx.InsertUser(MakeUser("r", {Role::kRequester})));
    TS_ASSIGN_OR_RETURN(ProjectId p, tx.InsertProject(MakeProject(u, "p")));
    const std::vector<Pool> pools = {
        MakePool(p, 1, PoolState::kScheduled, T0() - absl::Seconds(1)),  // due
        MakePool(p, 1, PoolState::kScheduled,
                 T0() + absl::Seconds(1)),                        // later
        MakePool(p, 1, PoolState::kDraft),                        // unscheduled
        MakePool(p, 1, PoolState::kOpen, T0() - absl::Hours(1)),  // open
        MakePool(p, 1, PoolState::kClosed, T0() - absl::Hours(1)),  // closed
        MakePool(p, 1, PoolState::kScheduled, T0()),                // due now
        // A draft never opens by itself, whatever its opens_at says.
        MakePool(p, 1, PoolState::kDraft, T0() - absl::Hours(1)),
    };
    for (const Pool& pool : pools) {
      TS_ASSIGN_OR_RETURN(PoolId id, tx.InsertPool(pool));
      ids.push_back(id);
    }
    return absl::OkStatus();
  }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto due, tx.ListDuePools(T0()));
    EXPECT_THAT(due, ElementsAre(ids[0], ids[5]));
    TS_ASSIGN_OR_RETURN(auto later, tx.ListDuePools(T0() + absl::Seconds(1)));
    EXPECT_THAT(later, ElementsAre(ids[0], ids[1], ids[5]));
    TS_ASSIGN_OR_RETURN(auto early, tx.ListDuePools(T0() - absl::Hours(2)));
    EXPECT_TRUE(early.empty());
    return absl::OkStatus();
  }));
}

TEST_P(StoreConformanceTest, TasksRoundTrip) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 0, 1, 2));
  TaskId with_gold;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    Task t = MakeTask(w.pool, 2);
    t.gold_json = R"({"label":"cat"})";
    TS_ASSIGN_OR_RETURN(with_gold, tx.InsertTask(t));
    return absl::OkStatus();
  }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(Task plain, tx.GetTask(w.tasks[0]));
    EXPECT_EQ(plain.pool_id, w.pool);
    EXPECT_EQ(plain.data_json, R"({"text":"hello"})");
    EXPECT_FALSE(plain.gold_json.has_value());
    EXPECT_EQ(plain.open_slots, 2);
    EXPECT_EQ(plain.created_at, T0());
    TS_ASSIGN_OR_RETURN(Task gold, tx.GetTask(with_gold));
    EXPECT_EQ(gold.gold_json, std::optional<std::string>(R"({"label":"cat"})"));
    EXPECT_EQ(tx.GetTask(TaskId(with_gold.value + 10)).status().code(),
              absl::StatusCode::kNotFound);
    TS_ASSIGN_OR_RETURN(PoolStats stats, tx.GetPoolStats(w.pool));
    EXPECT_EQ(stats.tasks, 2);
    EXPECT_EQ(stats.open_slots, 4);
    return absl::OkStatus();
  }));
}

TEST_P(StoreConformanceTest, InsertTasksKeepsOrderAcrossStatements) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 0, 1, 1));
  // More rows than one multi-row statement holds, with every column set on
  // some of them.
  constexpr int kCount = 600;
  std::vector<Task> tasks;
  for (int i = 0; i < kCount; ++i) {
    Task t = MakeTask(w.pool, 1 + i % 3);
    t.data_json = absl::StrCat(R"({"text":"t)", i, R"("})");
    if (i % 2 == 0) t.gold_json = absl::StrCat(R"({"label":")", i, R"("})");
    if (i % 5 == 0) t.dedupe_key = absl::StrCat("key", i);
    tasks.push_back(std::move(t));
  }
  std::vector<TaskId> ids;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto none, tx.InsertTasks({}));
    EXPECT_TRUE(none.empty());
    TS_ASSIGN_OR_RETURN(ids, tx.InsertTasks(tasks));
    return absl::OkStatus();
  }));
  ASSERT_EQ(ids.size(), static_cast<size_t>(kCount));
  EXPECT_GT(ids.front().value, w.tasks.back().value);
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto page,
                        tx.ListTasks(w.pool, w.tasks.back().value, 2 * kCount));
    EXPECT_EQ(page.size(), static_cast<size_t>(kCount));
    for (size_t i = 0; i < page.size() && i < ids.size(); ++i) {
      EXPECT_EQ(page[i].id, ids[i]);
      EXPECT_EQ(page[i].pool_id, w.pool);
      EXPECT_EQ(page[i].data_json, tasks[i].data_json);
      EXPECT_EQ(page[i].gold_json, tasks[i].gold_json);
      EXPECT_EQ(page[i].open_slots, tasks[i].open_slots);
      EXPECT_EQ(page[i].created_at, tasks[i].created_at);
      EXPECT_EQ(page[i].dedupe_key, tasks[i].dedupe_key);
    }
    TS_ASSIGN_OR_RETURN(PoolStats stats, tx.GetPoolStats(w.pool));
    EXPECT_EQ(stats.tasks, kCount + 1);
    return absl::OkStatus();
  }));
  // A row that breaks a constraint fails the call, and its transaction
  // writes nothing.
  std::vector<Task> bad = {MakeTask(w.pool, 1), MakeTask(PoolId(999999), 1)};
  absl::Status s = Write(
      [&](Tx& tx) -> absl::Status { return tx.InsertTasks(bad).status(); });
  EXPECT_FALSE(s.ok());
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(PoolStats stats, tx.GetPoolStats(w.pool));
    EXPECT_EQ(stats.tasks, kCount + 1);
    return absl::OkStatus();
  }));
}

TEST_P(StoreConformanceTest, TaskPagesDedupeKeysAndPreannotations) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 0, 3, 1));
  TaskId keyed;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    Task t = MakeTask(w.pool, 1);
    t.dedupe_key = "abc123";
    TS_ASSIGN_OR_RETURN(keyed, tx.InsertTask(t));
    domain::Preannotation p;
    p.task_id = w.tasks[1];
    p.pool_id = w.pool;
    p.source = "model";
    p.model = "hog";
    p.version = "1";
    p.result_json = R"({"boxes":[]})";
    p.score = 0.25;
    p.created_at = T0();
    TS_RETURN_IF_ERROR(tx.InsertPreannotation(p).status());
    p.task_id = keyed;
    p.score.reset();
    p.source = "import";
    return tx.InsertPreannotation(p).status();
  }));
  // One draft per task, model and version.
  absl::Status dup = Write([&](Tx& tx) -> absl::Status {
    domain::Preannotation p;
    p.task_id = w.tasks[1];
    p.pool_id = w.pool;
    p.source = "model";
    p.model = "hog";
    p.version = "1";
    p.result_json = "{}";
    p.created_at = T0();
    return tx.InsertPreannotation(p).status();
  });
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists) << dup;
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto page, tx.ListTasks(w.pool, 0, 2));
    EXPECT_EQ(page.size(), 2u);
    EXPECT_EQ(page[0].id, w.tasks[0]);
    TS_ASSIGN_OR_RETURN(auto rest, tx.ListTasks(w.pool, page[1].id.value, 10));
    EXPECT_EQ(rest.size(), 2u);
    EXPECT_EQ(rest[1].id, keyed);
    EXPECT_EQ(rest[1].dedupe_key, std::optional<std::string>("abc123"));
    EXPECT_FALSE(rest[0].dedupe_key.has_value());
    TS_ASSIGN_OR_RETURN(auto keys, tx.ListTaskDedupeKeys(w.pool));
    EXPECT_EQ(keys, std::vector<std::string>{"abc123"});

    TS_ASSIGN_OR_RETURN(auto drafts, tx.ListTaskPreannotations(w.tasks[1]));
    EXPECT_EQ(drafts.size(), 1u);
    EXPECT_EQ(drafts[0].model, "hog");
    EXPECT_EQ(drafts[0].score, std::optional<double>(0.25));
    EXPECT_EQ(drafts[0].result_json, R"({"boxes":[]})");
    TS_ASSIGN_OR_RETURN(auto all,
                        tx.ListPoolPreannotations(w.pool, 0, keyed.value));
    EXPECT_EQ(all.size(), 2u);
    EXPECT_EQ(all[1].task_id, keyed);
    EXPECT_EQ(all[1].source, "import");
    EXPECT_FALSE(all[1].score.has_value());
    TS_ASSIGN_OR_RETURN(auto some, tx.ListPoolPreannotations(
                                       w.pool, w.tasks[1].value, keyed.value));
    EXPECT_EQ(some.size(), 1u);
    TS_ASSIGN_OR_RETURN(auto undrafted, tx.ListTasksWithoutPreannotation(
                                            w.pool, "hog", "1", 0, 10));
    EXPECT_EQ(undrafted.size(), 2u);
    if (undrafted.size() != 2) return absl::OkStatus();
    EXPECT_EQ(undrafted[0].id, w.tasks[0]);
    EXPECT_EQ(undrafted[1].id, w.tasks[2]);
    TS_ASSIGN_OR_RETURN(auto other, tx.ListTasksWithoutPreannotation(
                                        w.pool, "hog", "2", 0, 10));
    EXPECT_EQ(other.size(), 4u);
    return absl::OkStatus();
  }));
}

TEST_P(StoreConformanceTest, FindClaimableTaskOldestFirstNeverTwiceOnlyFree) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 2, 3, 1));
  const UserId a0 = w.annotators[0], a1 = w.annotators[1];
  PoolId other_pool;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(other_pool, tx.InsertPool(MakePool(w.project, 1)));
    return tx.InsertTask(MakeTask(other_pool, 1)).status();
  }));
  // FindClaimableTask locks the row it returns (on PostgreSQL): write mode.
  auto find = [&](PoolId pool, UserId who) -> std::optional<TaskId> {
    std::optional<TaskId> out;
    absl::Status s = Write([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(out, tx.FindClaimableTask(pool, who));
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  };
  EXPECT_EQ(find(w.pool, a0), std::optional<TaskId>(w.tasks[0]));

  // a0 once held task 0 and gave it back: the slot is free again, but never
  // for a0.
  TS_ASSERT_OK(Write([&](Tx& tx) {
    return tx
        .InsertClaim(MakeClaim(w.tasks[0], w.pool, a0, ClaimState::kReleased))
        .status();
  }));
  EXPECT_EQ(find(w.pool, a0), std::optional<TaskId>(w.tasks[1]));
  EXPECT_EQ(find(w.pool, a1), std::optional<TaskId>(w.tasks[0]));

  // A fully taken task is skipped.
  TS_ASSERT_OK(Write([&](Tx& tx) { return tx.AddOpenSlots(w.tasks[0], -1); }));
  EXPECT_EQ(find(w.pool, a1), std::optional<TaskId>(w.tasks[1]));
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_RETURN_IF_ERROR(tx.AddOpenSlots(w.tasks[1], -1));
    return tx.AddOpenSlots(w.tasks[2], -1);
  }));
  EXPECT_EQ(find(w.pool, a1), std::nullopt);
  EXPECT_EQ(find(w.pool, a0), std::nullopt);
  // Other pools are untouched.
  EXPECT_TRUE(find(other_pool, a1).has_value());
}

TEST_P(StoreConformanceTest, AddOpenSlotsNeverGoesBelowZero) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 0, 1, 2));
  const TaskId t = w.tasks[0];
  auto slots = [&] {
    int n = -1;
    absl::Status s = Read([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(Task task, tx.GetTask(t));
      n = task.open_slots;
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return n;
  };
  TS_ASSERT_OK(Write([&](Tx& tx) { return tx.AddOpenSlots(t, -2); }));
  EXPECT_EQ(slots(), 0);
  EXPECT_EQ(Write([&](Tx& tx) { return tx.AddOpenSlots(t, -1); }).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(slots(), 0);
  TS_ASSERT_OK(Write([&](Tx& tx) { return tx.AddOpenSlots(t, +3); }));
  EXPECT_EQ(slots(), 3);
  EXPECT_EQ(Write([&](Tx& tx) { return tx.AddOpenSlots(t, -4); }).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(slots(), 3);
}

TEST_P(StoreConformanceTest, ClaimsAreUniquePerTaskAndOneActivePerPool) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 1, 3, 2));
  const UserId a = w.annotators[0];
  ClaimId c0;
  const Claim first = MakeClaim(w.tasks[0], w.pool, a);
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(c0, tx.InsertClaim(first));
    return absl::OkStatus();
  }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(Claim c, tx.GetClaim(c0));
    EXPECT_EQ(c.task_id, w.tasks[0]);
    EXPECT_EQ(c.pool_id, w.pool);
    EXPECT_EQ(c.annotator_id, a);
    EXPECT_EQ(c.state, ClaimState::kActive);
    EXPECT_EQ(c.created_at, T0());
    EXPECT_EQ(c.expires_at, T0() + absl::Minutes(10));
    TS_ASSIGN_OR_RETURN(auto active, tx.FindActiveClaim(a, w.pool));
    EXPECT_TRUE(active.has_value() && active->id == c0);
    EXPECT_EQ(tx.GetClaim(ClaimId(c0.value + 10)).status().code(),
              absl::StatusCode::kNotFound);
    return absl::OkStatus();
  }));

  // A second active claim in the same pool.
  absl::Status second = Write([&](Tx& tx) {
    return tx.InsertClaim(MakeClaim(w.tasks[1], w.pool, a)).status();
  });
  EXPECT_EQ(second.code(), absl::StatusCode::kAlreadyExists) << second;

  // Once the first is submitted, the next may be taken; the same task never.
  TS_ASSERT_OK(Write([&](Tx& tx) {
    return tx.UpdateClaimState(c0, ClaimState::kActive, ClaimState::kSubmitted);
  }));
  absl::Status again = Write([&](Tx& tx) {
    return tx
        .InsertClaim(MakeClaim(w.tasks[0], w.pool, a, ClaimState::kReleased))
        .status();
  });
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  ClaimId c1, c_other;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(c1, tx.InsertClaim(MakeClaim(w.tasks[1], w.pool, a)));
    // An active claim in another pool is independent.
    TS_ASSIGN_OR_RETURN(PoolId other, tx.InsertPool(MakePool(w.project, 1)));
    TS_ASSIGN_OR_RETURN(TaskId t, tx.InsertTask(MakeTask(other, 1)));
    TS_ASSIGN_OR_RETURN(c_other, tx.InsertClaim(MakeClaim(t, other, a)));
    return absl::OkStatus();
  }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto active, tx.ListActiveClaims(a));
    std::vector<ClaimId> ids;
    for (const Claim& c : active) ids.push_back(c.id);
    EXPECT_THAT(ids, ElementsAre(c1, c_other));
    TS_ASSIGN_OR_RETURN(auto in_pool, tx.FindActiveClaim(a, w.pool));
    EXPECT_TRUE(in_pool.has_value() && in_pool->id == c1);
    TS_ASSIGN_OR_RETURN(PoolStats stats, tx.GetPoolStats(w.pool));
    EXPECT_EQ(stats.active_claims, 1);
    return absl::OkStatus();
  }));
}

TEST_P(StoreConformanceTest, UpdateClaimStateIsCompareAndSet) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 1, 1, 1));
  ClaimId c;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(
        c, tx.InsertClaim(MakeClaim(w.tasks[0], w.pool, w.annotators[0])));
    return absl::OkStatus();
  }));
  auto state = [&] {
    ClaimState s = ClaimState::kActive;
    absl::Status st = Read([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(Claim claim, tx.GetClaim(c));
      s = claim.state;
      return absl::OkStatus();
    });
    EXPECT_TRUE(st.ok()) << st;
    return s;
  };
  EXPECT_EQ(Write([&](Tx& tx) {
              return tx.UpdateClaimState(c, ClaimState::kSubmitted,
                                         ClaimState::kExpired);
            }).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(state(), ClaimState::kActive);
  TS_ASSERT_OK(Write([&](Tx& tx) {
    return tx.UpdateClaimState(c, ClaimState::kActive, ClaimState::kExpired);
  }));
  EXPECT_EQ(state(), ClaimState::kExpired);
  EXPECT_EQ(Write([&](Tx& tx) {
              return tx.UpdateClaimState(c, ClaimState::kActive,
                                         ClaimState::kReleased);
            }).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(state(), ClaimState::kExpired);
}

TEST_P(StoreConformanceTest, ListExpiredClaimsOldestFirstActiveOnly) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 4, 1, 4));
  const TaskId t = w.tasks[0];
  std::vector<ClaimId> c(4);
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(c[0],
                        tx.InsertClaim(MakeClaim(t, w.pool, w.annotators[0],
                                                 ClaimState::kActive,
                                                 T0() + absl::Seconds(10))));
    TS_ASSIGN_OR_RETURN(c[1],
                        tx.InsertClaim(MakeClaim(t, w.pool, w.annotators[1],
                                                 ClaimState::kActive,
                                                 T0() - absl::Seconds(10))));
    TS_ASSIGN_OR_RETURN(c[2],
                        tx.InsertClaim(MakeClaim(t, w.pool, w.annotators[2],
                                                 ClaimState::kActive, T0())));
    TS_ASSIGN_OR_RETURN(c[3],
                        tx.InsertClaim(MakeClaim(t, w.pool, w.annotators[3],
                                                 ClaimState::kReleased,
                                                 T0() - absl::Hours(1))));
    return absl::OkStatus();
  }));
  auto expired = [&](absl::Time now, int limit) {
    std::vector<ClaimId> ids;
    absl::Status s = Write([&](Tx& tx) -> absl::Status {
      ids.clear();
      TS_ASSIGN_OR_RETURN(auto list, tx.ListExpiredClaims(now, limit));
      for (const Claim& claim : list) ids.push_back(claim.id);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return ids;
  };
  EXPECT_THAT(expired(T0(), 10), ElementsAre(c[1], c[2]));
  EXPECT_THAT(expired(T0(), 1), ElementsAre(c[1]));
  EXPECT_THAT(expired(T0() + absl::Minutes(1), 10),
              ElementsAre(c[1], c[2], c[0]));
  EXPECT_TRUE(expired(T0() - absl::Minutes(1), 10).empty());
}

// A nested part that fails, even on a failed statement, is undone alone;
// the transaction goes on and commits the rest.
TEST_P(StoreConformanceTest, NestedUndoesOnlyItsOwnChanges) {
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_RETURN_IF_ERROR(tx.InsertUser(MakeUser("outer")).status());
    absl::Status failed = tx.Nested([](Tx& inner) -> absl::Status {
      TS_RETURN_IF_ERROR(inner.InsertUser(MakeUser("undone")).status());
      return absl::FailedPreconditionError("changed my mind");
    });
    if (!absl::IsFailedPrecondition(failed)) return failed;
    absl::Status duplicate = tx.Nested([](Tx& inner) -> absl::Status {
      TS_RETURN_IF_ERROR(inner.InsertUser(MakeUser("undone-too")).status());
      return inner.InsertUser(MakeUser("outer")).status();
    });
    if (!absl::IsAlreadyExists(duplicate)) {
      return absl::InternalError(
          absl::StrCat("duplicate: ", duplicate.ToString()));
    }
    TS_RETURN_IF_ERROR(tx.Nested(
        [](Tx& inner) { return inner.InsertUser(MakeUser("kept")).status(); }));
    return tx.InsertUser(MakeUser("after")).status();
  }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    for (const char* name : {"outer", "kept", "after"}) {
      TS_ASSIGN_OR_RETURN(auto user, tx.FindUserByName(name));
      EXPECT_TRUE(user.has_value()) << name;
    }
    for (const char* name : {"undone", "undone-too"}) {
      TS_ASSIGN_OR_RETURN(auto user, tx.FindUserByName(name));
      EXPECT_FALSE(user.has_value()) << name;
    }
    return absl::OkStatus();
  }));
}

// Only gold tasks, only this annotator's claims in this pool, any state;
// and the pool's gold tasks, all or above an id.
TEST_P(StoreConformanceTest, ListClaimedGoldTasks) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 2, 2, 1));
  const UserId a = w.annotators[0], b = w.annotators[1];
  TaskId gold1, gold2;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    Task t = MakeTask(w.pool, 1);
    t.gold_json = R"({"label":"cat"})";
    TS_ASSIGN_OR_RETURN(gold1, tx.InsertTask(t));
    TS_ASSIGN_OR_RETURN(gold2, tx.InsertTask(t));
    TS_RETURN_IF_ERROR(
        tx.InsertClaim(MakeClaim(gold1, w.pool, a, ClaimState::kSubmitted))
            .status());
    TS_RETURN_IF_ERROR(
        tx.InsertClaim(MakeClaim(w.tasks[0], w.pool, a, ClaimState::kSubmitted))
            .status());
    return tx.InsertClaim(MakeClaim(gold2, w.pool, b)).status();
  }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto of_a, tx.ListClaimedGoldTasks(a, w.pool));
    EXPECT_THAT(of_a, ElementsAre(gold1));
    TS_ASSIGN_OR_RETURN(auto of_b, tx.ListClaimedGoldTasks(b, w.pool));
    EXPECT_THAT(of_b, ElementsAre(gold2));
    TS_ASSIGN_OR_RETURN(auto elsewhere,
                        tx.ListClaimedGoldTasks(a, PoolId(w.pool.value + 99)));
    EXPECT_TRUE(elsewhere.empty());
    TS_ASSIGN_OR_RETURN(auto gold, tx.ListGoldTaskIds(w.pool, 0));
    EXPECT_THAT(gold, ElementsAre(gold1, gold2));
    TS_ASSIGN_OR_RETURN(auto later, tx.ListGoldTaskIds(w.pool, gold1.value));
    EXPECT_THAT(later, ElementsAre(gold2));
    TS_ASSIGN_OR_RETURN(auto none,
                        tx.ListGoldTaskIds(PoolId(w.pool.value + 99), 0));
    EXPECT_TRUE(none.empty());
    return absl::OkStatus();
  }));
}

// Claims count per UTC day (daily caps) and in all (the gold draw), per
// annotator and pool, whatever became of the claim; and per pool, with the
// newcomers' apart (the exploration share).
TEST_P(StoreConformanceTest, CountClaimsSinceCountsByDay) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 2, 4, 1));
  const UserId a = w.annotators[0], b = w.annotators[1];
  const absl::Time midnight =
      absl::FromUnixSeconds(absl::ToUnixSeconds(T0()) / 86400 * 86400);
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    auto claim = [&](TaskId task, UserId who, absl::Time at, ClaimState state,
                     std::string reason = "") {
      Claim c = MakeClaim(task, w.pool, who, state);
      c.created_at = at;
      c.reason_json = std::move(reason);
      return tx.InsertClaim(c).status();
    };
    TS_RETURN_IF_ERROR(
        claim(w.tasks[0], a, midnight - absl::Hours(1), ClaimState::kExpired));
    TS_RETURN_IF_ERROR(claim(w.tasks[1], a, midnight - absl::Hours(30),
                             ClaimState::kSubmitted));
    TS_RETURN_IF_ERROR(claim(w.tasks[2], a, midnight, ClaimState::kReleased));
    TS_RETURN_IF_ERROR(
        claim(w.tasks[3], a, midnight + absl::Hours(23), ClaimState::kActive));
    return claim(w.tasks[0], b, midnight + absl::Hours(2), ClaimState::kActive,
                 R"({"policy":"exploration","tier":"newcomer"})");
  }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(int64_t a_today,
                        tx.CountClaimsSince(a, w.pool, midnight));
    EXPECT_EQ(a_today, 2);
    TS_ASSIGN_OR_RETURN(
        int64_t a_since_yesterday,
        tx.CountClaimsSince(a, w.pool, midnight - absl::Hours(24)));
    EXPECT_EQ(a_since_yesterday, 3);
    TS_ASSIGN_OR_RETURN(int64_t a_ever,
                        tx.CountClaimsSince(a, w.pool, absl::InfinitePast()));
    EXPECT_EQ(a_ever, 4);
    TS_ASSIGN_OR_RETURN(int64_t b_today,
                        tx.CountClaimsSince(b, w.pool, midnight));
    EXPECT_EQ(b_today, 1);
    TS_ASSIGN_OR_RETURN(
        int64_t tomorrow,
        tx.CountClaimsSince(a, w.pool, midnight + absl::Hours(24)));
    EXPECT_EQ(tomorrow, 0);
    TS_ASSIGN_OR_RETURN(int64_t elsewhere,
                        tx.CountClaimsSince(a, PoolId(w.pool.value + 99),
                                            absl::InfinitePast()));
    EXPECT_EQ(elsewhere, 0);
    // The pool's claims today, and those of newcomers.
    TS_ASSIGN_OR_RETURN(auto pool_today,
                        tx.CountPoolClaimsSince(w.pool, midnight));
    EXPECT_EQ(pool_today, std::make_pair(int64_t{3}, int64_t{1}));
    TS_ASSIGN_OR_RETURN(auto pool_ever,
                        tx.CountPoolClaimsSince(w.pool, absl::InfinitePast()));
    EXPECT_EQ(pool_ever, std::make_pair(int64_t{5}, int64_t{1}));
    return absl::OkStatus();
  }));
}

TEST_P(StoreConformanceTest, ClaimReasonIsStoredWithTheClaim) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 2, 2, 1));
  Claim with = MakeClaim(w.tasks[0], w.pool, w.annotators[0]);
  with.reason_json = R"({"policy":"oldest_first"})";
  const Claim without = MakeClaim(w.tasks[1], w.pool, w.annotators[1]);
  ClaimId c_with, c_without;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(c_with, tx.InsertClaim(with));
    TS_ASSIGN_OR_RETURN(c_without, tx.InsertClaim(without));
    return absl::OkStatus();
  }));
  std::vector<store::ClaimRecord> records;
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(records, tx.ListClaimRecords(std::nullopt, w.pool, 10));
    return absl::OkStatus();
  }));
  ASSERT_EQ(records.size(), 2u);  // newest first
  EXPECT_EQ(records[0].claim.id, c_without);
  EXPECT_FALSE(records[0].reason_json.has_value());
  EXPECT_EQ(records[1].claim.id, c_with);
  EXPECT_EQ(records[1].reason_json, with.reason_json);
}

TEST_P(StoreConformanceTest, SubmissionsAndRoundsRoundTrip) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 2, 2, 2));
  const UserId a = w.annotators[0], reviewer = w.annotators[1];
  const Claim claim = MakeClaim(w.tasks[0], w.pool, a, ClaimState::kSubmitted);
  ClaimId cid;
  SubmissionId sid;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(cid, tx.InsertClaim(claim));
    TS_ASSIGN_OR_RETURN(sid, tx.InsertSubmission(MakeSubmission(
                                 claim, cid, SubmissionState::kPendingReview)));
    Round r;
    r.submission_id = sid;
    r.round = 1;
    r.result_json = R"({"label":"cat"})";
    r.active_seconds = 42;
    r.idempotency_key = "key-1";
    r.submitted_at = T0();
    return tx.InsertRound(r);
  }));
  // One submission per claim; one row per (submission, round).
  EXPECT_EQ(Write([&](Tx& tx) {
              return tx
                  .InsertSubmission(MakeSubmission(
                      claim, cid, SubmissionState::kPendingReview))
                  .status();
            }).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Write([&](Tx& tx) {
              Round r;
              r.submission_id = sid;
              r.round = 1;
              r.result_json = "{}";
              r.submitted_at = T0();
              return tx.InsertRound(r);
            }).code(),
            absl::StatusCode::kAlreadyExists);

  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(Submission s, tx.GetSubmission(sid));
    s.state = SubmissionState::kReturned;
    s.reviewer_id = reviewer;
    s.review_expires_at = T0() + absl::Minutes(5);
    s.updated_at = T0() + absl::Seconds(1);
    TS_RETURN_IF_ERROR(tx.UpdateSubmission(s));
    TS_ASSIGN_OR_RETURN(auto rounds, tx.ListRounds(sid));
    if (rounds.size() != 1) return absl::InternalError("expected one round");
    Round r = rounds[0];
    r.verdict = Verdict::kRevise;
    r.reviewer_id = reviewer;
    r.comments_json = R"([{"text":"fix it"}])";
    r.reviewed_at = T0() + absl::Seconds(1);
    TS_RETURN_IF_ERROR(tx.UpdateRound(r));
    Round r2;
    r2.submission_id = sid;
    r2.round = 2;
    r2.result_json = R"({"label":"dog"})";
    r2.submitted_at = T0() + absl::Seconds(2);
    return tx.InsertRound(r2);
  }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(Submission s, tx.GetSubmission(sid));
    EXPECT_EQ(s.claim_id, cid);
    EXPECT_EQ(s.task_id, w.tasks[0]);
    EXPECT_EQ(s.pool_id, w.pool);
    EXPECT_EQ(s.annotator_id, a);
    EXPECT_EQ(s.state, SubmissionState::kReturned);
    EXPECT_EQ(s.reviewer_id, std::optional<UserId>(reviewer));
    EXPECT_EQ(s.review_expires_at,
              std::optional<absl::Time>(T0() + absl::Minutes(5)));
    EXPECT_FALSE(s.first_pass);
    EXPECT_EQ(s.created_at, T0());
    EXPECT_EQ(s.updated_at, T0() + absl::Seconds(1));
    TS_ASSIGN_OR_RETURN(auto by_claim, tx.FindSubmissionByClaim(cid));
    EXPECT_TRUE(by_claim.has_value() && by_claim->id == sid);
    TS_ASSIGN_OR_RETURN(auto none,
                        tx.FindSubmissionByClaim(ClaimId(cid.value + 10)));
    EXPECT_FALSE(none.has_value());
    TS_ASSIGN_OR_RETURN(auto rounds, tx.ListRounds(sid));
    EXPECT_EQ(rounds.size(), 2u);
    if (rounds.size() != 2) return absl::OkStatus();
    EXPECT_EQ(rounds[0].round, 1);
    EXPECT_EQ(rounds[0].result_json, R"({"label":"cat"})");
    EXPECT_EQ(rounds[0].active_seconds, 42);
    EXPECT_EQ(rounds[0].idempotency_key, "key-1");
    EXPECT_EQ(rounds[0].verdict, std::optional<Verdict>(Verdict::kRevise));
    EXPECT_EQ(rounds[0].reviewer_id, std::optional<UserId>(reviewer));
    EXPECT_EQ(rounds[0].comments_json, R"([{"text":"fix it"}])");
    EXPECT_EQ(rounds[0].reviewed_at,
              std::optional<absl::Time>(T0() + absl::Seconds(1)));
    EXPECT_EQ(rounds[1].round, 2);
    EXPECT_FALSE(rounds[1].verdict.has_value());
    EXPECT_FALSE(rounds[1].reviewed_at.has_value());
    EXPECT_EQ(rounds[1].comments_json, "[]");
    return absl::OkStatus();
  }));
  // Updating what does not exist is kNotFound.
  Submission ghost = MakeSubmission(claim, cid, SubmissionState::kAccepted);
  ghost.id = SubmissionId(sid.value + 10);
  EXPECT_EQ(Write([&](Tx& tx) { return tx.UpdateSubmission(ghost); }).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Write([&](Tx& tx) {
              Round r;
              r.submission_id = sid;
              r.round = 7;
              return tx.UpdateRound(r);
            }).code(),
            absl::StatusCode::kNotFound);
}

TEST_P(StoreConformanceTest, ListSubmissionsFiltersAndPages) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 2, 3, 2));
  std::vector<SubmissionId> ids;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    ids.clear();
    // a0 submits tasks 0..2, a1 task 0; a0's task-1 work is accepted.
    std::vector<std::pair<int, int>> work = {{0, 0}, {0, 1}, {0, 2}, {1, 0}};
    for (auto [who, task] : work) {
      Claim c = MakeClaim(w.tasks[task], w.pool, w.annotators[who],
                          ClaimState::kSubmitted);
      TS_ASSIGN_OR_RETURN(ClaimId cid, tx.InsertClaim(c));
      TS_ASSIGN_OR_RETURN(SubmissionId sid,
                          tx.InsertSubmission(MakeSubmission(
                              c, cid,
                              task == 1 ? SubmissionState::kAccepted
                                        : SubmissionState::kPendingReview)));
      ids.push_back(sid);
    }
    return absl::OkStatus();
  }));
  auto list = [&](SubmissionFilter f) {
    std::vector<SubmissionId> out;
    absl::Status s = Read([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(auto subs, tx.ListSubmissions(f));
      for (const Submission& sub : subs) out.push_back(sub.id);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  };
  EXPECT_THAT(list({}), ElementsAre(ids[0], ids[1], ids[2], ids[3]));
  SubmissionFilter mine;
  mine.annotator = w.annotators[0];
  EXPECT_THAT(list(mine), ElementsAre(ids[0], ids[1], ids[2]));
  mine.state = SubmissionState::kAccepted;
  EXPECT_THAT(list(mine), ElementsAre(ids[1]));
  SubmissionFilter page;
  page.pool = w.pool;
  page.limit = 2;
  EXPECT_THAT(list(page), ElementsAre(ids[0], ids[1]));
  page.after_id = ids[1].value;
  EXPECT_THAT(list(page), ElementsAre(ids[2], ids[3]));
  SubmissionFilter elsewhere;
  elsewhere.pool = PoolId(w.pool.value + 10);
  EXPECT_TRUE(list(elsewhere).empty());
  SubmissionFilter on_task;
  on_task.task = w.tasks[0];
  EXPECT_THAT(list(on_task), ElementsAre(ids[0], ids[3]));
  on_task.annotator = w.annotators[1];
  EXPECT_THAT(list(on_task), ElementsAre(ids[3]));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(PoolStats stats, tx.GetPoolStats(w.pool));
    EXPECT_EQ(stats.pending_review, 3);
    EXPECT_EQ(stats.accepted, 1);
    SubmissionFilter a0;
    a0.annotator = w.annotators[0];
    a0.state = SubmissionState::kRejected;  // ignored by CountSubmissions
    TS_ASSIGN_OR_RETURN(SubmissionCounts n, tx.CountSubmissions(a0));
    EXPECT_EQ(n.total, 3);
    EXPECT_EQ(n.pending_review, 2);
    EXPECT_EQ(n.accepted, 1);
    EXPECT_EQ(n.rejected, 0);
    return absl::OkStatus();
  }));
}

TEST_P(StoreConformanceTest, WorkTotalsAndPoolHoursAreGroupedPerPool) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 2, 3, 2));
  const UserId a0 = w.annotators[0], a1 = w.annotators[1];
  const absl::Time hour0 =
      absl::FromUnixSeconds(absl::ToUnixSeconds(T0()) / 3600 * 3600);
  PoolId other;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    // One submission with its rounds: {active seconds, submitted after T0,
    // verdict, reviewed after T0}.
    struct R {
      int64_t seconds;
      absl::Duration at;
      std::optional<domain::Verdict> verdict;
      absl::Duration reviewed;
    };
    auto submit = [&](PoolId pool, TaskId task, UserId who,
                      SubmissionState state, bool first_pass,
                      std::vector<R> rounds) -> absl::Status {
      Claim c = MakeClaim(task, pool, who, ClaimState::kSubmitted);
      TS_ASSIGN_OR_RETURN(ClaimId cid, tx.InsertClaim(c));
      Submission sub = MakeSubmission(c, cid, state);
      sub.round = static_cast<int>(rounds.size());
      sub.first_pass = first_pass;
      TS_ASSIGN_OR_RETURN(SubmissionId sid, tx.InsertSubmission(sub));
      for (size_t i = 0; i < rounds.size(); ++i) {
        Round r;
        r.submission_id = sid;
        r.round = static_cast<int>(i + 1);
        r.result_json = "{}";
        r.active_seconds = rounds[i].seconds;
        r.submitted_at = T0() + rounds[i].at;
        r.verdict = rounds[i].verdict;
        if (r.verdict) {
          r.reviewer_id = w.requester;
          r.reviewed_at = T0() + rounds[i].reviewed;
        }
        r.comments_json = "[]";
        TS_RETURN_IF_ERROR(tx.InsertRound(r));
      }
      return absl::OkStatus();
    };
    const absl::Duration h = absl::Hours(1), zero = absl::ZeroDuration();
    TS_RETURN_IF_ERROR(submit(w.pool, w.tasks[0], a0,
                              SubmissionState::kAccepted, true,
                              {{10, zero, Verdict::kAccept, h}}));
    TS_RETURN_IF_ERROR(submit(w.pool, w.tasks[1], a0,
                              SubmissionState::kAccepted, false,
                              {{20, zero, Verdict::kRevise, h / 2},
                               {30, h, Verdict::kAccept, 2 * h}}));
    TS_RETURN_IF_ERROR(submit(w.pool, w.tasks[2], a0,
                              SubmissionState::kReturned, false,
                              {{5, zero, Verdict::kRevise, h / 2}}));
    TS_RETURN_IF_ERROR(submit(w.pool, w.tasks[0], a1,
                              SubmissionState::kRejected, false,
                              {{7, zero, Verdict::kReject, h / 2}}));
    TS_RETURN_IF_ERROR(submit(w.pool, w.tasks[1], a1,
                              SubmissionState::kAccepted, true,
                              {{0, zero, Verdict::kAccept, h}}));
    // Pending work in another pool counts for a0 there, nowhere else.
    TS_ASSIGN_OR_RETURN(other, tx.InsertPool(MakePool(w.project, 1)));
    TS_ASSIGN_OR_RETURN(TaskId t, tx.InsertTask(MakeTask(other, 1)));
    return submit(other, t, a0, SubmissionState::kPendingReview, false,
                  {{100, zero, std::nullopt, zero}});
  }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto mine, tx.ListAnnotatorWork(a0));
    EXPECT_EQ(mine.size(), 2u);
    if (mine.size() == 2) {
      const WorkTotals& p = mine[0];
      EXPECT_EQ(p.pool_id, w.pool);
      EXPECT_EQ(p.annotator_id, a0);
      EXPECT_EQ(p.submitted, 3);
      EXPECT_EQ(p.accepted, 2);
      EXPECT_EQ(p.returned, 1);
      EXPECT_EQ(p.rejected, 0);
      EXPECT_EQ(p.in_review, 0);
      EXPECT_EQ(p.first_pass_accepted, 1);
      EXPECT_EQ(p.accepted_active_seconds, 60);  // 10 + 20 + 30
      EXPECT_EQ(mine[1].pool_id, other);
      EXPECT_EQ(mine[1].submitted, 1);
      EXPECT_EQ(mine[1].in_review, 1);
      EXPECT_EQ(mine[1].accepted_active_seconds, 0);
    }
    TS_ASSIGN_OR_RETURN(auto none, tx.ListAnnotatorWork(w.requester));
    EXPECT_TRUE(none.empty());
    TS_ASSIGN_OR_RETURN(auto by_pool, tx.ListAcceptedWorkByPool());
    EXPECT_EQ(by_pool.size(), 1u);
    if (by_pool.size() == 1) {
      EXPECT_EQ(by_pool[0].pool_id, w.pool);
      EXPECT_EQ(by_pool[0].accepted, 3);
      EXPECT_EQ(by_pool[0].accepted_active_seconds, 60);
    }
    TS_ASSIGN_OR_RETURN(auto by_annotator,
                        tx.ListAcceptedWorkByAnnotator(w.pool));
    EXPECT_EQ(by_annotator.size(), 2u);
    if (by_annotator.size() == 2) {
      EXPECT_EQ(by_annotator[0].annotator_id, a0);
      EXPECT_EQ(by_annotator[0].accepted, 2);
      EXPECT_EQ(by_annotator[0].accepted_active_seconds, 60);
      EXPECT_EQ(by_annotator[1].annotator_id, a1);
      EXPECT_EQ(by_annotator[1].accepted, 1);
      EXPECT_EQ(by_annotator[1].accepted_active_seconds, 0);
    }
    TS_ASSIGN_OR_RETURN(auto elsewhere, tx.ListAcceptedWorkByAnnotator(other));
    EXPECT_TRUE(elsewhere.empty());

    TS_ASSIGN_OR_RETURN(auto hours, tx.ListPoolHours(w.pool, T0()));
    EXPECT_EQ(hours.size(), 3u);
    if (hours.size() == 3) {
      EXPECT_EQ(hours[0].start, hour0);
      EXPECT_EQ(hours[0].submitted, 5);
      EXPECT_EQ(hours[0].accepted, 0);
      EXPECT_EQ(hours[1].start, hour0 + absl::Hours(1));
      EXPECT_EQ(hours[1].submitted, 1);
      EXPECT_EQ(hours[1].accepted, 2);
      EXPECT_EQ(hours[2].start, hour0 + absl::Hours(2));
      EXPECT_EQ(hours[2].submitted, 0);
      EXPECT_EQ(hours[2].accepted, 1);
    }
    // `since` within an hour includes that whole hour.
    TS_ASSIGN_OR_RETURN(auto later,
                        tx.ListPoolHours(w.pool, T0() + absl::Minutes(70)));
    EXPECT_EQ(later.size(), 2u);
    if (!later.empty()) EXPECT_EQ(later[0].start, hour0 + absl::Hours(1));
    TS_ASSIGN_OR_RETURN(auto future,
                        tx.ListPoolHours(w.pool, T0() + absl::Hours(3)));
    EXPECT_TRUE(future.empty());
    return absl::OkStatus();
  }));
}

TEST_P(StoreConformanceTest,
       FindReviewableSubmissionNeverOwnWorkAndReleasesLapsedLeases) {
  // Users: a0, a1 annotate; a2 reviews but also annotates.
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 3, 5, 3));
  const UserId a0 = w.annotators[0], a1 = w.annotators[1],
               reviewer = w.annotators[2];
  PoolId other_pool;
  std::vector<SubmissionId> s(5);
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    auto submit = [&](int task, UserId who,
                      SubmissionState state) -> absl::StatusOr<SubmissionId> {
      Claim c = MakeClaim(w.tasks[task], w.pool, who, ClaimState::kSubmitted);
      TS_ASSIGN_OR_RETURN(ClaimId cid, tx.InsertClaim(c));
      Submission sub = MakeSubmission(c, cid, state);
      if (state == SubmissionState::kInReview) {
        sub.reviewer_id = a1;
        sub.review_expires_at = T0() + absl::Seconds(60);
      }
      return tx.InsertSubmission(sub);
    };
    TS_ASSIGN_OR_RETURN(s[0],
                        submit(0, reviewer, SubmissionState::kPendingReview));
    TS_ASSIGN_OR_RETURN(s[1], submit(1, a1, SubmissionState::kReturned));
    TS_ASSIGN_OR_RETURN(s[2], submit(2, a0, SubmissionState::kInReview));
    TS_ASSIGN_OR_RETURN(s[3], submit(3, a0, SubmissionState::kPendingReview));
    TS_ASSIGN_OR_RETURN(s[4], submit(4, a0, SubmissionState::kAccepted));
    // A pending submission in another pool is never offered for this one.
    TS_ASSIGN_OR_RETURN(other_pool, tx.InsertPool(MakePool(w.project, 1)));
    TS_ASSIGN_OR_RETURN(TaskId t, tx.InsertTask(MakeTask(other_pool, 1)));
    Claim c = MakeClaim(t, other_pool, a0, ClaimState::kSubmitted);
    TS_ASSIGN_OR_RETURN(ClaimId cid, tx.InsertClaim(c));
    return tx
        .InsertSubmission(
            MakeSubmission(c, cid, SubmissionState::kPendingReview))
        .status();
  }));
  auto find = [&](UserId who, absl::Time now) -> std::optional<SubmissionId> {
    std::optional<SubmissionId> out;
    absl::Status st = Write([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(out, tx.FindReviewableSubmission(w.pool, who, now));
      return absl::OkStatus();
    });
    EXPECT_TRUE(st.ok()) << st;
    return out;
  };
  // The oldest waiting one is the reviewer's own: skipped.
  EXPECT_EQ(find(reviewer, T0()), std::optional<SubmissionId>(s[3]));
  EXPECT_EQ(find(a1, T0()), std::optional<SubmissionId>(s[0]));
  // a0 wrote everything but s[0].
  EXPECT_EQ(find(a0, T0()), std::optional<SubmissionId>(s[0]));

  // Take s[0] and s[3] out of the queue: with s[2]'s lease live nothing is
  // left for the reviewer; once it lapses, s[2] comes back.
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    for (SubmissionId id : {s[0], s[3]}) {
      TS_ASSIGN_OR_RETURN(Submission sub, tx.GetSubmission(id));
      sub.state = SubmissionState::kInReview;
      sub.reviewer_id = a1;
      sub.review_expires_at = T0() + absl::Hours(1);
      TS_RETURN_IF_ERROR(tx.UpdateSubmission(sub));
    }
    return absl::OkStatus();
  }));
  EXPECT_EQ(find(reviewer, T0()), std::nullopt);
  EXPECT_EQ(find(reviewer, T0() + absl::Seconds(59)), std::nullopt);
  EXPECT_EQ(find(reviewer, T0() + absl::Seconds(60)),
            std::optional<SubmissionId>(s[2]));
  EXPECT_EQ(find(reviewer, T0() + absl::Hours(2)),
            std::optional<SubmissionId>(s[2]));
  EXPECT_EQ(find(a0, T0() + absl::Hours(2)), std::optional<SubmissionId>(s[0]));
}

TEST_P(StoreConformanceTest, LedgerKeepsJournalsBalanced) {
  AccountId funding, project, annotator, project_usd;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(funding,
                        tx.EnsureAccount(AccountKind::kFunding, 1, "CNY"));
    TS_ASSIGN_OR_RETURN(project,
                        tx.EnsureAccount(AccountKind::kProject, 1, "CNY"));
    TS_ASSIGN_OR_RETURN(annotator,
                        tx.EnsureAccount(AccountKind::kAnnotator, 1, "CNY"));
    TS_ASSIGN_OR_RETURN(project_usd,
                        tx.EnsureAccount(AccountKind::kProject, 1, "USD"));
    TS_ASSIGN_OR_RETURN(AccountId again,
                        tx.EnsureAccount(AccountKind::kProject, 1, "CNY"));
    EXPECT_EQ(again, project);
    return absl::OkStatus();
  }));
  EXPECT_EQ(
      std::set<AccountId>({funding, project, annotator, project_usd}).size(),
      4u);
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto found,
                        tx.FindAccount(AccountKind::kProject, 1, "CNY"));
    EXPECT_EQ(found, std::optional<AccountId>(project));
    TS_ASSIGN_OR_RETURN(auto none,
                        tx.FindAccount(AccountKind::kAnnotator, 2, "CNY"));
    EXPECT_FALSE(none.has_value());
    return absl::OkStatus();
  }));

  auto journal = [&](std::vector<LedgerEntry> entries) {
    return Write([&](Tx& tx) { return tx.InsertJournal(entries).status(); });
  };
  EXPECT_EQ(journal({}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(journal({Entry(funding, -100), Entry(project, 99)}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      journal({Entry(funding, -100, "CNY"), Entry(project_usd, 100, "USD")})
          .code(),
      absl::StatusCode::kInvalidArgument);
  TS_ASSERT_OK(journal({Entry(funding, -1000), Entry(project, 1000)}));
  TS_ASSERT_OK(journal({Entry(project, -250), Entry(annotator, 250)}));
  TS_ASSERT_OK(journal(
      {Entry(project, -100), Entry(annotator, 60), Entry(annotator, 40)}));

  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(int64_t f, tx.Balance(funding));
    TS_ASSIGN_OR_RETURN(int64_t p, tx.Balance(project));
    TS_ASSIGN_OR_RETURN(int64_t a, tx.Balance(annotator));
    TS_ASSIGN_OR_RETURN(int64_t usd, tx.Balance(project_usd));
    EXPECT_EQ(f, -1000);
    EXPECT_EQ(p, 650);
    EXPECT_EQ(a, 350);
    EXPECT_EQ(usd, 0);
    TS_ASSIGN_OR_RETURN(int64_t sum, tx.SumAllEntries());
    EXPECT_EQ(sum, 0);
    TS_ASSIGN_OR_RETURN(auto entries, tx.ListEntries(annotator, 10));
    EXPECT_EQ(entries.size(), 3u);
    if (entries.size() != 3) return absl::OkStatus();
    // Newest first; the last two share a journal.
    EXPECT_EQ(entries[0].amount, (Money{40, "CNY"}));
    EXPECT_EQ(entries[1].amount, (Money{60, "CNY"}));
    EXPECT_EQ(entries[2].amount, (Money{250, "CNY"}));
    EXPECT_EQ(entries[0].journal_id, entries[1].journal_id);
    EXPECT_NE(entries[1].journal_id, entries[2].journal_id);
    EXPECT_GT(entries[0].id, entries[1].id);
    EXPECT_EQ(entries[2].account_id, annotator);
    EXPECT_EQ(entries[2].kind, "test");
    EXPECT_EQ(entries[2].memo, "m");
    EXPECT_EQ(entries[2].created_at, T0());
    EXPECT_FALSE(entries[2].submission_id.has_value());
    TS_ASSIGN_OR_RETURN(auto limited, tx.ListEntries(annotator, 1));
    EXPECT_EQ(limited.size(), 1u);
    return absl::OkStatus();
  }));
}

// Waits until `flag` is set or `limit` has passed (the two-transaction
// race tests: on SQLite the other side may never get there while this one
// holds the writer).
void WaitFor(const std::atomic<bool>& flag, absl::Duration limit) {
  const absl::Time end = absl::Now() + limit;
  while (!flag.load() && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(1));
  }
}

// Two transactions creating the same account at once (the first two accepts
// paying one annotator): both get the one account. The first holds its new
// row uncommitted while the second starts.
TEST_P(StoreConformanceTest, RacingEnsureAccountGetsOneAccount) {
  std::atomic<bool> first_inserted{false}, second_started{false};
  std::optional<AccountId> first, second;
  absl::Status second_status;
  std::thread other([&] {
    WaitFor(first_inserted, absl::Seconds(10));
    second_started = true;
    second_status = Write([&](Tx& tx) -> absl::Status {
      TS_ASSIGN_OR_RETURN(second,
                          tx.EnsureAccount(AccountKind::kAnnotator, 7, "CNY"));
      return absl::OkStatus();
    });
  });
  TS_EXPECT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(first,
                        tx.EnsureAccount(AccountKind::kAnnotator, 7, "CNY"));
    first_inserted = true;
    WaitFor(second_started, absl::Seconds(5));
    absl::SleepFor(absl::Milliseconds(100));  // the second reaches its insert
    return absl::OkStatus();
  }));
  other.join();
  TS_EXPECT_OK(second_status);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(second, first);
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto accounts,
                        tx.ListAccounts(AccountKind::kAnnotator, 7));
    EXPECT_EQ(accounts.size(), 1u);
    return absl::OkStatus();
  }));
}

// Two debits racing for a budget that pays for one, each checking the
// balance it locked before writing its journal (as an accept pays): one goes
// through, the other sees what is left, and the budget never goes below
// zero. The first holds its lock while the second starts; on PostgreSQL the
// second waits in LockBalance (a plain read would see 100 and overspend), on
// SQLite it runs after the first's commit.
TEST_P(StoreConformanceTest, LockedBalanceLetsOneOfTwoRacingDebitsThrough) {
  AccountId funding, project, annotator;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(funding,
                        tx.EnsureAccount(AccountKind::kFunding, 1, "CNY"));
    TS_ASSIGN_OR_RETURN(project,
                        tx.EnsureAccount(AccountKind::kProject, 1, "CNY"));
    TS_ASSIGN_OR_RETURN(annotator,
                        tx.EnsureAccount(AccountKind::kAnnotator, 2, "CNY"));
    return tx.InsertJournal({Entry(funding, -100), Entry(project, 100)})
        .status();
  }));
  std::atomic<bool> first_locked{false}, second_started{false};
  auto debit = [&](Tx& tx, bool first) -> absl::Status {
    TS_ASSIGN_OR_RETURN(int64_t balance, tx.LockBalance(project));
    if (first) {
      first_locked = true;
      WaitFor(second_started, absl::Seconds(5));
      absl::SleepFor(absl::Milliseconds(100));  // the second reaches its lock
    }
    if (balance < 60) return absl::FailedPreconditionError("budget short");
    return tx.InsertJournal({Entry(project, -60), Entry(annotator, 60)})
        .status();
  };
  absl::Status second_status;
  std::thread second([&] {
    WaitFor(first_locked, absl::Seconds(10));
    second_started = true;
    second_status = Write([&](Tx& tx) { return debit(tx, false); });
  });
  const absl::Status first_status =
      Write([&](Tx& tx) { return debit(tx, true); });
  second.join();
  TS_EXPECT_OK(first_status);
  EXPECT_EQ(second_status.code(), absl::StatusCode::kFailedPrecondition)
      << second_status;
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(int64_t p, tx.Balance(project));
    TS_ASSIGN_OR_RETURN(int64_t a, tx.Balance(annotator));
    EXPECT_EQ(p, 40);
    EXPECT_EQ(a, 60);
    TS_ASSIGN_OR_RETURN(int64_t sum, tx.SumAllEntries());
    EXPECT_EQ(sum, 0);
    return absl::OkStatus();
  }));
}

TEST_P(StoreConformanceTest, AuditRoundTrip) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 1, 0, 1));
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    AuditRecord a;
    a.actor = w.annotators[0];
    a.action = "claim.create";
    a.entity = "claim";
    a.entity_id = 7;
    a.after_json = R"({"task_id":1})";
    a.at = T0();
    TS_RETURN_IF_ERROR(tx.InsertAudit(a));
    AuditRecord b;  // by the system
    b.action = "claim.expire";
    b.entity = "claim";
    b.entity_id = 7;
    b.before_json = R"({"state":"active"})";
    b.at = T0() + absl::Seconds(1);
    TS_RETURN_IF_ERROR(tx.InsertAudit(b));
    AuditRecord c = a;
    c.entity_id = 8;
    return tx.InsertAudit(c);
  }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto rows, tx.ListAudit("claim", 7));
    EXPECT_EQ(rows.size(), 2u);
    if (rows.size() != 2) return absl::OkStatus();
    EXPECT_EQ(rows[0].actor, std::optional<UserId>(w.annotators[0]));
    EXPECT_EQ(rows[0].action, "claim.create");
    EXPECT_EQ(rows[0].before_json, "null");
    EXPECT_EQ(rows[0].after_json, R"({"task_id":1})");
    EXPECT_EQ(rows[0].at, T0());
    EXPECT_FALSE(rows[1].actor.has_value());
    EXPECT_EQ(rows[1].action, "claim.expire");
    EXPECT_EQ(rows[1].before_json, R"({"state":"active"})");
    TS_ASSIGN_OR_RETURN(auto none, tx.ListAudit("submission", 7));
    EXPECT_TRUE(none.empty());
    return absl::OkStatus();
  }));
}

TEST_P(StoreConformanceTest, FailingTransactionChangesNothing) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 1, 1, 1));
  int runs = 0;
  absl::Status failed = Write([&](Tx& tx) -> absl::Status {
    ++runs;
    TS_RETURN_IF_ERROR(tx.InsertUser(MakeUser("ghost")).status());
    TS_RETURN_IF_ERROR(tx.AddOpenSlots(w.tasks[0], -1));
    TS_RETURN_IF_ERROR(
        tx.InsertClaim(MakeClaim(w.tasks[0], w.pool, w.annotators[0]))
            .status());
    TS_ASSIGN_OR_RETURN(AccountId a,
                        tx.EnsureAccount(AccountKind::kFunding, 9, "CNY"));
    TS_ASSIGN_OR_RETURN(AccountId b,
                        tx.EnsureAccount(AccountKind::kProject, 9, "CNY"));
    TS_RETURN_IF_ERROR(tx.InsertJournal({Entry(a, -5), Entry(b, 5)}).status());
    AuditRecord rec;
    rec.action = "x";
    rec.entity = "ghost";
    rec.entity_id = 1;
    rec.at = T0();
    TS_RETURN_IF_ERROR(tx.InsertAudit(rec));
    return absl::DataLossError("the use case changed its mind");
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kDataLoss) << failed;
  EXPECT_EQ(runs, 1);

  // A constraint violation after a good write: the good write goes too.
  absl::Status dup = Write([&](Tx& tx) -> absl::Status {
    TS_RETURN_IF_ERROR(tx.InsertUser(MakeUser("carol")).status());
    return tx.InsertUser(MakeUser("a0")).status();
  });
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists) << dup;

  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(int64_t users, tx.CountUsers());
    EXPECT_EQ(users, 2);  // req and a0
    TS_ASSIGN_OR_RETURN(auto ghost, tx.FindUserByName("ghost"));
    EXPECT_FALSE(ghost.has_value());
    TS_ASSIGN_OR_RETURN(auto carol, tx.FindUserByName("carol"));
    EXPECT_FALSE(carol.has_value());
    TS_ASSIGN_OR_RETURN(Task t, tx.GetTask(w.tasks[0]));
    EXPECT_EQ(t.open_slots, 1);
    TS_ASSIGN_OR_RETURN(auto active,
                        tx.FindActiveClaim(w.annotators[0], w.pool));
    EXPECT_FALSE(active.has_value());
    TS_ASSIGN_OR_RETURN(auto account,
                        tx.FindAccount(AccountKind::kFunding, 9, "CNY"));
    EXPECT_FALSE(account.has_value());
    TS_ASSIGN_OR_RETURN(int64_t sum, tx.SumAllEntries());
    EXPECT_EQ(sum, 0);
    TS_ASSIGN_OR_RETURN(auto audit, tx.ListAudit("ghost", 1));
    EXPECT_TRUE(audit.empty());
    return absl::OkStatus();
  }));
}

// Failing transactions next to succeeding ones (on SQLite they share group
// commits): every success is kept, every failure leaves nothing.
TEST_P(StoreConformanceTest, FailuresDoNotDisturbConcurrentSuccesses) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const bool fail = (i + t) % 2 == 1;
        absl::Status s = Write([&](Tx& tx) -> absl::Status {
          TS_RETURN_IF_ERROR(
              tx.InsertUser(
                    MakeUser(absl::StrCat(fail ? "bad" : "good", t, "_", i)))
                  .status());
          if (fail) return absl::CancelledError("rolled back on purpose");
          return absl::OkStatus();
        });
        if (s.ok() == fail) unexpected.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(unexpected.load(), 0);
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    for (int t = 0; t < kThreads; ++t) {
      for (int i = 0; i < kPerThread; ++i) {
        const bool fail = (i + t) % 2 == 1;
        TS_ASSIGN_OR_RETURN(auto u, tx.FindUserByName(absl::StrCat(
                                        fail ? "bad" : "good", t, "_", i)));
        EXPECT_EQ(u.has_value(), !fail) << t << "_" << i;
      }
    }
    TS_ASSIGN_OR_RETURN(int64_t users, tx.CountUsers());
    EXPECT_EQ(users, kThreads * kPerThread / 2);
    return absl::OkStatus();
  }));
}

// Many annotators claiming from one hot pool at once, as Service::Claim does:
// each task ends with exactly `overlap` claims, never two by one annotator.
TEST_P(StoreConformanceTest, ConcurrentClaimsFillEveryTaskExactlyOverlapTimes) {
  constexpr int kThreads = 8;
  constexpr int kTasks = 100;
  constexpr int kOverlap = 2;
  TS_ASSERT_OK_AND_ASSIGN(World w,
                          MakeWorld(store(), kThreads, kTasks, kOverlap));
  std::vector<std::vector<ClaimId>> claimed(kThreads);
  std::vector<absl::Status> errors(kThreads);
  std::atomic<int> retries{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const UserId me = w.annotators[t];
      for (int attempt = 0; attempt < 10'000; ++attempt) {
        std::optional<ClaimId> got;
        bool done = false;
        absl::Status s = Write([&](Tx& tx) -> absl::Status {
          got.reset();
          done = false;
          TS_ASSIGN_OR_RETURN(auto task, tx.FindClaimableTask(w.pool, me));
          if (!task) {
            done = true;
            return absl::OkStatus();
          }
          TS_RETURN_IF_ERROR(tx.AddOpenSlots(*task, -1));
          TS_ASSIGN_OR_RETURN(ClaimId id,
                              tx.InsertClaim(MakeClaim(*task, w.pool, me)));
          // Hand the work in so the next claim in this pool is allowed.
          TS_RETURN_IF_ERROR(tx.UpdateClaimState(id, ClaimState::kActive,
                                                 ClaimState::kSubmitted));
          got = id;
          return absl::OkStatus();
        });
        if (s.code() == absl::StatusCode::kAborted ||
            s.code() == absl::StatusCode::kAlreadyExists) {
          retries.fetch_add(1);
          continue;
        }
        if (!s.ok()) {
          errors[t] = s;
          return;
        }
        if (done) return;
        claimed[t].push_back(*got);
      }
      errors[t] = absl::DeadlineExceededError("too many attempts");
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_TRUE(errors[t].ok()) << errors[t];

  std::map<int64_t, std::set<int64_t>> annotators_by_task;
  int total = 0;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    annotators_by_task.clear();
    total = 0;
    for (int t = 0; t < kThreads; ++t) {
      for (ClaimId id : claimed[t]) {
        TS_ASSIGN_OR_RETURN(Claim c, tx.GetClaim(id));
        EXPECT_EQ(c.annotator_id, w.annotators[t]);
        EXPECT_TRUE(annotators_by_task[c.task_id.value]
                        .insert(c.annotator_id.value)
                        .second)
            << "annotator " << c.annotator_id.value << " claimed task "
            << c.task_id.value << " twice";
        ++total;
      }
    }
    for (TaskId id : w.tasks) {
      TS_ASSIGN_OR_RETURN(Task task, tx.GetTask(id));
      EXPECT_EQ(task.open_slots, 0) << "task " << id.value;
      EXPECT_EQ(annotators_by_task[id.value].size(), size_t{kOverlap})
          << "task " << id.value;
    }
    TS_ASSIGN_OR_RETURN(PoolStats stats, tx.GetPoolStats(w.pool));
    EXPECT_EQ(stats.open_slots, 0);
    EXPECT_EQ(stats.active_claims, 0);
    // Nothing is left for anyone, not even a newcomer.
    TS_ASSIGN_OR_RETURN(auto left, tx.FindClaimableTask(w.pool, w.requester));
    EXPECT_FALSE(left.has_value());
    return absl::OkStatus();
  }));
  EXPECT_EQ(total, kTasks * kOverlap);
  EXPECT_EQ(annotators_by_task.size(), size_t{kTasks});
}

// A body staged in parts reads back whole; a snapshot naming missing
// parts is refused; parts no snapshot names can be deleted, used ones not.
TEST_P(StoreConformanceTest, QualitySnapshotBodyInParts) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 0, 0, 1));
  const std::vector<std::string> parts = {
      R"({"tasks":[{"text":"caf)", "\u00e9\u2713\"}],", R"("annotators":[]})"};
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    for (int seq = 2; seq >= 0; --seq) {  // any order
      TS_RETURN_IF_ERROR(
          tx.StageQualitySnapshotPart(w.pool, "tok-1", seq, parts[seq], T0()));
    }
    TS_RETURN_IF_ERROR(tx.StageQualitySnapshotPart(w.pool, "orphan", 0, "{}",
                                                   T0() - absl::Hours(2)));
    return tx.StageQualitySnapshotPart(w.pool, "gap", 1, "{}", T0());
  }));
  EXPECT_EQ(Write([&](Tx& tx) {
              return tx.StageQualitySnapshotPart(w.pool, "tok-1", 1, "x", T0());
            }).code(),
            absl::StatusCode::kAlreadyExists);
  QualitySnapshot q;
  q.pool_id = w.pool;
  q.version = 1;
  q.created_at = T0();
  q.method = "majority_vote";
  q.parts_token = "gap";  // only part 1 exists
  EXPECT_EQ(Write([&](Tx& tx) {
              return tx.InsertQualitySnapshot(q).status();
            }).code(),
            absl::StatusCode::kFailedPrecondition);
  q.parts_token = "tok-1";
  q.body_json = "ignored: the parts are the body";
  TS_ASSERT_OK(
      Write([&](Tx& tx) { return tx.InsertQualitySnapshot(q).status(); }));

  const std::string whole = parts[0] + parts[1] + parts[2];
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto latest, tx.FindLatestQualitySnapshot(w.pool));
    EXPECT_TRUE(latest.has_value());
    if (latest) {
      EXPECT_EQ(latest->body_json, whole);
      EXPECT_EQ(latest->parts_token, "tok-1");
    }
    TS_ASSIGN_OR_RETURN(auto v1, tx.FindQualitySnapshot(w.pool, 1));
    EXPECT_TRUE(v1.has_value() && v1->body_json == whole);
    TS_ASSIGN_OR_RETURN(auto head, tx.FindLatestQualitySnapshotHead(w.pool));
    EXPECT_TRUE(head.has_value() && head->body_json.empty());
    return absl::OkStatus();
  }));

  // Unused and staged before T0 - 1h: "orphan" only. Then "gap" by token;
  // "tok-1" is named by the snapshot and stays.
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(int64_t old, tx.DeleteUnusedSnapshotParts(
                                         w.pool, T0() - absl::Hours(1)));
    EXPECT_EQ(old, 1);
    TS_ASSIGN_OR_RETURN(int64_t gap, tx.DeleteUnusedSnapshotParts(
                                         w.pool, T0(), std::string("gap")));
    EXPECT_EQ(gap, 1);
    TS_ASSIGN_OR_RETURN(
        int64_t used, tx.DeleteUnusedSnapshotParts(
                          w.pool, T0() + absl::Hours(1), std::string("tok-1")));
    EXPECT_EQ(used, 0);
    TS_ASSIGN_OR_RETURN(int64_t rest, tx.DeleteUnusedSnapshotParts(
                                          w.pool, T0() + absl::Hours(1)));
    EXPECT_EQ(rest, 0);
    return absl::OkStatus();
  }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto v1, tx.FindQualitySnapshot(w.pool, 1));
    EXPECT_TRUE(v1.has_value() && v1->body_json == whole);
    return absl::OkStatus();
  }));
}

// Pruning keeps a pool's newest versions and deletes the older ones with
// their parts; parts still being staged and other pools are not touched.
TEST_P(StoreConformanceTest, OldQualitySnapshotsAreDeletedWithTheirParts) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 0, 0, 1));
  PoolId other;
  auto snapshot = [](PoolId pool, int version, std::string token) {
    QualitySnapshot q;
    q.pool_id = pool;
    q.version = version;
    q.created_at = T0() + absl::Minutes(version);
    q.method = "majority_vote";
    q.body_json = token.empty() ? absl::StrCat(R"({"v":)", version, "}") : "";
    q.parts_token = std::move(token);
    return q;
  };
  // v1 and v4 inline, v2 and v3 in two parts each; "staging" names no
  // snapshot yet (a writer between staging and inserting).
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(other, tx.InsertPool(MakePool(w.project, 1)));
    for (const char* token : {"t2", "t3", "staging"}) {
      for (int seq = 0; seq < 2; ++seq) {
        TS_RETURN_IF_ERROR(tx.StageQualitySnapshotPart(
            w.pool, token, seq, seq == 0 ? "{\"v\":" : "0}", T0()));
      }
    }
    for (int v = 1; v <= 4; ++v) {
      std::string token = v == 2 || v == 3 ? absl::StrCat("t", v) : "";
      TS_RETURN_IF_ERROR(
          tx.InsertQualitySnapshot(snapshot(w.pool, v, token)).status());
    }
    for (int v = 1; v <= 2; ++v) {
      TS_RETURN_IF_ERROR(
          tx.InsertQualitySnapshot(snapshot(other, v, "")).status());
    }
    return absl::OkStatus();
  }));
  EXPECT_EQ(Write([&](Tx& tx) {
              return tx.DeleteOldQualitySnapshots(w.pool, 0).status();
            }).code(),
            absl::StatusCode::kInvalidArgument);

  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(int64_t none, tx.DeleteOldQualitySnapshots(w.pool, 4));
    EXPECT_EQ(none, 0);
    TS_ASSIGN_OR_RETURN(int64_t two, tx.DeleteOldQualitySnapshots(w.pool, 2));
    EXPECT_EQ(two, 2);
    TS_ASSIGN_OR_RETURN(int64_t again, tx.DeleteOldQualitySnapshots(w.pool, 2));
    EXPECT_EQ(again, 0);
    return absl::OkStatus();
  }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    for (int v = 1; v <= 4; ++v) {
      TS_ASSIGN_OR_RETURN(auto q, tx.FindQualitySnapshot(w.pool, v));
      EXPECT_EQ(q.has_value(), v >= 3) << "version " << v;
    }
    TS_ASSIGN_OR_RETURN(auto v3, tx.FindQualitySnapshot(w.pool, 3));
    EXPECT_TRUE(v3.has_value() && v3->body_json == "{\"v\":0}");
    TS_ASSIGN_OR_RETURN(auto latest, tx.FindLatestQualitySnapshot(w.pool));
    EXPECT_TRUE(latest.has_value() && latest->version == 4);
    TS_ASSIGN_OR_RETURN(auto kept, tx.FindQualitySnapshot(other, 1));
    EXPECT_TRUE(kept.has_value());
    return absl::OkStatus();
  }));
  // v2's parts went with it: none is left unnamed but the staging ones.
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(int64_t t2, tx.DeleteUnusedSnapshotParts(
                                        w.pool, T0(), std::string("t2")));
    EXPECT_EQ(t2, 0);
    TS_ASSIGN_OR_RETURN(int64_t unused, tx.DeleteUnusedSnapshotParts(
                                            w.pool, T0() + absl::Hours(1)));
    EXPECT_EQ(unused, 2);  // "staging", seq 0 and 1
    return absl::OkStatus();
  }));
}

TEST_P(StoreConformanceTest, QualitySnapshotsAndTheirInputs) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 3, 2, 3));
  PoolId empty_pool;
  // a0: task 0, round 1; a1: task 0, rejected; a2: task 0, revised to round
  // 2; a0: task 1, accepted.
  std::vector<SubmissionId> sids;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    sids.clear();
    TS_ASSIGN_OR_RETURN(empty_pool, tx.InsertPool(MakePool(w.project, 1)));
    struct Work {
      int who, task;
      SubmissionState state;
      std::vector<std::string> rounds;
    };
    const std::vector<Work> work = {
        {0, 0, SubmissionState::kPendingReview, {R"({"label":"cat"})"}},
        {1, 0, SubmissionState::kRejected, {R"({"label":"dog"})"}},
        {2,
         0,
         SubmissionState::kPendingReview,
         {R"({"label":"cat"})", R"({"label":"dog"})"}},
        {0, 1, SubmissionState::kAccepted, {R"({"label":"dog"})"}},
    };
    for (const Work& k : work) {
      Claim c = MakeClaim(w.tasks[k.task], w.pool, w.annotators[k.who],
                          ClaimState::kSubmitted);
      TS_ASSIGN_OR_RETURN(ClaimId cid, tx.InsertClaim(c));
      Submission s = MakeSubmission(c, cid, k.state);
      s.round = static_cast<int>(k.rounds.size());
      TS_ASSIGN_OR_RETURN(SubmissionId sid, tx.InsertSubmission(s));
      for (size_t r = 0; r < k.rounds.size(); ++r) {
        Round round;
        round.submission_id = sid;
        round.round = static_cast<int>(r + 1);
        round.result_json = k.rounds[r];
        round.submitted_at = T0();
        TS_RETURN_IF_ERROR(tx.InsertRound(round));
      }
      sids.push_back(sid);
    }
    return absl::OkStatus();
  }));

  PoolInputMark mark;
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto results, tx.ListPoolResults(w.pool));
    EXPECT_EQ(results.size(), 3u);  // the rejected one is left out
    if (results.size() != 3) return absl::OkStatus();
    EXPECT_EQ(results[0].submission_id, sids[0]);
    EXPECT_EQ(results[0].task_id, w.tasks[0]);
    EXPECT_EQ(results[0].annotator_id, w.annotators[0]);
    EXPECT_EQ(results[0].state, SubmissionState::kPendingReview);
    EXPECT_EQ(results[0].round, 1);
    EXPECT_EQ(results[0].result_json, R"({"label":"cat"})");
    EXPECT_EQ(results[1].submission_id, sids[2]);
    EXPECT_EQ(results[1].round, 2);
    EXPECT_EQ(results[1].result_json, R"({"label":"dog"})");  // latest round
    EXPECT_EQ(results[2].submission_id, sids[3]);
    EXPECT_EQ(results[2].task_id, w.tasks[1]);
    EXPECT_EQ(results[2].state, SubmissionState::kAccepted);
    TS_ASSIGN_OR_RETURN(auto none, tx.ListPoolResults(empty_pool));
    EXPECT_TRUE(none.empty());
    // Exports read accepted work only, by task range.
    TS_ASSIGN_OR_RETURN(auto accepted,
                        tx.ListAcceptedResults(w.pool, 0, w.tasks[1].value));
    EXPECT_EQ(accepted.size(), 1u);
    if (accepted.size() != 1) return absl::OkStatus();
    EXPECT_EQ(accepted[0].submission_id, sids[3]);
    EXPECT_EQ(accepted[0].result_json, R"({"label":"dog"})");
    TS_ASSIGN_OR_RETURN(
        auto before, tx.ListAcceptedResults(w.pool, 0, w.tasks[1].value - 1));
    EXPECT_TRUE(before.empty());

    TS_ASSIGN_OR_RETURN(mark, tx.GetPoolInputMark(w.pool));
    EXPECT_EQ(mark.submissions, 4);
    EXPECT_EQ(mark.max_submission_id, sids[3].value);
    EXPECT_EQ(mark.mark, 1 + 1 + 2 + 1 + 1);  // rounds, plus one rejection
    TS_ASSIGN_OR_RETURN(PoolInputMark zero, tx.GetPoolInputMark(empty_pool));
    EXPECT_EQ(zero.submissions, 0);
    EXPECT_EQ(zero.max_submission_id, 0);
    EXPECT_EQ(zero.mark, 0);

    // Pools without submissions are never stale; ours has no snapshot yet.
    TS_ASSIGN_OR_RETURN(auto stale, tx.ListStalePools(10));
    EXPECT_THAT(stale, ElementsAre(w.pool));
    TS_ASSIGN_OR_RETURN(auto latest, tx.FindLatestQualitySnapshot(w.pool));
    EXPECT_FALSE(latest.has_value());
    return absl::OkStatus();
  }));

  QualitySnapshot v1;
  v1.pool_id = w.pool;
  v1.version = 1;
  v1.created_at = T0();
  v1.submissions_seen = mark.max_submission_id;
  v1.input_mark = mark.mark - 1;  // as if taken before the rejection
  v1.method = "dawid_skene_smoothed";
  v1.body_json = R"({"tasks":[]})";
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(v1.id, tx.InsertQualitySnapshot(v1));
    return absl::OkStatus();
  }));
  EXPECT_GT(v1.id, 0);
  // One row per (pool, version): a second writer of version 1 loses.
  EXPECT_EQ(Write([&](Tx& tx) {
              return tx.InsertQualitySnapshot(v1).status();
            }).code(),
            absl::StatusCode::kAlreadyExists);
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto stale, tx.ListStalePools(10));
    EXPECT_THAT(stale, ElementsAre(w.pool));  // the mark differs
    return absl::OkStatus();
  }));

  QualitySnapshot v2 = v1;
  v2.version = 2;
  v2.created_at = T0() + absl::Seconds(5);
  v2.input_mark = mark.mark;
  v2.body_json = R"({"tasks":[1]})";
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(v2.id, tx.InsertQualitySnapshot(v2));
    // Another pool may use the same version numbers.
    QualitySnapshot other = v1;
    other.pool_id = empty_pool;
    return tx.InsertQualitySnapshot(other).status();
  }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto stale, tx.ListStalePools(10));
    EXPECT_TRUE(stale.empty());  // the latest covers the current inputs
    TS_ASSIGN_OR_RETURN(auto latest, tx.FindLatestQualitySnapshot(w.pool));
    EXPECT_TRUE(latest.has_value());
    if (!latest) return absl::OkStatus();
    EXPECT_EQ(latest->id, v2.id);
    EXPECT_EQ(latest->version, 2);
    EXPECT_EQ(latest->body_json, R"({"tasks":[1]})");
    TS_ASSIGN_OR_RETURN(auto head, tx.FindLatestQualitySnapshotHead(w.pool));
    EXPECT_TRUE(head.has_value());
    if (!head) return absl::OkStatus();
    EXPECT_EQ(head->id, v2.id);
    EXPECT_EQ(head->version, 2);
    EXPECT_EQ(head->submissions_seen, latest->submissions_seen);
    EXPECT_EQ(head->input_mark, latest->input_mark);
    EXPECT_EQ(head->method, latest->method);
    EXPECT_EQ(head->body_json, "");
    TS_ASSIGN_OR_RETURN(auto none, tx.FindLatestQualitySnapshotHead(
                                       PoolId(w.pool.value + 1000)));
    EXPECT_FALSE(none.has_value());
    TS_ASSIGN_OR_RETURN(auto first, tx.FindQualitySnapshot(w.pool, 1));
    EXPECT_TRUE(first.has_value());
    if (!first) return absl::OkStatus();
    EXPECT_EQ(first->id, v1.id);
    EXPECT_EQ(first->pool_id, w.pool);
    EXPECT_EQ(first->created_at, T0());
    EXPECT_EQ(first->submissions_seen, mark.max_submission_id);
    EXPECT_EQ(first->input_mark, mark.mark - 1);
    EXPECT_EQ(first->method, "dawid_skene_smoothed");
    EXPECT_EQ(first->body_json, R"({"tasks":[]})");
    TS_ASSIGN_OR_RETURN(auto missing, tx.FindQualitySnapshot(w.pool, 3));
    EXPECT_FALSE(missing.has_value());
    return absl::OkStatus();
  }));

  // A new submission makes the pool stale again.
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    Claim c =
        MakeClaim(w.tasks[1], w.pool, w.annotators[1], ClaimState::kSubmitted);
    TS_ASSIGN_OR_RETURN(ClaimId cid, tx.InsertClaim(c));
    return tx
        .InsertSubmission(
            MakeSubmission(c, cid, SubmissionState::kPendingReview))
        .status();
  }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto stale, tx.ListStalePools(10));
    EXPECT_THAT(stale, ElementsAre(w.pool));
    TS_ASSIGN_OR_RETURN(auto limited, tx.ListStalePools(0));
    EXPECT_TRUE(limited.empty());
    return absl::OkStatus();
  }));
}

// ---- Workforce: reviewer invitations (issue 6)
TEST_P(StoreConformanceTest, ReviewerInvitationsAndRoles) {
  TS_ASSERT_OK_AND_ASSIGN(World w, MakeWorld(store(), 2, 0, 1));
  const UserId a = w.annotators[0];
  ReviewerInvitationRow inv;
  inv.user_id = a;
  inv.invited_by = w.requester;
  inv.note = "welcome";
  inv.created_at = T0();
  int64_t first = 0, second = 0;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(first, tx.InsertReviewerInvitation(inv));
    return absl::OkStatus();
  }));
  // One pending invitation per user.
  absl::Status dup = Write([&](Tx& tx) -> absl::Status {
    return tx.InsertReviewerInvitation(inv).status();
  });
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists) << dup;
  TS_ASSERT_OK(Write([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(ReviewerInvitationRow got,
                        tx.GetReviewerInvitation(first));
    EXPECT_EQ(got.user_id, a);
    EXPECT_EQ(got.invited_by, w.requester);
    EXPECT_EQ(got.note, "welcome");
    EXPECT_EQ(got.state, "pending");
    EXPECT_EQ(got.created_at, T0());
    EXPECT_FALSE(got.decided_at.has_value());
    got.state = "declined";
    got.decided_at = T0() + absl::Seconds(5);
    TS_RETURN_IF_ERROR(tx.DecideReviewerInvitation(got));
    // Compare-and-set: no longer pending.
    EXPECT_EQ(tx.DecideReviewerInvitation(got).code(),
              absl::StatusCode::kFailedPrecondition);
    // Declined, so a new one may be pending.
    ReviewerInvitationRow again = inv;
    again.created_at = T0() + absl::Seconds(10);
    TS_ASSIGN_OR_RETURN(second, tx.InsertReviewerInvitation(again));
    TS_RETURN_IF_ERROR(
        tx.UpdateUserRoles(a, {Role::kAnnotator, Role::kReviewer}));
    EXPECT_EQ(tx.UpdateUserRoles(UserId(999999), {Role::kReviewer}).code(),
              absl::StatusCode::kNotFound);
    EXPECT_EQ(tx.GetReviewerInvitation(999999).status().code(),
              absl::StatusCode::kNotFound);
    return absl::OkStatus();
  }));
  TS_ASSERT_OK(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto list, tx.ListReviewerInvitations(a));
    EXPECT_EQ(list.size(), 2u);
    if (list.size() != 2) return absl::OkStatus();
    EXPECT_EQ(list[0].id, second);  // newest first
    EXPECT_EQ(list[0].state, "pending");
    EXPECT_EQ(list[1].id, first);
    EXPECT_EQ(list[1].state, "declined");
    EXPECT_EQ(list[1].decided_at,
              std::optional<absl::Time>(T0() + absl::Seconds(5)));
    TS_ASSIGN_OR_RETURN(auto none, tx.ListReviewerInvitations(w.annotators[1]));
    EXPECT_TRUE(none.empty());
    TS_ASSIGN_OR_RETURN(User u, tx.GetUser(a));
    EXPECT_THAT(u.roles, ElementsAre(Role::kAnnotator, Role::kReviewer));
    return absl::OkStatus();
  }));
}
// ---- end Workforce: reviewer invitations

}  // namespace
}  // namespace tessera::store
