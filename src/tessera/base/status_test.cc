#include "tessera/base/status.h"

#include "gtest/gtest.h"

namespace tessera {
namespace {

absl::StatusOr<int> Half(int x) {
  if (x % 2) return InvalidField("x", "odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  TS_ASSIGN_OR_RETURN(int h, Half(x));
  TS_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, FieldTravelsWithTheError) {
  absl::Status s = InvalidField("tasks[2].data", "missing");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(s), "tasks[2].data");
  EXPECT_EQ(FieldOf(absl::InternalError("x")), std::nullopt);
}

TEST(StatusTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  absl::StatusOr<int> bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(FieldOf(bad.status()), "x");
}

}  // namespace
}  // namespace tessera
