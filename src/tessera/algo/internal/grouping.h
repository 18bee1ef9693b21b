// Internal helpers of the categorical algorithms: answers grouped by item
// (CSR layout), a deterministic split of items into parts, and a tiny
// parallel-for whose results never depend on the number of threads.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "tessera/algo/dense.h"

// Aborts on a broken precondition (a caller bug, not bad input).
#define TESSERA_ALGO_CHECK(cond, what)                                 \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "%s:%d: check failed: %s (%s)\n", __FILE__, \
                   __LINE__, #cond, what);                             \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

namespace tessera::algo::internal {

// Answers in item order: item j's answers are [begin[j], begin[j+1]).
// Within an item, answers keep their input order.
struct ByItem {
  int32_t num_items = 0;
  int32_t num_workers = 0;
  int32_t num_classes = 0;
  std::vector<int64_t> begin;   // num_items + 1
  std::vector<int32_t> worker;  // per answer, item order
  std::vector<int32_t> label;   // per answer, item order
  int64_t size() const { return static_cast<int64_t>(worker.size()); }
};

// Counting sort by item: O(answers + items). CHECK-fails on out-of-range
// indices (a caller bug: CategoricalData must be dense and in range).
ByItem GroupByItem(const CategoricalData& data);

// Contiguous item ranges [bounds[p], bounds[p+1]) with about equal numbers of
// answers. The number of parts depends only on the data (answers and the size
// of a per-part accumulator), never on the thread count, so sums reduced part
// by part in order give bit-identical results for any number of threads.
std::vector<int32_t> SplitItems(const ByItem& g, int64_t accumulator_doubles);

// Runs fn(part) for part in [0, parts) on up to `threads` threads (0 = all
// hardware threads). fn must only write to state owned by its part.
void ParallelFor(int parts, int threads, const std::function<void(int)>& fn);

// Effective thread count for an options value (0 = hardware concurrency).
int ResolveThreads(int threads);

// SplitMix64: the seeded hash used for reproducible random choices.
uint64_t Mix64(uint64_t x);

}  // namespace tessera::algo::internal
