// `tessera simulate`: a simulated crowd with hidden skills works through one
// classify pool via the real service layer (no HTTP) for a fixed budget,
// under the `uniform` or the `tessera` allocation policy (docs/cli.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "tessera/domain/standing.h"
#include "tessera/store/store.h"

namespace tessera::cli {

struct SimulateOptions {
  int workers = 300;   // simulated annotators (20% arrive over time)
  int tasks = 20000;   // tasks with a hidden true class
  int classes = 4;     // 2..20
  int64_t budget = 0;  // annotations the requester pays for; 0 = 3 x tasks
  std::string policy = "tessera";  // uniform or tessera
  uint64_t seed = 1;
  // tessera: dynamic overlap {min 2, max_overlap, confidence}.
  double confidence = 0.9;  // 0.5..0.999
  int max_overlap = 5;      // 2..100
  bool json = false;        // print one JSON object instead of a summary
  // Stop after this many consecutive steps in which no worker could get a
  // task (the pool has work only some workers may not take).
  int max_idle_steps = 0;  // 0 = 20 x workers
  // The service's standing and allocation settings (a server's [standing]
  // and [allocation]); the tier's gold bar also defines a good newcomer.
  domain::StandingPolicy standing;
};

// Opens a fresh, migrated store in the file at `path` (the composition root
// decides the backend: SQLite with durability normal).
using SimulationStoreFactory =
    std::function<absl::StatusOr<std::unique_ptr<store::Store>>(
        const std::string& path)>;

// Runs one simulation in a new temporary folder (removed afterwards) and
// returns the report:
//   {"policy", "seed", "workers", "tasks", "classes", "budget",
//    "overlap": k (uniform) | {"min", "max", "confidence"} (tessera),
//    "class_prior", "gold_tasks", "gold_classes" (the gold set's true
//    classes, counted), "accuracy", "labels", "gold_labels", "cost": Money,
//    "tasks_labelled", "labels_per_task", "method",
//    "newcomers", "newcomers_good" (good type, accuracy on the tasks at
//    least the tier's gold bar), "newcomers_promoted",
//    "median_tasks_to_promotion" (null when none was promoted),
//    "newcomers_not_promoted" (their records, with per-class hidden
//    accuracy and their gold checks in the order served),
//    "newcomers_good_below_bar", "newcomers_good_below_bar_promoted" (good
//    type below the bar), "aggregations" (snapshots by the emulated
//    aggregation job), "steps", "idle_steps", "seconds"}
// Deterministic for a seed except "seconds". kInvalidArgument (field named)
// for bad options.
absl::StatusOr<nlohmann::json> Simulate(const SimulateOptions& options,
                                        const SimulationStoreFactory& factory);

// The command: runs Simulate and prints the JSON (--json) or a summary.
// Returns the process exit code.
int RunSimulate(const SimulateOptions& options,
                const SimulationStoreFactory& factory, std::ostream& out,
                std::ostream& err);

}  // namespace tessera::cli
