// Internal helpers of the categorical algorithms: answers grouped by item
// (CSR layout), a deterministic split of items into parts, and a tiny
// parallel-for whose results never depend on the number of threads.
#pragma once

#include <array>
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

// Stable counting sort of answers by item, the core of GroupByItem and of
// the readers' repeat check: out[a][pos] = in[a][k] for each of the kArrays
// payload arrays (in[a] and out[a] hold item.size() entries), such that item
// j's answers are [begin[j], begin[j+1]) of out (begin gets num_items + 1
// entries), in input order. Items must be in [0, num_items); callers check.
//
// bucket_bits chooses the algorithm (tests force each; results are the
// same): 0 sorts directly (one random increment and one random write per
// answer into tables that outgrow the caches on large inputs); b > 0 first
// partitions the answers by item >> b into buckets of 2^b items (a few
// hundred sequential write streams), then sorts each bucket's slice with
// its part of `begin` in cache. Temporary memory: 2 bytes per answer plus
// the largest bucket's payload (a bucket larger than n / 8 answers makes it
// sort directly instead). -1 picks by size: partitioned once the per-item
// table outgrows L2.
template <size_t kArrays>
void SortByItem(const std::vector<int32_t>& item, int32_t num_items,
                const std::array<const int32_t*, kArrays>& in,
                const std::array<int32_t*, kArrays>& out,
                std::vector<int64_t>& begin, int bucket_bits = -1);

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

}  // namespace tessera::algo::internal
