// `tessera aggregate`: infers true labels (categorical, numeric), item scores
// (pairwise) or merged boxes from crowd CSV files, optionally scored against
// truth. The contract (flags, JSON keys, CSV columns) is in docs/cli.md.
#pragma once

#include <ostream>
#include <string>

namespace tessera::cli {

// The options as given on the command line; empty strings mean "default".
struct AggregateOptions {
  std::string labels_path;  // required
  // categorical (default) | numeric | pairwise | boxes
  std::string kind;
  // Per kind, the default first: categorical best|mv|wawa|ds|ocds|glad|mace;
  // numeric mean|median|bias; pairwise crowdbt|bt; boxes
  // weighted|unweighted|single.
  std::string method;
  std::string truth_path;  // optional; not for pairwise
  std::string out_path;    // optional per-item CSV, written atomically
  bool json = false;       // one JSON object on stdout instead of a summary
  // Keep every row when a worker answers an item (or pair) more than once,
  // instead of rejecting conflicting repeats.
  bool keep_repeats = false;
  int threads = 0;  // 0 = all hardware threads
};

// Runs the command. Prints the summary or JSON to `out` and errors to `err`
// as "tessera: FILE:LINE: what". Returns the exit status: 0 on success, 2
// on bad input or options (nothing written to `out` or --out), 1 on other
// failures (e.g. --out cannot be written).
int RunAggregate(const AggregateOptions& options, std::ostream& out,
                 std::ostream& err);

}  // namespace tessera::cli
