// Tests of the counting sort by item: the partitioned algorithm gives
// exactly what the direct one gives, also on skewed data and empty items.
#include "tessera/algo/internal/grouping.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace tessera::algo::internal {
namespace {

struct Sorted {
  std::vector<int64_t> begin;
  std::vector<int32_t> first;
  std::vector<int32_t> second;
};

Sorted Sort(const std::vector<int32_t>& item, int32_t num_items,
            const std::vector<int32_t>& a, const std::vector<int32_t>& b,
            int bits) {
  Sorted s;
  s.first.resize(item.size());
  s.second.resize(item.size());
  SortByItem<2>(item, num_items, {a.data(), b.data()},
                {s.first.data(), s.second.data()}, s.begin, bits);
  return s;
}

// Answers k = 0..n-1 with payloads k and -k, items drawn by `pick`.
template <typename Pick>
void ExpectAllAlgorithmsAgree(int32_t num_items, size_t n, Pick pick) {
  std::vector<int32_t> item(n), a(n), b(n);
  uint64_t x = 99;
  for (size_t k = 0; k < n; ++k) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    item[k] = pick(x >> 33);
    a[k] = static_cast<int32_t>(k);
    b[k] = -static_cast<int32_t>(k);
  }
  const Sorted direct = Sort(item, num_items, a, b, 0);
  ASSERT_EQ(direct.begin.size(), static_cast<size_t>(num_items) + 1);
  ASSERT_EQ(direct.begin.back(), static_cast<int64_t>(n));
  for (int32_t j = 0; j < num_items; ++j) {
    for (int64_t p = direct.begin[j]; p < direct.begin[j + 1]; ++p) {
      ASSERT_EQ(item[direct.first[p]], j);
      if (p > direct.begin[j]) {
        ASSERT_LT(direct.first[p - 1], direct.first[p]);
      }
    }
  }
  for (int bits : {1, 4, 9, 16, -1}) {
    const Sorted s = Sort(item, num_items, a, b, bits);
    EXPECT_EQ(s.begin, direct.begin) << bits;
    EXPECT_EQ(s.first, direct.first) << bits;
    EXPECT_EQ(s.second, direct.second) << bits;
  }
}

TEST(SortByItemTest, PartitionedEqualsDirect) {
  // Every third item unanswered; the last bucket partly beyond num_items.
  ExpectAllAlgorithmsAgree(5003, 40000, [](uint64_t r) {
    return static_cast<int32_t>(r % 1667) * 3;
  });
}

TEST(SortByItemTest, PartitionedEqualsDirectOnManyItems) {
  ExpectAllAlgorithmsAgree(300000, 1000000, [](uint64_t r) {
    return static_cast<int32_t>(r % 300000);
  });
}

TEST(SortByItemTest, SkewedDataFallsBackAndStillAgrees) {
  // Half the answers on item 7: its bucket exceeds n / 8 answers.
  ExpectAllAlgorithmsAgree(300000, 400000, [](uint64_t r) {
    return r % 2 == 0 ? 7 : static_cast<int32_t>(r % 300000);
  });
}

TEST(SortByItemTest, NoAnswers) {
  const Sorted s = Sort({}, 3, {}, {}, 4);
  EXPECT_EQ(s.begin, (std::vector<int64_t>{0, 0, 0, 0}));
}

}  // namespace
}  // namespace tessera::algo::internal
