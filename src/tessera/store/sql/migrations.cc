// The schema. Times are microseconds since the Unix epoch (UTC); JSON is text.
#include "tessera/store/sql/migrations.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace tessera::store {
namespace {

constexpr const char* kV1 = R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  roles TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE projects (
  id INTEGER PRIMARY KEY,
  owner_id INTEGER NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  guidelines TEXT NOT NULL,
  currency TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX projects_owner ON projects(owner_id);
CREATE TABLE pools (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  name TEXT NOT NULL,
  task_type TEXT NOT NULL,
  config TEXT NOT NULL,
  price_minor INTEGER NOT NULL CHECK (price_minor >= 0),
  currency TEXT NOT NULL,
  overlap INTEGER NOT NULL CHECK (overlap >= 1),
  lease_seconds INTEGER NOT NULL CHECK (lease_seconds >= 1),
  max_rounds INTEGER NOT NULL CHECK (max_rounds >= 1),
  opens_at INTEGER,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX pools_project ON pools(project_id);
CREATE TABLE tasks (
  id INTEGER PRIMARY KEY,
  pool_id INTEGER NOT NULL REFERENCES pools(id),
  data TEXT NOT NULL,
  gold TEXT,
  open_slots INTEGER NOT NULL CHECK (open_slots >= 0),
  created_at INTEGER NOT NULL
);
CREATE INDEX tasks_pool ON tasks(pool_id, id);
CREATE INDEX tasks_open ON tasks(pool_id, id) WHERE open_slots > 0;
CREATE TABLE claims (
  id INTEGER PRIMARY KEY,
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  pool_id INTEGER NOT NULL REFERENCES pools(id),
  annotator_id INTEGER NOT NULL REFERENCES users(id),
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX claims_task_annotator ON claims(task_id, annotator_id);
CREATE UNIQUE INDEX claims_one_active ON claims(annotator_id, pool_id) WHERE state = 'active';
CREATE INDEX claims_expiry ON claims(expires_at) WHERE state = 'active';
CREATE TABLE submissions (
  id INTEGER PRIMARY KEY,
  claim_id INTEGER NOT NULL UNIQUE REFERENCES claims(id),
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  pool_id INTEGER NOT NULL REFERENCES pools(id),
  annotator_id INTEGER NOT NULL REFERENCES users(id),
  state TEXT NOT NULL,
  round INTEGER NOT NULL,
  reviewer_id INTEGER REFERENCES users(id),
  review_expires_at INTEGER,
  first_pass INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX submissions_pool_state ON submissions(pool_id, state, id);
CREATE INDEX submissions_annotator ON submissions(annotator_id, id);
CREATE TABLE rounds (
  submission_id INTEGER NOT NULL REFERENCES submissions(id),
  round INTEGER NOT NULL,
  result TEXT NOT NULL,
  active_seconds INTEGER NOT NULL,
  idempotency_key TEXT NOT NULL,
  submitted_at INTEGER NOT NULL,
  verdict TEXT,
  reviewer_id INTEGER REFERENCES users(id),
  comments TEXT NOT NULL,
  reviewed_at INTEGER,
  PRIMARY KEY (submission_id, round)
);
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  owner_id INTEGER NOT NULL,
  currency TEXT NOT NULL,
  balance_minor INTEGER NOT NULL DEFAULT 0,
  UNIQUE (kind, owner_id, currency)
);
CREATE TABLE journals (
  id INTEGER PRIMARY KEY,
  created_at INTEGER NOT NULL
);
CREATE TABLE ledger_entries (
  id INTEGER PRIMARY KEY,
  journal_id INTEGER NOT NULL REFERENCES journals(id),
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  amount_minor INTEGER NOT NULL,
  currency TEXT NOT NULL,
  kind TEXT NOT NULL,
  submission_id INTEGER REFERENCES submissions(id),
  memo TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX ledger_account ON ledger_entries(account_id, id);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor_id INTEGER,
  action TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id INTEGER NOT NULL,
  before_json TEXT NOT NULL,
  after_json TEXT NOT NULL
);
CREATE INDEX audit_entity ON audit(entity, entity_id);
)sql";

// Versioned per-pool quality snapshots (truth inference, annotator quality,
// agreement), written by `POST /pools/{id}/aggregate` and the aggregation job.
constexpr const char* kV2 = R"sql(
CREATE TABLE quality_snapshots (
  id INTEGER PRIMARY KEY,
  pool_id INTEGER NOT NULL REFERENCES pools(id),
  version INTEGER NOT NULL CHECK (version >= 1),
  created_at INTEGER NOT NULL,
  submissions_seen INTEGER NOT NULL,
  input_mark INTEGER NOT NULL,
  method TEXT NOT NULL,
  body TEXT NOT NULL,
  UNIQUE (pool_id, version)
);
)sql";

// Finding who worked on a task (image access checks) without a pool scan.
constexpr const char* kV3 = R"sql(
CREATE INDEX submissions_task ON submissions(task_id);
)sql";

// Imports: a data digest per task for dedupe, and model/import drafts.
constexpr const char* kV4 = R"sql(
ALTER TABLE tasks ADD COLUMN dedupe_key TEXT;
CREATE TABLE preannotations (
  id INTEGER PRIMARY KEY,
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  pool_id INTEGER NOT NULL REFERENCES pools(id),
  source TEXT NOT NULL,
  model TEXT NOT NULL,
  version TEXT NOT NULL,
  result TEXT NOT NULL,
  score DOUBLE PRECISION,
  created_at INTEGER NOT NULL,
  UNIQUE (task_id, model, version)
);
CREATE INDEX preannotations_pool ON preannotations(pool_id, task_id);
)sql";

// The workforce loop (issue 6): background and skills, trials, gold checks,
// why each claim went where it did, blocks, standing history, appeals,
// hourly-floor top-ups, guideline flags, and the key that signs work records.
constexpr const char* kV5 = R"sql(
CREATE TABLE profiles (
  user_id INTEGER PRIMARY KEY REFERENCES users(id),
  domains TEXT NOT NULL,
  profession TEXT NOT NULL,
  education TEXT NOT NULL,
  evidence TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  verified_by INTEGER REFERENCES users(id),
  verified_at INTEGER
);
CREATE TABLE skills (
  user_id INTEGER NOT NULL REFERENCES users(id),
  skill TEXT NOT NULL,
  granted_by INTEGER NOT NULL REFERENCES users(id),
  reason TEXT NOT NULL,
  granted_at INTEGER NOT NULL,
  revoked_by INTEGER REFERENCES users(id),
  revoked_at INTEGER,
  PRIMARY KEY (user_id, skill)
);
CREATE TABLE trial_tasks (
  id INTEGER PRIMARY KEY,
  pool_id INTEGER NOT NULL REFERENCES pools(id),
  data TEXT NOT NULL,
  gold TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX trial_tasks_pool ON trial_tasks(pool_id, id);
CREATE TABLE trial_attempts (
  id INTEGER PRIMARY KEY,
  pool_id INTEGER NOT NULL REFERENCES pools(id),
  annotator_id INTEGER NOT NULL REFERENCES users(id),
  state TEXT NOT NULL,
  score DOUBLE PRECISION,
  started_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX trial_attempts_annotator ON trial_attempts(annotator_id, pool_id, id);
CREATE TABLE trial_answers (
  attempt_id INTEGER NOT NULL REFERENCES trial_attempts(id),
  trial_task_id INTEGER NOT NULL REFERENCES trial_tasks(id),
  result TEXT NOT NULL,
  score DOUBLE PRECISION,
  feedback TEXT NOT NULL,
  active_seconds INTEGER NOT NULL,
  submitted_at INTEGER NOT NULL,
  graded_by INTEGER REFERENCES users(id),
  graded_at INTEGER,
  PRIMARY KEY (attempt_id, trial_task_id)
);
CREATE TABLE gold_checks (
  submission_id INTEGER PRIMARY KEY REFERENCES submissions(id),
  pool_id INTEGER NOT NULL REFERENCES pools(id),
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  annotator_id INTEGER NOT NULL REFERENCES users(id),
  score DOUBLE PRECISION NOT NULL,
  passed INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX gold_checks_annotator ON gold_checks(annotator_id, created_at);
ALTER TABLE claims ADD COLUMN reason TEXT;
CREATE INDEX claims_annotator_day ON claims(annotator_id, pool_id, created_at);
CREATE TABLE blocks (
  project_id INTEGER NOT NULL REFERENCES projects(id),
  annotator_id INTEGER NOT NULL REFERENCES users(id),
  reason TEXT NOT NULL,
  created_by INTEGER NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, annotator_id)
);
CREATE TABLE standing_history (
  id INTEGER PRIMARY KEY,
  annotator_id INTEGER NOT NULL REFERENCES users(id),
  domain TEXT NOT NULL,
  tier TEXT NOT NULL,
  score DOUBLE PRECISION NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX standing_history_annotator ON standing_history(annotator_id, id);
CREATE TABLE appeals (
  id INTEGER PRIMARY KEY,
  submission_id INTEGER NOT NULL UNIQUE REFERENCES submissions(id),
  annotator_id INTEGER NOT NULL REFERENCES users(id),
  note TEXT NOT NULL,
  state TEXT NOT NULL,
  decided_by INTEGER REFERENCES users(id),
  decision_note TEXT,
  created_at INTEGER NOT NULL,
  decided_at INTEGER
);
CREATE INDEX appeals_state ON appeals(state, id);
CREATE TABLE floor_topups (
  pool_id INTEGER NOT NULL REFERENCES pools(id),
  annotator_id INTEGER NOT NULL REFERENCES users(id),
  week_start INTEGER NOT NULL,
  amount_minor INTEGER NOT NULL,
  currency TEXT NOT NULL,
  journal_id INTEGER NOT NULL REFERENCES journals(id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (pool_id, annotator_id, week_start)
);
CREATE TABLE flags (
  id INTEGER PRIMARY KEY,
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  pool_id INTEGER NOT NULL REFERENCES pools(id),
  annotator_id INTEGER NOT NULL REFERENCES users(id),
  section TEXT NOT NULL,
  note TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX flags_pool ON flags(pool_id, section);
CREATE TABLE signing_keys (
  name TEXT PRIMARY KEY,
  public_key TEXT NOT NULL,
  secret_key TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
)sql";

// ---- Workforce: reviewer invitations (issue 6)
constexpr const char* kV6 = R"sql(
CREATE TABLE reviewer_invitations (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  invited_by INTEGER NOT NULL REFERENCES users(id),
  note TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined')),
  created_at INTEGER NOT NULL,
  decided_at INTEGER
);
CREATE INDEX reviewer_invitations_user ON reviewer_invitations(user_id, id);
CREATE UNIQUE INDEX reviewer_invitations_pending
  ON reviewer_invitations(user_id) WHERE state = 'pending';
)sql";
// ---- end Workforce: reviewer invitations

// Large snapshot bodies are written in parts, each in a small transaction of
// its own, before the snapshot row that names them (parts_token) commits.
constexpr const char* kV7 = R"sql(
CREATE TABLE quality_snapshot_parts (
  token TEXT NOT NULL,
  seq INTEGER NOT NULL,
  pool_id INTEGER NOT NULL REFERENCES pools(id),
  created_at INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (token, seq)
);
CREATE INDEX quality_snapshot_parts_pool ON quality_snapshot_parts(pool_id, created_at);
ALTER TABLE quality_snapshots ADD COLUMN parts_token TEXT;
)sql";

// A claim computes its annotator's standing from their submissions grouped
// by pool and day (ListReviewDays). Through submissions_annotator that read
// visited one table page per submission, inside the single writer (4 ms for
// 1,900 submissions). The index now holds every column it reads, after the
// same (annotator_id, id) key, so lists by annotator in id order still use
// it; a separate covering index instead cost 10-20% of the claim and submit
// throughput (one more index page written per submission).
constexpr const char* kV8 = R"sql(
DROP INDEX submissions_annotator;
CREATE INDEX submissions_annotator ON submissions(annotator_id, id, pool_id,
  updated_at, state, first_pass, round);
)sql";

// Index pages a claim and a submission write. Under load each group commit
// holds claims and submissions of as many annotators, and every index keyed
// by annotator first takes one page per annotator into the WAL:
// claims_annotator_day (annotator, pool, time) wrote ~10 of the ~44 pages
// of such a commit. SQLite drops it (kV9Sqlite); its reads moved:
// - The daily and all-time claim counts it served (daily caps, the gold
//   draw) come from one counter row per pool, UTC day and annotator. A
//   day's rows are neighbours, so a commit updates one or two pages of
//   them; the index by annotator changes only when a day's first claim adds
//   a row.
// - The same rows count the claims whose reason records tier newcomer, so
//   the exploration share's count of a pool's claims today reads that
//   day's rows instead of every claim of the table (there was no index for
//   it: a full scan on both backends).
// - The gold tasks an annotator claimed are found from the pool's few gold
//   tasks (tasks_gold), each looked up in claims_task_annotator.
constexpr const char* kV9 = R"sql(
CREATE TABLE claim_days (
  pool_id INTEGER NOT NULL REFERENCES pools(id),
  utc_day INTEGER NOT NULL,
  annotator_id INTEGER NOT NULL REFERENCES users(id),
  claims INTEGER NOT NULL,
  newcomer_claims INTEGER NOT NULL,
  PRIMARY KEY (pool_id, utc_day, annotator_id)
) WITHOUT ROWID;
CREATE INDEX claim_days_annotator ON claim_days(annotator_id, pool_id, utc_day);
INSERT INTO claim_days (pool_id, utc_day, annotator_id, claims,
                        newcomer_claims)
  SELECT pool_id, created_at / 86400000000, annotator_id, COUNT(*),
    SUM(CASE WHEN reason LIKE '%"tier":"newcomer"%' THEN 1 ELSE 0 END)
  FROM claims GROUP BY pool_id, created_at / 86400000000, annotator_id;
CREATE INDEX tasks_gold ON tasks(pool_id, id) WHERE gold IS NOT NULL;
)sql";
// SQLite only. PostgreSQL keeps the index: without an index by annotator it
// plans FindClaimableTask's NOT EXISTS as a sequential scan of the claims
// (an anti-join against all of the annotator's claims), where SQLite probes
// claims_task_annotator per task.
constexpr const char* kV9Sqlite = "DROP INDEX claims_annotator_day;\n";

// PostgreSQL only (SQLite removes an index entry when its row changes).
// A claim, a submission and a review change the column a partial index
// filters on (tasks.open_slots, claims.state, submissions.state), so the
// old row version's entry stays in tasks_open, claims_one_active,
// claims_expiry and submissions_pool_state until VACUUM removes it, and the
// searches for the next task, claim or review walk every such entry before
// the live ones. Autovacuum's default waits for a fifth of the table to be
// dead: 200,000 claimed tasks in a 1M-task pool. Vacuum these tables after
// each 1,000 changes plus 1% of their rows instead.
//
// And the claim's check of the annotator's earlier claims of a candidate task
// is one probe of claims_task_annotator per task on PostgreSQL too (see
// PerTaskProbe in sql_store.cc), so PostgreSQL drops claims_annotator_day,
// as SQLite did in version 9: one index fewer to write per claim, and no
// choice for the planner between probing it (cheap only while the
// annotator has few claims) and claims_task_annotator.
constexpr const char* kV10Postgres = R"sql(
DROP INDEX claims_annotator_day;
ALTER TABLE tasks SET (autovacuum_vacuum_scale_factor = 0.01,
                       autovacuum_vacuum_threshold = 1000);
ALTER TABLE claims SET (autovacuum_vacuum_scale_factor = 0.01,
                        autovacuum_vacuum_threshold = 1000);
ALTER TABLE submissions SET (autovacuum_vacuum_scale_factor = 0.01,
                             autovacuum_vacuum_threshold = 1000);
)sql";

std::string Adapt(const Dialect& dialect, const char* sql) {
  if (dialect.name != "postgres") return sql;
  return absl::StrReplaceAll(sql,
                             {{"INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY"},
                              {"INTEGER", "BIGINT"},
                              {" WITHOUT ROWID", ""}});
}

}  // namespace

std::vector<Migration> Migrations(const Dialect& dialect) {
  return {{1, "users, projects, pools, tasks, claims, review, ledger, audit",
           Adapt(dialect, kV1)},
          {2, "quality snapshots", Adapt(dialect, kV2)},
          {3, "submissions by task", Adapt(dialect, kV3)},
          {4, "task dedupe keys, pre-annotations", Adapt(dialect, kV4)},
          {5,
           "workforce: profiles, skills, trials, gold checks, claim reasons, "
           "blocks, standing history, appeals, floor top-ups, flags, signing "
           "keys",
           Adapt(dialect, kV5)},
          {6, "workforce: reviewer invitations", Adapt(dialect, kV6)},
          {7, "quality snapshot bodies in parts", Adapt(dialect, kV7)},
          {8, "submissions by annotator: covering the standing's reads",
           Adapt(dialect, kV8)},
          {9, "claim counts per day; fewer index pages per claim",
           dialect.name == "postgres" ? Adapt(dialect, kV9)
                                      : absl::StrCat(kV9, kV9Sqlite)},
          {10, "vacuum the task, claim and submission queues sooner",
           dialect.name == "postgres" ? kV10Postgres : ""}};
}

}  // namespace tessera::store
