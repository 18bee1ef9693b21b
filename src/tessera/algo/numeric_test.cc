// Unit tests of numeric rating aggregation and the error helpers.
#include "tessera/algo/numeric.h"

#include <cmath>

#include "gtest/gtest.h"

namespace tessera::algo {
namespace {

NumericData Make(int32_t items, int32_t workers,
                 std::vector<std::tuple<int32_t, int32_t, double>> rows) {
  NumericData d;
  d.num_items = items;
  d.num_workers = workers;
  for (auto [j, w, v] : rows) {
    d.item.push_back(j);
    d.worker.push_back(w);
    d.value.push_back(v);
  }
  return d;
}

TEST(NumericTest, MeanAndMedian) {
  const NumericData d =
      Make(3, 3, {{0, 0, 1}, {0, 1, 2}, {0, 2, 9}, {1, 0, 4}, {1, 1, 8}});
  const NumericResult mean = NumericMean(d);
  EXPECT_DOUBLE_EQ(mean.value[0], 4.0);
  EXPECT_DOUBLE_EQ(mean.value[1], 6.0);
  EXPECT_TRUE(std::isnan(mean.value[2]));  // no answers
  const NumericResult median = NumericMedian(d);
  EXPECT_DOUBLE_EQ(median.value[0], 2.0);
  EXPECT_DOUBLE_EQ(median.value[1], 6.0);  // mean of the two middle ones
  EXPECT_TRUE(std::isnan(median.value[2]));
}

TEST(NumericTest, BiasCorrectionRemovesAConstantOffset) {
  // Truth 0, 10, 20, 30; workers 0 and 1 exact, worker 2 always +12, and
  // worker 2 alone answers item 3 together with worker 0 only.
  std::vector<std::tuple<int32_t, int32_t, double>> rows;
  const double truth[] = {0, 10, 20, 30};
  for (int32_t j = 0; j < 4; ++j) {
    rows.push_back({j, 0, truth[j]});
    if (j < 3) rows.push_back({j, 1, truth[j]});
    rows.push_back({j, 2, truth[j] + 12});
  }
  const NumericData d = Make(4, 3, rows);
  const std::vector<double> t(truth, truth + 4);
  const NumericErrors plain = CompareNumeric(NumericMean(d).value, t);
  const NumericResult corrected = NumericBiasCorrectedMean(d);
  const NumericErrors fixed = CompareNumeric(corrected.value, t);
  EXPECT_LT(fixed.mae, plain.mae / 2);
  EXPECT_GT(corrected.worker_bias[2], 8.0);
  EXPECT_NEAR(corrected.worker_bias[0], 0.0, 1.0);  // the median worker
  // Items keep their order and spacing.
  EXPECT_NEAR(corrected.value[1] - corrected.value[0], 10.0, 1e-6);
}

TEST(NumericTest, MaeAndRmseOverItemsWithBoth) {
  const double nan = std::nan("");
  const NumericErrors e =
      CompareNumeric({1.0, 5.0, nan, 2.0}, {0.0, 2.0, 1.0, nan});
  EXPECT_EQ(e.evaluated, 2);
  EXPECT_DOUBLE_EQ(e.mae, 2.0);              // (1 + 3) / 2
  EXPECT_DOUBLE_EQ(e.rmse, std::sqrt(5.0));  // sqrt((1 + 9) / 2)
  EXPECT_TRUE(std::isnan(CompareNumeric({nan}, {1.0}).mae));
}

}  // namespace
}  // namespace tessera::algo
