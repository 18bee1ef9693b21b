// Tests of a pool's workforce settings: defaults, validation, round trip.
#include "tessera/domain/workforce.h"

#include "gtest/gtest.h"
#include "tessera/base/status.h"
#include "tessera/domain/task_types.h"

namespace tessera::domain {
namespace {

using nlohmann::json;

TEST(WorkforceTest, DefaultsKeepThePoolOpenToEveryone) {
  auto w = ParseWorkforce(nullptr, "w");
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE(w->trial.required);
  EXPECT_EQ(w->tier_min, Tier::kNewcomer);
  EXPECT_EQ(w->gold_rate, 0);
  EXPECT_EQ(w->daily_cap, 0);
  EXPECT_FALSE(w->skill.has_value());
  EXPECT_FALSE(w->hourly_floor.has_value());
  EXPECT_EQ(w->dynamic_overlap.max, 0);
  EXPECT_DOUBLE_EQ(w->exploration_share, 0.1);
}

TEST(WorkforceTest, RoundTripsEveryKey) {
  json in = {
      {"domain", "medicine"},
      {"skill", "medicine"},
      {"trial", {{"required", true}, {"pass_threshold", 0.75}, {"tasks", 4}}},
      {"gold_rate", 0.05},
      {"tier_min", "contributor"},
      {"daily_cap", 200},
      {"break_after_minutes", 60},
      {"hourly_floor", {{"amount_minor", 15000}, {"currency", "CNY"}}},
      {"dynamic_overlap", {{"min", 2}, {"max", 5}, {"confidence", 0.9}}}};
  auto w = ParseWorkforce(in, "w");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->tier_min, Tier::kContributor);
  EXPECT_EQ(w->trial.tasks, 4);
  EXPECT_EQ(w->trial.max_tries, 3);  // default kept
  EXPECT_EQ(w->hourly_floor->amount_minor, 15000);
  json out = WorkforceToJson(*w);
  auto again = ParseWorkforce(out, "w");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(WorkforceToJson(*again), out);
  EXPECT_EQ(out["dynamic_overlap"]["max"], 5);
  EXPECT_EQ(out["skill"], "medicine");
}

TEST(WorkforceTest, BadValuesNameTheirField) {
  struct Case {
    json in;
    const char* field;
  } cases[] = {
      {{{"gold_rate", 0.9}}, "w.gold_rate"},
      {{{"gold_rate", "high"}}, "w.gold_rate"},
      {{{"tier_min", "guru"}}, "w.tier_min"},
      {{{"trial", {{"required", "yes"}}}}, "w.trial.required"},
      {{{"trial", {{"tasks", 0}}}}, "w.trial.tasks"},
      {{{"daily_cap", -1}}, "w.daily_cap"},
      {{{"dynamic_overlap", {{"min", 3}, {"max", 2}}}},
       "w.dynamic_overlap.max"},
      {{{"hourly_floor", {{"amount_minor", -5}}}},
       "w.hourly_floor.amount_minor"},
      {json::array(), "w"},
  };
  for (const Case& c : cases) {
    auto w = ParseWorkforce(c.in, "w");
    ASSERT_FALSE(w.ok()) << c.in;
    EXPECT_EQ(FieldOf(w.status()).value_or(""), c.field) << c.in;
  }
}

TEST(WorkforceTest, PoolConfigStoresTheCompleteForm) {
  auto config = NormalizePoolConfig(
      TaskType::kPairwise, {{"workforce", {{"gold_rate", 0.1}}}}, "config");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ((*config)["workforce"]["gold_rate"], 0.1);
  EXPECT_EQ((*config)["workforce"]["tier_min"], "newcomer");
  EXPECT_EQ(WorkforceOf(*config).gold_rate, 0.1);
  auto bad = NormalizePoolConfig(TaskType::kPairwise,
                                 {{"workforce", {{"tier_min", 3}}}}, "config");
  EXPECT_EQ(FieldOf(bad.status()).value_or(""), "config.workforce.tier_min");
}

}  // namespace
}  // namespace tessera::domain
