#include "tessera/base/money.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tessera/base/status.h"

namespace tessera {
namespace {

TEST(MoneyTest, ParsesAndPrints) {
  auto m = MoneyFromJson({{"amount_minor", 30}, {"currency", "CNY"}}, "price");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->amount_minor, 30);
  EXPECT_EQ(MoneyToJson(*m)["currency"], "CNY");
}

TEST(MoneyTest, RejectsNegativeFloatAndBadCurrency) {
  auto neg = MoneyFromJson({{"amount_minor", -1}}, "price");
  EXPECT_EQ(FieldOf(neg.status()), "price.amount_minor");
  auto dbl = MoneyFromJson({{"amount_minor", 0.3}}, "price");
  EXPECT_EQ(FieldOf(dbl.status()), "price.amount_minor");
  auto cur = MoneyFromJson({{"amount_minor", 1}, {"currency", "yuan"}}, "p");
  EXPECT_EQ(FieldOf(cur.status()), "p.currency");
  EXPECT_FALSE(MoneyFromJson(nlohmann::json::array(), "p").ok());
}

TEST(MoneyTest, AddChecksCurrencyAndOverflow) {
  EXPECT_EQ(Add({1, "CNY"}, {2, "CNY"})->amount_minor, 3);
  EXPECT_FALSE(Add({1, "CNY"}, {2, "USD"}).ok());
  EXPECT_FALSE(Add({INT64_MAX, "CNY"}, {1, "CNY"}).ok());
}

}  // namespace
}  // namespace tessera
