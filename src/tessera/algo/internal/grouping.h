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

// Counting sort of answers by item, the core of GroupByItem and of the
// readers' repeat check. Sets begin (num_items + 1 entries) so that item j's
// answers are [begin[j], begin[j+1]) and calls place(k, pos) once per answer
// k, from the last to the first, so each item's answers keep input order
// and no cursor array is needed. touch(pos) is called a few answers ahead of
// place(k, pos), for a prefetch (pos may not be final). Items must be in
// [0, num_items); callers check.
template <typename Touch, typename Place>
void CountingSortByItem(const std::vector<int32_t>& item, int32_t num_items,
                        std::vector<int64_t>& begin, Touch touch, Place place) {
  constexpr size_t kAhead = 16;
  const size_t n = item.size();
  begin.assign(static_cast<size_t>(num_items) + 1, 0);
  for (size_t k = 0; k < n; ++k) {
    if (k + kAhead < n) __builtin_prefetch(&begin[item[k + kAhead]], 1);
    ++begin[item[k]];
  }
  int64_t run = 0;
  for (int32_t j = 0; j < num_items; ++j) {
    run += begin[j];
    begin[j] = run;  // end of item j, until the placing pass below
  }
  begin[num_items] = run;
  for (size_t k = n; k-- > 0;) {
    if (k >= 2 * kAhead) __builtin_prefetch(&begin[item[k - 2 * kAhead]], 1);
    // >= 0: answer k - kAhead is not placed yet, so its cursor is past it.
    if (k >= kAhead) touch(begin[item[k - kAhead]] - 1);
    place(k, --begin[item[k]]);
  }
}

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
