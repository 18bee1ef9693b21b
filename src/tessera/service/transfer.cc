// Import and export use cases (see transfer.h), plus the pre-annotation
// writer the detector job uses.
#include "tessera/service/transfer.h"

#include <sodium.h>

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "tessera/base/json_util.h"
#include "tessera/base/status.h"
#include "tessera/domain/task_types.h"
#include "tessera/service/internal/access.h"
#include "tessera/service/internal/dynamic_overlap.h"
#include "tessera/service/quality.h"
#include "tessera/service/service.h"

namespace tessera::service {
namespace {

using domain::PoolState;
using domain::Role;
using internal::Audit;
using internal::ParseStored;
using nlohmann::json;
using store::Tx;

// The pool an import or export may touch: the caller's own (or any, for an
// admin or the CLI).
absl::StatusOr<domain::Pool> AccessiblePool(
    Tx& tx, const std::optional<Principal>& actor, PoolId id) {
  if (actor) return internal::OwnedPool(tx, *actor, id);
  return tx.GetPool(id);
}

// `s` (an InvalidField error from validation) restated with the item's
// origin first, keeping its field.
absl::Status AtItem(const absl::Status& s, const std::string& where) {
  std::optional<std::string> field = FieldOf(s);
  std::string message = absl::StrCat(where, ": ", s.message());
  if (field) return InvalidField(*field, message);
  return absl::InvalidArgumentError(message);
}

absl::Status ValidateItem(const domain::Pool& pool, const json& config,
                          const ImportItem& item) {
  TS_RETURN_IF_ERROR(
      domain::ValidateTaskData(pool.task_type, config, item.data, "data"));
  if (item.gold) {
    TS_RETURN_IF_ERROR(domain::ValidateGold(pool.task_type, config, item.data,
                                            *item.gold, "gold"));
  }
  if (item.draft) {
    // Drafts may carry a score per box; validate the shape without it.
    json shape = *item.draft;
    if (shape.is_object() && shape.contains("boxes") &&
        shape["boxes"].is_array()) {
      for (json& b : shape["boxes"]) {
        if (b.is_object()) b.erase("score");
      }
    }
    TS_RETURN_IF_ERROR(domain::ValidateResult(pool.task_type, config, item.data,
                                              shape, "draft"));
  }
  return absl::OkStatus();
}

json ErrorJson(const absl::Status& s) {
  json e = {{"message", std::string(s.message())}};
  if (auto f = FieldOf(s)) e["field"] = *f;
  return e;
}

}  // namespace

namespace {

// The dedupe key of data whose canonical dump is `text`.
std::string DedupeKeyOfDump(absl::string_view text) {
  unsigned char digest[16];
  crypto_generichash(digest, sizeof digest,
                     reinterpret_cast<const unsigned char*>(text.data()),
                     text.size(), nullptr, 0);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

}  // namespace

namespace {

// One item made ready for the store by the reader thread: a task (and
// draft), or why it cannot be imported (`fatal`: the import stops).
struct Prepared {
  absl::Status status;
  bool fatal = false;
  domain::Task task;
  std::optional<domain::Preannotation> draft;
};

void PrepareItem(const domain::Pool& pool, const json& config, absl::Time now,
                 ImportItem& item, Prepared& out) {
  if (absl::Status valid = ValidateItem(pool, config, item); !valid.ok()) {
    out.status = AtItem(valid, item.where);
    return;
  }
  // One canonical dump serves as the stored data and the dedupe digest.
  std::string data_json;
  AppendJson(item.data, data_json);
  out.task.dedupe_key = DedupeKeyOfDump(data_json);
  out.task.pool_id = pool.id;
  out.task.data_json = std::move(data_json);
  if (item.gold) out.task.gold_json = item.gold->dump();
  // Workforce: dynamic overlap (issue 6): `min` slots when it is on.
  out.task.open_slots = internal::InitialOpenSlots(pool, config);
  out.task.created_at = now;
  if (item.draft) {
    domain::Preannotation d;
    d.pool_id = pool.id;
    d.source = "import";
    d.model = item.draft_model;
    d.version = item.draft_version;
    d.result_json = item.draft->dump();
    d.score = item.draft_score;
    d.created_at = now;
    out.draft = std::move(d);
  }
}

// Runs the source and PrepareItem on its own thread, handing items over in
// chunks through a bounded queue, in order. The destructor stops and joins
// the thread (also when the consumer gives up early).
class ImportPipeline {
 public:
  using Prepare = std::function<void(ImportItem&, Prepared&)>;
  ImportPipeline(ImportSource& source, bool skip_invalid, Prepare prepare)
      : source_(source),
        skip_invalid_(skip_invalid),
        prepare_(std::move(prepare)) {
    thread_ = std::thread([this] { Produce(); });
  }
  ~ImportPipeline() {
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
    }
    thread_.join();
  }
  // The next item, or nullptr at the end (after a fatal item, the end).
  Prepared* Next() {
    if (pos_ < current_.size()) return &current_[pos_++];
    current_.clear();
    pos_ = 0;
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](ImportPipeline* p) { return !p->ready_.empty() || p->done_; },
        this));
    if (ready_.empty()) return nullptr;
    current_ = std::move(ready_.front());
    ready_.pop_front();
    return current_.empty() ? nullptr : &current_[pos_++];
  }

 private:
  static constexpr size_t kChunk = 256;
  static constexpr size_t kMaxChunks = 16;

  // False when cancelled.
  bool Hand(std::vector<Prepared>& chunk) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](ImportPipeline* p) {
          return p->cancelled_ || p->ready_.size() < kMaxChunks;
        },
        this));
    if (cancelled_) return false;
    ready_.push_back(std::move(chunk));
    chunk.clear();
    return true;
  }

  void Produce() {
    std::vector<Prepared> chunk;
    ImportItem item;
    try {
      while (true) {
        item = ImportItem{};
        absl::StatusOr<bool> more = source_.Next(item);
        if (more.ok() && !*more) break;
        Prepared& out = chunk.emplace_back();
        if (!more.ok()) {
          out.status = more.status();
          out.fatal = !(skip_invalid_ && absl::IsInvalidArgument(out.status));
        } else {
          prepare_(item, out);
          out.fatal = !out.status.ok() && !skip_invalid_;
        }
        const bool stop = out.fatal;
        if ((stop || chunk.size() >= kChunk) && !Hand(chunk)) return;
        if (stop) break;
      }
    } catch (const std::exception& e) {
      Prepared& out = chunk.emplace_back();
      out.status = absl::InternalError(absl::StrCat("import: ", e.what()));
      out.fatal = true;
    }
    if (!chunk.empty() && !Hand(chunk)) return;
    absl::MutexLock lock(&mu_);
    done_ = true;
  }

  ImportSource& source_;
  const bool skip_invalid_;
  Prepare prepare_;
  absl::Mutex mu_;
  std::deque<std::vector<Prepared>> ready_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // Consumer side only.
  std::vector<Prepared> current_;
  size_t pos_ = 0;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<json> Service::ImportTasks(const std::optional<Principal>& actor,
                                          PoolId pool_id, ImportSource& source,
                                          const ImportOptions& options) {
  if (actor)
    TS_RETURN_IF_ERROR(internal::RequireRole(*actor, Role::kRequester));
  absl::Time now = clock_.Now();
  json report;
  TS_RETURN_IF_ERROR(Write([&](Tx& tx) -> absl::Status {
    int64_t created = 0, duplicates = 0, skipped = 0, gold = 0, drafts = 0;
    int64_t first = 0, last = 0;
    json errors = json::array();
    TS_ASSIGN_OR_RETURN(domain::Pool pool, AccessiblePool(tx, actor, pool_id));
    if (pool.state == PoolState::kClosed) {
      return FailedPrecondition("the pool is closed");
    }
    json config = ParseStored(pool.config_json);
    TS_RETURN_IF_ERROR(source.Bind(pool, config));
    TS_RETURN_IF_ERROR(source.Rewind());
    absl::flat_hash_set<std::string> seen;
    if (options.dedupe) {
      TS_ASSIGN_OR_RETURN(auto keys, tx.ListTaskDedupeKeys(pool_id));
      seen.reserve(keys.size());
      for (std::string& k : keys) seen.insert(std::move(k));
    }
    auto skip = [&](const absl::Status& s) {
      ++skipped;
      if (errors.size() < static_cast<size_t>(options.max_reported)) {
        errors.push_back(ErrorJson(s));
      }
    };
    // Rows go to the store in batches (multi-row INSERTs); drafts follow
    // once their task has an id.
    constexpr size_t kBatch = 1024;
    std::vector<domain::Task> batch;
    std::vector<std::pair<size_t, domain::Preannotation>> batch_drafts;
    auto flush = [&]() -> absl::Status {
      if (batch.empty()) return absl::OkStatus();
      const size_t n = batch.size();
      TS_ASSIGN_OR_RETURN(std::vector<TaskId> ids,
                          tx.InsertTasks(std::move(batch)));
      batch.clear();
      if (ids.size() != n) return absl::InternalError("task ids lost");
      if (first == 0) first = ids.front().value;
      last = ids.back().value;
      created += static_cast<int64_t>(n);
      for (auto& [index, d] : batch_drafts) {
        d.task_id = ids[index];
        TS_RETURN_IF_ERROR(tx.InsertPreannotation(d).status());
        ++drafts;
      }
      batch_drafts.clear();
      return absl::OkStatus();
    };
    // A reader thread parses, validates and digests items (the source is
    // used by it alone) while this thread, the store's writer, inserts: two
    // cores instead of one. Joined before the transaction ends.
    ImportPipeline pipeline(source, options.skip_invalid,
                            [&](ImportItem& item, Prepared& out) {
                              PrepareItem(pool, config, now, item, out);
                            });
    Prepared* p;
    while ((p = pipeline.Next()) != nullptr) {
      if (!p->status.ok()) {
        if (p->fatal) return p->status;
        skip(p->status);
        continue;
      }
      if (options.dedupe && !seen.insert(*p->task.dedupe_key).second) {
        ++duplicates;
        continue;
      }
      if (p->task.gold_json) ++gold;
      if (p->draft)
        batch_drafts.emplace_back(batch.size(), std::move(*p->draft));
      batch.push_back(std::move(p->task));
      if (batch.size() >= kBatch) TS_RETURN_IF_ERROR(flush());
    }
    TS_RETURN_IF_ERROR(flush());
    if (created + duplicates + skipped == 0) {
      return InvalidField("input", "has no tasks");
    }
    report = {{"created", created},   {"duplicates", duplicates},
              {"skipped", skipped},   {"gold", gold},
              {"drafts", drafts},     {"first_task_id", first},
              {"last_task_id", last}, {"errors", std::move(errors)}};
    json summary = report;
    summary.erase("errors");
    return Audit(tx, actor ? std::optional<UserId>(actor->id) : std::nullopt,
                 "tasks.import", "pool", pool_id.value, nullptr, summary, now);
  }));
  return report;
}

absl::Status Service::ExportPool(
    const std::optional<Principal>& actor, PoolId pool_id,
    const ExportOptions& options,
    absl::FunctionRef<absl::Status(const ExportHeader&)> begin,
    absl::FunctionRef<absl::Status(const ExportTask&)> visit) {
  if (actor)
    TS_RETURN_IF_ERROR(internal::RequireRole(*actor, Role::kRequester));
  int page_size = std::max(1, options.page_size);
  return Read([&](Tx& tx) -> absl::Status {
    ExportHeader header;
    TS_ASSIGN_OR_RETURN(header.pool, AccessiblePool(tx, actor, pool_id));
    header.config = ParseStored(header.pool.config_json);
    // Aggregated answers: the quality engine over the accepted work.
    json inferred;
    absl::flat_hash_map<int64_t, const json*> by_task;
    if (options.aggregated) {
      TS_ASSIGN_OR_RETURN(auto results, tx.ListPoolResults(pool_id));
      std::erase_if(results, [](const store::PoolResult& r) {
        return r.state != domain::SubmissionState::kAccepted;
      });
      TS_ASSIGN_OR_RETURN(QualityBody q,
                          BuildQualitySnapshot(header.pool, results));
      header.quality_method = q.method;
      inferred = std::move(q.body);
      if (inferred.contains("tasks")) {
        for (const json& t : inferred["tasks"]) {
          by_task[t.value("task_id", int64_t{0})] = &t;
        }
      }
    }
    TS_RETURN_IF_ERROR(begin(header));
    int64_t after = 0;
    while (true) {
      TS_ASSIGN_OR_RETURN(auto tasks, tx.ListTasks(pool_id, after, page_size));
      if (tasks.empty()) break;
      int64_t upto = tasks.back().id.value;
      TS_ASSIGN_OR_RETURN(auto results,
                          tx.ListAcceptedResults(pool_id, after, upto));
      std::vector<domain::Preannotation> drafts;
      if (options.drafts) {
        TS_ASSIGN_OR_RETURN(drafts,
                            tx.ListPoolPreannotations(pool_id, after, upto));
      }
      size_t r = 0, d = 0;
      ExportTask out;
      for (domain::Task& task : tasks) {
        out.accepted.clear();
        out.drafts.clear();
        while (r < results.size() && results[r].task_id == task.id) {
          out.accepted.push_back(std::move(results[r++]));
        }
        while (d < drafts.size() && drafts[d].task_id == task.id) {
          out.drafts.push_back(std::move(drafts[d++]));
        }
        out.data = ParseStored(task.data_json);
        auto it = by_task.find(task.id.value);
        out.inferred = it == by_task.end() ? nullptr : it->second;
        out.task = std::move(task);
        TS_RETURN_IF_ERROR(visit(out));
      }
      after = upto;
    }
    return absl::OkStatus();
  });
}

absl::Status Service::AddPreannotation(const domain::Preannotation& draft) {
  return Write([&](Tx& tx) -> absl::Status {
    return tx.InsertPreannotation(draft).status();
  });
}

absl::StatusOr<std::vector<domain::Pool>> Service::ListDraftingPools() {
  std::vector<domain::Pool> out;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    out.clear();
    TS_ASSIGN_OR_RETURN(auto pools, tx.ListPools(std::nullopt));
    for (domain::Pool& pool : pools) {
      const bool draftable = pool.task_type == domain::TaskType::kBbox ||
                             pool.task_type == domain::TaskType::kRewrite ||
                             pool.task_type == domain::TaskType::kReference;
      if (!draftable || pool.state == PoolState::kClosed) continue;
      json config = ParseStored(pool.config_json);
      if (config.is_object() && config.contains("preannotate")) {
        out.push_back(std::move(pool));
      }
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<domain::Task>> Service::TasksToDraft(
    PoolId pool, const std::string& model, const std::string& version,
    int64_t after_id, int limit) {
  std::vector<domain::Task> out;
  TS_RETURN_IF_ERROR(Read([&](Tx& tx) -> absl::Status {
    TS_ASSIGN_OR_RETURN(out, tx.ListTasksWithoutPreannotation(
                                 pool, model, version, after_id, limit));
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace tessera::service
