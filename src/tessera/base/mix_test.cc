#include "tessera/base/mix.h"

#include "gtest/gtest.h"

namespace tessera {
namespace {

// The reference splitmix64 sequence for seed 0: its state advances by the
// golden-ratio increment and each output is the finaliser of the new state.
TEST(Mix, SplitMix64MatchesTheReferenceSequence) {
  static_assert(SplitMix64(0) == 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(SplitMix64(0x9E3779B97F4A7C15ULL), 0x6E789E6AA1B965F4ULL);
  EXPECT_EQ(SplitMix64(2 * 0x9E3779B97F4A7C15ULL), 0x06C45D188009454FULL);
}

TEST(Mix, Mix64IsTheFinaliser) {
  EXPECT_EQ(Mix64(0), 0u);
  EXPECT_EQ(Mix64(0x9E3779B97F4A7C15ULL), SplitMix64(0));
  EXPECT_NE(Mix64(1), Mix64(2));
}

}  // namespace
}  // namespace tessera
