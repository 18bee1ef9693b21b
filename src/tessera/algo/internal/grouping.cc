// Grouping of answers by item, deterministic partitioning and parallel-for.
#include "tessera/algo/internal/grouping.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "tessera/algo/internal/memory.h"

namespace tessera::algo::internal {

namespace {

// Direct counting sort: counts per item, then places the answers from the
// last to the first (so each item's answers keep input order and no cursor
// array is needed), prefetching a few answers ahead.
template <size_t kArrays>
void SortDirect(const std::vector<int32_t>& item, int32_t num_items,
                const std::array<const int32_t*, kArrays>& in,
                const std::array<int32_t*, kArrays>& out,
                std::vector<int64_t>& begin) {
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
    if (k >= kAhead) {
      // >= 0: answer k - kAhead is not placed yet, so its cursor is past it.
      const int64_t ahead = begin[item[k - kAhead]] - 1;
      for (size_t a = 0; a < kArrays; ++a) {
        __builtin_prefetch(&out[a][ahead], 1);
      }
    }
    const int64_t pos = --begin[item[k]];
    for (size_t a = 0; a < kArrays; ++a) out[a][pos] = in[a][k];
  }
}

// Partitioned counting sort (see SortByItem). False, having done nothing,
// when one bucket holds too large a share of the answers.
template <size_t kArrays>
bool SortPartitioned(const std::vector<int32_t>& item, int32_t num_items,
                     const std::array<const int32_t*, kArrays>& in,
                     const std::array<int32_t*, kArrays>& out,
                     std::vector<int64_t>& begin, int bits) {
  const size_t n = item.size();
  const int32_t mask = (int32_t{1} << bits) - 1;
  const int64_t buckets = (static_cast<int64_t>(num_items) + mask) >> bits;
  // bucket_begin[b]: first answer of bucket b in out.
  std::vector<int64_t> bucket_begin(buckets + 1, 0);
  for (size_t k = 0; k < n; ++k) ++bucket_begin[(item[k] >> bits) + 1];
  int64_t largest = 0;
  for (int64_t b = 0; b < buckets; ++b) {
    largest = std::max(largest, bucket_begin[b + 1]);
    bucket_begin[b + 1] += bucket_begin[b];
  }
  if (largest > std::max<int64_t>(int64_t{1} << 16, n / 8)) return false;

  // Pass 1: payloads and item low bits into their buckets, in input order.
  std::vector<uint16_t> low;
  ResizeHuge(low, n);
  {
    std::vector<int64_t> cursor(bucket_begin.begin(), bucket_begin.end() - 1);
    for (size_t k = 0; k < n; ++k) {
      const int64_t pos = cursor[item[k] >> bits]++;
      low[pos] = static_cast<uint16_t>(item[k] & mask);
      for (size_t a = 0; a < kArrays; ++a) out[a][pos] = in[a][k];
    }
  }
  // Pass 2: each bucket's slice sorted by item through a scratch copy.
  begin.assign(static_cast<size_t>(num_items) + 1, 0);
  std::vector<int32_t> scratch(static_cast<size_t>(largest) * kArrays);
  for (int64_t b = 0; b < buckets; ++b) {
    const int64_t lo = bucket_begin[b], hi = bucket_begin[b + 1];
    const int64_t j0 = b << bits;
    const int64_t j1 = std::min<int64_t>(num_items, j0 + mask + 1);
    int64_t* count = &begin[j0];
    for (int64_t p = lo; p < hi; ++p) ++count[low[p]];
    int64_t run = 0;
    for (int64_t j = 0; j < j1 - j0; ++j) {
      run += count[j];
      count[j] = run;  // end of item j0 + j within the bucket
    }
    for (int64_t p = hi; p-- > lo;) {
      const int64_t pos = --count[low[p]];
      for (size_t a = 0; a < kArrays; ++a) {
        scratch[a * largest + pos] = out[a][p];
      }
    }
    for (size_t a = 0; a < kArrays; ++a) {
      std::copy_n(&scratch[a * largest], hi - lo, &out[a][lo]);
    }
    for (int64_t j = 0; j < j1 - j0; ++j) count[j] += lo;
  }
  begin[num_items] = static_cast<int64_t>(n);
  return true;
}

}  // namespace

template <size_t kArrays>
void SortByItem(const std::vector<int32_t>& item, int32_t num_items,
                const std::array<const int32_t*, kArrays>& in,
                const std::array<int32_t*, kArrays>& out,
                std::vector<int64_t>& begin, int bucket_bits) {
  if (bucket_bits < 0) {
    // Partition once begin (8 bytes per item) no longer fits L2, into about
    // 128 buckets of at least 2^12 items (the fastest on 1M and 4M items
    // here; see docs/benchmarks.md).
    bucket_bits = 0;
    if (num_items >= (1 << 17)) {
      int log2 = 0;
      while ((int64_t{1} << log2) < num_items) ++log2;
      bucket_bits = std::clamp(log2 - 7, 12, 16);
    }
  }
  TESSERA_ALGO_CHECK(bucket_bits >= 0 && bucket_bits <= 16, "bucket bits");
  if (bucket_bits > 0 &&
      SortPartitioned(item, num_items, in, out, begin, bucket_bits)) {
    return;
  }
  SortDirect(item, num_items, in, out, begin);
}

template void SortByItem<1>(const std::vector<int32_t>&, int32_t,
                            const std::array<const int32_t*, 1>&,
                            const std::array<int32_t*, 1>&,
                            std::vector<int64_t>&, int);
template void SortByItem<2>(const std::vector<int32_t>&, int32_t,
                            const std::array<const int32_t*, 2>&,
                            const std::array<int32_t*, 2>&,
                            std::vector<int64_t>&, int);

ByItem GroupByItem(const CategoricalData& data) {
  ByItem g;
  g.num_items = data.num_items;
  g.num_workers = data.num_workers;
  g.num_classes = data.num_classes;
  const size_t n = data.size();
  TESSERA_ALGO_CHECK(data.worker.size() == n, "worker size");
  TESSERA_ALGO_CHECK(data.label.size() == n, "label size");
  for (size_t k = 0; k < n; ++k) {
    TESSERA_ALGO_CHECK(data.item[k] >= 0 && data.item[k] < data.num_items,
                       "item index");
    TESSERA_ALGO_CHECK(data.worker[k] >= 0 && data.worker[k] < data.num_workers,
                       "worker index");
    TESSERA_ALGO_CHECK(data.label[k] >= 0 && data.label[k] < data.num_classes,
                       "label index");
  }
  ResizeHuge(g.worker, n);
  ResizeHuge(g.label, n);
  SortByItem<2>(data.item, data.num_items,
                {data.worker.data(), data.label.data()},
                {g.worker.data(), g.label.data()}, g.begin);
  return g;
}

std::vector<int32_t> SplitItems(const ByItem& g, int64_t accumulator_doubles) {
  // Parts pay off only when each part's answers outweigh the cost of its own
  // accumulator; at most 16 parts (enough for the cores we target).
  const int64_t answers = g.size();
  const int64_t per_part = std::max<int64_t>(accumulator_doubles * 4, 1 << 15);
  int64_t parts = std::clamp<int64_t>(answers / per_part, 1, 16);
  if (g.num_items < parts) parts = std::max(1, g.num_items);
  std::vector<int32_t> bounds;
  bounds.reserve(parts + 1);
  bounds.push_back(0);
  int32_t j = 0;
  for (int64_t p = 1; p < parts; ++p) {
    const int64_t target = answers * p / parts;
    while (j < g.num_items && g.begin[j] < target) ++j;
    bounds.push_back(std::max(j, bounds.back()));
  }
  bounds.push_back(g.num_items);
  return bounds;
}

int ResolveThreads(int threads) {
  if (threads > 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

void ParallelFor(int parts, int threads, const std::function<void(int)>& fn) {
  const int t = std::min(ResolveThreads(threads), parts);
  if (t <= 1) {
    for (int p = 0; p < parts; ++p) fn(p);
    return;
  }
  std::atomic<int> next{0};
  auto run = [&] {
    for (int p = next.fetch_add(1); p < parts; p = next.fetch_add(1)) fn(p);
  };
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  for (int i = 1; i < t; ++i) pool.emplace_back(run);
  run();
  for (auto& th : pool) th.join();
}

}  // namespace tessera::algo::internal
