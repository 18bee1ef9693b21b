// Grouping of answers by item, deterministic partitioning and parallel-for.
#include "tessera/algo/internal/grouping.h"

#include <algorithm>
#include <atomic>
#include <thread>

namespace tessera::algo::internal {

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
  }
  g.worker.resize(n);
  g.label.resize(n);
  CountingSortByItem(
      data.item, data.num_items, g.begin,
      [&](int64_t pos) {
        __builtin_prefetch(&g.worker[pos], 1);
        __builtin_prefetch(&g.label[pos], 1);
      },
      [&](size_t k, int64_t pos) {
        const int32_t w = data.worker[k];
        const int32_t y = data.label[k];
        TESSERA_ALGO_CHECK(w >= 0 && w < data.num_workers, "worker index");
        TESSERA_ALGO_CHECK(y >= 0 && y < data.num_classes, "label index");
        g.worker[pos] = w;
        g.label[pos] = y;
      });
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

uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace tessera::algo::internal
