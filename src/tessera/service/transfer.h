// Data in and out of a pool, independent of file formats: import reads tasks
// from any rewindable source in one transaction (all or nothing, or skipping
// what is invalid), export walks a pool's tasks in pages with their accepted
// work, drafts and (optionally) the quality engine's inferred answers.
// Format codecs live in transfer/; the CLI and the HTTP API share this code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "tessera/domain/types.h"
#include "tessera/store/store.h"

namespace tessera::service {

// One task as a file describes it. `where` names its origin in errors
// ("tasks.jsonl:12", "labels/000000000009.txt").
struct ImportItem {
  std::string where;
  nlohmann::json data;
  std::optional<nlohmann::json> gold;   // a known answer (result shape)
  std::optional<nlohmann::json> draft;  // a pre-annotation (result shape)
  std::string draft_model = "import";
  std::string draft_version = "1";
  std::optional<double> draft_score;
};

// Items one at a time. Next fills `item` and returns true, or false at the
// end. A malformed item is a kInvalidArgument error whose message names
// where it is; the source has then moved past it, so the caller may go on
// (skip_invalid). Any other error is fatal. Rewind starts again from the
// first item (a transaction that is retried reads the source again).
class ImportSource {
 public:
  virtual ~ImportSource() = default;
  // Called first, with the pool being imported into (its type and parsed
  // config), inside the import's transaction.
  virtual absl::Status Bind(const domain::Pool& pool,
                            const nlohmann::json& config) {
    return absl::OkStatus();
  }
  virtual absl::Status Rewind() = 0;
  virtual absl::StatusOr<bool> Next(ImportItem& item) = 0;
};

struct ImportOptions {
  // Import everything valid and report what was skipped, instead of
  // importing nothing when anything is invalid.
  bool skip_invalid = false;
  // Skip tasks whose data equals a task already in the pool (or earlier in
  // the same import).
  bool dedupe = false;
  // At most this many skipped items are listed in the report (all counted).
  int max_reported = 100;
};

// Export walk: one task with everything an exporter may need.
struct ExportTask {
  domain::Task task;
  nlohmann::json data;
  std::vector<store::PoolResult> accepted;  // final rounds, by submission id
  std::vector<domain::Preannotation> drafts;
  // The quality engine's entry for this task (see quality.h), when the
  // export asked for aggregated answers and the task has one.
  const nlohmann::json* inferred = nullptr;
};

struct ExportOptions {
  bool aggregated = false;  // attach the inferred answer of each task
  bool drafts = false;      // attach pre-annotations
  int page_size = 1000;     // tasks read per query
};

// The pool being exported, handed to the visitor before the first task.
struct ExportHeader {
  domain::Pool pool;
  nlohmann::json config;
  std::string quality_method;  // with `aggregated`: the snapshot's method
};

}  // namespace tessera::service
