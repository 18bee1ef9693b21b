// Tests of Interner: decimal names through the direct table, other names
// through the hash table, and names that move between the two as it grows.
#include "tessera/algo/dense.h"

#include <cstdint>
#include <string>
#include <vector>

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

// Random numeric ids in random order, many repeated: InternNumbers must give
// what Intern gives name by name, on a small table and on one beyond L2,
// including a number hashed before Reserve.
void ExpectInternNumbersMatchesIntern(int32_t range, size_t count) {
  Interner expected, got;
  EXPECT_EQ(expected.Intern("300000"), 0);  // hashed: above 65,536
  EXPECT_EQ(got.Intern("300000"), 0);
  expected.Reserve(range);
  got.Reserve(range);
  std::vector<int32_t> values;
  uint64_t x = 12345;
  for (size_t i = 0; i < count; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const int32_t v = static_cast<int32_t>((x >> 33) % range);
    values.push_back(i % 1000 == 7 ? 300000 : v);
  }
  std::vector<std::string> names;
  for (int32_t v : values) names.push_back(absl::StrCat(v));
  const std::vector<absl::string_view> keys(names.begin(), names.end());
  std::vector<int32_t> ids(count);
  ASSERT_EQ(got.DirectNumbers(keys.data(), count, ids.data()), count);
  ASSERT_EQ(ids, values);
  got.InternNumbers(ids.data(), ids.size());
  for (size_t i = 0; i < count; ++i) {
    ASSERT_EQ(ids[i], expected.Intern(absl::StrCat(values[i]))) << i;
  }
  ASSERT_EQ(got.size(), expected.size());
  for (int32_t id = 0; id < got.size(); ++id) {
    ASSERT_EQ(got.Name(id), expected.Name(id));
    ASSERT_EQ(got.Find(got.Name(id)), id);
  }
  EXPECT_EQ(got.Intern("300000"), 0);
  const int32_t next = got.size();
  EXPECT_EQ(got.Intern(absl::StrCat(range + 1)), next);
}

TEST(InternerTest, InternNumbersMatchesInternOnASmallTable) {
  ExpectInternNumbersMatchesIntern(100000, 250000);
}

TEST(InternerTest, InternNumbersMatchesInternOnATableBeyondL2) {
  ExpectInternNumbersMatchesIntern(1 << 20, 1500000);
}

TEST(InternerTest, DirectNumbersStopsAtTheFirstOtherName) {
  Interner in;
  int32_t v[3] = {-1, -1, -1};
  const absl::string_view a[] = {"17", "0", "017"};
  EXPECT_EQ(in.DirectNumbers(a, 3, v), 2);
  EXPECT_EQ(v[0], 17);
  EXPECT_EQ(v[1], 0);
  const absl::string_view b[] = {"x"};
  EXPECT_EQ(in.DirectNumbers(b, 1, v), 0);
  const absl::string_view c[] = {"100000"};  // above 65,536
  EXPECT_EQ(in.DirectNumbers(c, 1, v), 0);
  in.Reserve(1 << 20);
  EXPECT_EQ(in.DirectNumbers(c, 1, v), 1);
  EXPECT_EQ(v[0], 100000);
  EXPECT_EQ(in.size(), 0);
}

}  // namespace
}  // namespace tessera::algo
