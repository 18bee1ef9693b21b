// Tests of Interner: decimal names through the direct table, other names
// through the hash table, and names that move between the two as it grows.
#include "tessera/algo/dense.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace tessera::algo {
namespace {

TEST(InternerTest, NumbersInFirstAppearanceOrder) {
  Interner in;
  EXPECT_EQ(in.Intern("17"), 0);
  EXPECT_EQ(in.Intern("3"), 1);
  EXPECT_EQ(in.Intern("17"), 0);
  EXPECT_EQ(in.Intern("0"), 2);
  EXPECT_EQ(in.size(), 3);
  EXPECT_EQ(in.Name(0), "17");
  EXPECT_EQ(in.Find("3"), 1);
  EXPECT_EQ(in.Find("4"), -1);
  EXPECT_EQ(in.Find("1000000"), -1);  // beyond the direct table
}

TEST(InternerTest, NonCanonicalNumbersAreOtherNames) {
  Interner in;
  EXPECT_EQ(in.Intern("7"), 0);
  EXPECT_EQ(in.Intern("07"), 1);
  EXPECT_EQ(in.Intern("+7"), 2);
  EXPECT_EQ(in.Intern("7.0"), 3);
  EXPECT_EQ(in.Intern("1234567890"), 4);  // 10 digits: hashed
  EXPECT_EQ(in.Intern(""), 5);
  EXPECT_EQ(in.Find("07"), 1);
  EXPECT_EQ(in.Find("7"), 0);
  EXPECT_EQ(in.Find(""), 5);
  EXPECT_EQ(in.Find("1234567890"), 4);
  EXPECT_EQ(in.Name(2), "+7");
}

TEST(InternerTest, ManyTextNamesSurviveGrowth) {
  Interner in;
  for (int i = 0; i < 5000; ++i) {
    // Short names stay in one word; long ones take the other hash path.
    const std::string name = i % 2 == 0
                                 ? absl::StrCat("w", i)
                                 : absl::StrCat("a-rather-long-name-", i);
    ASSERT_EQ(in.Intern(name), i);
  }
  for (int i = 4999; i >= 0; --i) {
    const std::string name = i % 2 == 0
                                 ? absl::StrCat("w", i)
                                 : absl::StrCat("a-rather-long-name-", i);
    ASSERT_EQ(in.Find(name), i);
    ASSERT_EQ(in.Intern(name), i);
    ASSERT_EQ(in.Name(i), name);
  }
  EXPECT_EQ(in.size(), 5000);
  EXPECT_EQ(in.Find("w1"), -1);
}

// A large number is hashed while the table is small; once enough names make
// the direct table reach it, the same name must still map to the same id.
TEST(InternerTest, NumberHashedEarlyKeepsItsId) {
  Interner in;
  EXPECT_EQ(in.Intern("100000"), 0);  // above the initial limit of 65,536
  for (int i = 1; i <= 40000; ++i) {
    ASSERT_EQ(in.Intern(absl::StrCat(200000 + i)), i);
  }
  // The limit is now 4 x 40,001 names > 100,000.
  EXPECT_EQ(in.Intern("100000"), 0);
  EXPECT_EQ(in.Find("100000"), 0);
  EXPECT_EQ(in.size(), 40001);
}

TEST(InternerTest, ReserveAdmitsLargeNumbersToTheDirectTable) {
  Interner in;
  in.Reserve(1 << 20);
  EXPECT_EQ(in.Intern("4000000"), 0);
  EXPECT_EQ(in.Intern("5"), 1);
  EXPECT_EQ(in.Find("4000000"), 0);
  EXPECT_EQ(in.Find("3999999"), -1);
  Interner moved = std::move(in);
  EXPECT_EQ(moved.Find("5"), 1);
  EXPECT_EQ(moved.Name(0), "4000000");
}

}  // namespace
}  // namespace tessera::algo
